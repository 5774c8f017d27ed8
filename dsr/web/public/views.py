"""Public pages: the rights on offer, the intake form and the identity check that follows it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.extensions import db, limiter
from dsr.models import DataSubjectRequest
from dsr.services import intake
from dsr.services.requests import NewRequest
from dsr.services.verification import CodeOutcome, ResendRefused, check_code, find_link, use_link
from dsr.web.consent import consent_setup, propagate_now
from dsr.web.public.forms import CodeForm, ConfirmLinkForm, ResendForm, intake_form
from dsr.web.public.requester import (
    drafts,
    grant,
    links,
    mask_email,
    mask_phone,
    read_verify_page_token,
    verification_settings,
    verify_page_token,
)
from dsr.web.sessions import clock, now, organisation

bp = Blueprint("public", __name__)

CODE_PROBLEMS = {
    CodeOutcome.EXPIRED: "That code has expired. Ask for a new one below.",
    CodeOutcome.VOIDED: "Too many wrong attempts for that code. Ask for a new one below.",
    CodeOutcome.NO_CHALLENGE: "There is no code waiting for this request. Ask for a new one below.",
}


def limit(name: str):
    return lambda: current_app.config[name]


def gpc_signal() -> bool:
    """Global Privacy Control: the browser's standing opt-out of sale and sharing."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


@bp.route("/")
def index():
    return render_template("public/index.html")


@bp.route("/request", methods=["GET", "POST"])
@limiter.limit(limit("DSR_INTAKE_RATE_LIMIT"), methods=["POST"])
def new_request():
    profile = organisation()
    form = intake_form(profile)
    if not form.is_submitted() and request.args.get("type") in {t.value for t in profile.rights}:
        form.request_type.data = request.args["type"]
    if form.validate_on_submit():
        if form.website.data:  # only bots fill the hidden field: answer as if all went well
            return redirect(url_for("public.request_received"))
        try:
            token = intake.retry_on_taken_reference(db.session, lambda: file_and_commit(form))
        except OperationalError:
            db.session.rollback()  # nothing half-saved; the form comes back with everything typed
            flash(
                "We could not save your request just now: our database did not answer. Nothing was saved. "
                "Please press “Send request” again in a minute.",
                "error",
            )
            return render_template("public/request_form.html", form=form, gpc=gpc_signal()), 503
        return redirect(url_for("public.verify", token=token))
    return render_template("public/request_form.html", form=form, gpc=gpc_signal())


def file_and_commit(form) -> str:
    """File the form's request and commit; the token of its code-entry page."""
    filed = intake.file_request(db.session, now(), new_request_from(form), clock(), verification_settings(), links())
    token = verify_page_token(filed)  # before the commit expires the row, which would reload it
    db.session.commit()
    return token


def new_request_from(form) -> NewRequest:
    request_type = RequestType(form.request_type.data)
    answers = {
        RequestType.CORRECTION: {"corrections": form.correction_pairs()},
        RequestType.CONSENT_WITHDRAWAL: {"consent_topics": form.consent_topics.data},
        RequestType.RESTRICTION: {"purposes": form.purposes.data},
        RequestType.OBJECTION: {"purposes": form.purposes.data},
    }.get(request_type, {})
    if form.data_point.data:
        answers["data_point"] = form.data_point.data.strip()
    if form.is_agent.data:
        answers["agent_authority"] = form.agent_authority.data.strip()
    return NewRequest(
        request_type=request_type,
        jurisdiction=form.jurisdiction.data,
        requester_name=form.name.data,
        requester_email=form.email.data,
        requester_phone=form.phone_digits(),
        details=(form.details.data or "").strip(),
        form_data=answers,
        is_agent=form.is_agent.data,
        subject_name=(form.subject_name.data or "").strip() or None,
        gpc=gpc_signal(),
    )


@bp.route("/request/received")
def request_received():
    return render_template("public/request_received.html")


def request_from_verify_token(token: str) -> DataSubjectRequest:
    reference = read_verify_page_token(token)
    found = reference and db.session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == reference))
    if not found:
        abort(404)
    return found


@bp.route("/request/<token>/verify", methods=["GET", "POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"), methods=["POST"])
def verify(token: str):
    filed = request_from_verify_token(token)
    if filed.status is not Status.SUBMITTED:
        grant(filed.reference)
        return redirect(url_for("public.status_page", reference=filed.reference))
    channel = Factor.SMS if Factor.EMAIL in filed.factors else Factor.EMAIL
    form = CodeForm(channel=channel.value)
    if form.validate_on_submit() and form.channel.data == channel.value:
        result = check_code(db.session, now(), filed, channel, form.code.data, verification_settings())
        if result.outcome is CodeOutcome.ACCEPTED:
            return after_proof(filed, channel, token)
        db.session.commit()
        form.code.errors.append(
            CODE_PROBLEMS.get(result.outcome)
            or f"That code is not right. {result.attempts_left} attempt{'s' if result.attempts_left != 1 else ''} left."
        )
    staff_needed = Factor.EMAIL in filed.factors and (channel is Factor.SMS and not filed.requester_phone)
    return render_template(
        "public/verify.html",
        request_=filed,
        form=form,
        resend=ResendForm(channel=channel.value),
        channel=channel,
        staff_needed=staff_needed,
        sent_to=mask_phone(filed.requester_phone) if channel is Factor.SMS else mask_email(filed.requester_email),
    )


def after_proof(filed: DataSubjectRequest, factor: Factor, token: str):
    step = intake.prove_factor(
        db.session, now(), filed, factor, verification_settings(), links(), drafts(), consent_setup()
    )
    db.session.commit()
    propagate_now()
    if step is intake.NextStep.COMPLETED:
        grant(filed.reference)
        flash("Thank you: we have confirmed it is you, and your withdrawal has taken effect.", "success")
        return redirect(url_for("public.status_page", reference=filed.reference))
    if step is intake.NextStep.VERIFIED:
        grant(filed.reference)
        flash("Thank you: we have confirmed it is you. Your request is now with our team.", "success")
        return redirect(url_for("public.status_page", reference=filed.reference))
    if step is intake.NextStep.SMS:
        flash(f"Email confirmed. We have texted a code to {mask_phone(filed.requester_phone)}.", "success")
        return redirect(url_for("public.verify", token=token))
    grant(filed.reference)
    flash("Email confirmed. A member of our team will finish checking your identity.", "success")
    return redirect(url_for("public.status_page", reference=filed.reference))


@bp.route("/request/<token>/resend", methods=["POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"))
def resend(token: str):
    filed = request_from_verify_token(token)
    form = ResendForm()
    if form.validate_on_submit() and filed.status is Status.SUBMITTED and form.channel.data in {"email", "sms"}:
        try:
            intake.send_challenge(db.session, now(), filed, Factor(form.channel.data), verification_settings(), links())
            db.session.commit()
            flash("A new code is on its way. Earlier codes no longer work.", "success")
        except ResendRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
    return redirect(url_for("public.verify", token=token))


@bp.route("/verify/<token>", methods=["GET", "POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"), methods=["POST"])
def confirm_link(token: str):
    """The emailed link. A GET only asks; the POST confirms, so mail scanners that fetch links do nothing."""
    challenge = find_link(db.session, now(), token, verification_settings())
    if challenge is None:
        return render_template("public/link_invalid.html"), 410
    form = ConfirmLinkForm()
    if form.validate_on_submit():
        use_link(db.session, now(), challenge)
        return after_proof(challenge.request, Factor.EMAIL, verify_page_token(challenge.request))
    return render_template("public/confirm_link.html", form=form, request_=challenge.request)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        # A real table read: answers only when the database is reachable, unlocked and migrated.
        db.session.execute(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


# Register the status-page and consent routes on bp.
from dsr.web.public import download, keywords, preferences, status, unsubscribe  # noqa: E402,F401
