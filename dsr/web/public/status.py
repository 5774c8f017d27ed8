"""The requester's status page, reached through an emailed signed link; withdraw and reply (with files) from it."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Status
from dsr.domain.uploads import ALLOWED_TEXT, UploadLimits
from dsr.domain.verification import Factor, next_factor
from dsr.encryption import current_cipher
from dsr.extensions import db, limiter
from dsr.models import DataSubjectRequest
from dsr.services import attachments, intake
from dsr.services.audit import record_event
from dsr.services.bundles import download_refusal, latest_bundle
from dsr.web.public.forms import DownloadForm, ReplyForm, StatusLookupForm, WithdrawForm
from dsr.web.public.requester import grant, has_grant, links, read_status_token
from dsr.web.public.views import bp, limit
from dsr.web.sessions import clock, now

STATUS_TEXT = {
    Status.SUBMITTED: "We are waiting for you to confirm your identity.",
    Status.VERIFIED: "Your identity is confirmed. Your request is in our queue.",
    Status.IN_PROGRESS: "We are working on your request.",
    Status.AWAITING_REQUESTER: "We need more information from you: please reply below.",
    Status.COMPLETED: "Your request is complete.",
    Status.REJECTED: "We could not carry out your request. Our message below explains why.",
    Status.WITHDRAWN: "You withdrew this request.",
    Status.EXPIRED: "This request expired because your identity was not confirmed in time.",
}
# Submitted, but the requester has done their part: only a staff member can finish the identity check.
WITH_STAFF_TEXT = "We have what we need from you for now: our team is checking your identity."


@bp.route("/status", methods=["GET", "POST"])
@limiter.limit(limit("DSR_STATUS_RATE_LIMIT"), methods=["POST"])
def check_status():
    """Ask for a status link. The answer is the same whether or not the details match."""
    form = StatusLookupForm()
    if form.validate_on_submit():
        found = intake.find_for_status(db.session, form.reference.data, form.email.data)
        if found is not None:
            intake.send_status_link(db.session, now(), found, links())
        else:
            record_event(db.session, Actor.requester(), "requester.status_link_unmatched", now())
        db.session.commit()
        return render_template("public/status_link_sent.html")
    return render_template("public/status_lookup.html", form=form)


@bp.route("/status/<token>")
def open_status(token: str):
    reference = read_status_token(token)
    if reference is None:
        flash("That link has expired or is not valid. Ask for a new one below.", "error")
        return redirect(url_for("public.check_status"))
    grant(reference)
    return redirect(url_for("public.status_page", reference=reference))


def granted_request(reference: str) -> DataSubjectRequest | None:
    if not has_grant(reference):
        return None
    return db.session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == reference))


@bp.route("/my-request/<reference>")
def status_page(reference: str):
    found = granted_request(reference)
    if found is None:
        flash("For your privacy, open your request from the link we emailed you, or ask for a new link.", "info")
        return redirect(url_for("public.check_status"))
    return render_page(found, ReplyForm(), WithdrawForm())


def waits_for_staff(found: DataSubjectRequest) -> bool:
    """Submitted, the email confirmed, and no code left to ask the requester for."""
    has_phone = bool(found.requester_phone)
    return (
        found.status is Status.SUBMITTED
        and Factor.EMAIL in found.factors
        and next_factor(found.request_type, found.factors, has_phone=has_phone) is None
    )


def render_page(
    found: DataSubjectRequest,
    reply_form: ReplyForm,
    withdraw_form: WithdrawForm,
    status: int = 200,
    download_form: DownloadForm | None = None,
):
    bundle = latest_bundle(db.session, found) if found.status is Status.COMPLETED else None
    return render_template(
        "public/status.html",
        request_=found,
        bundle=bundle if bundle is not None and bundle.released_at else None,
        download_refusal=download_refusal(bundle, now()) if bundle is not None else None,
        download_form=download_form or DownloadForm(formdata=None),
        status_text=WITH_STAFF_TEXT if waits_for_staff(found) else STATUS_TEXT[found.status],
        messages=intake.visible_messages(db.session, found),
        reply_form=reply_form,
        upload_limits=upload_limits(),
        allowed_files=ALLOWED_TEXT,
        withdraw_form=withdraw_form,
        email_confirmed=Factor.EMAIL in found.factors,
    ), status


@bp.route("/my-request/<reference>/withdraw", methods=["POST"])
def withdraw(reference: str):
    found = granted_request(reference)
    if found is None:
        return redirect(url_for("public.check_status"))
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_page(found, ReplyForm(formdata=None), form, 400)
    if found.status.is_open:
        intake.withdraw(db.session, now(), found)
        db.session.commit()
        flash("Your request has been withdrawn. We have emailed you a confirmation.", "success")
    return redirect(url_for("public.status_page", reference=reference))


def upload_limits() -> UploadLimits:
    config = current_app.config
    return UploadLimits(
        max_bytes=config["DSR_UPLOAD_MAX_BYTES"],
        max_files=config["DSR_UPLOAD_MAX_FILES"],
        max_per_request=config["DSR_UPLOAD_MAX_PER_REQUEST"],
    )


@bp.route("/my-request/<reference>/reply", methods=["POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"))
def reply(reference: str):
    found = granted_request(reference)
    if found is None:
        return redirect(url_for("public.check_status"))
    form = ReplyForm(limits=upload_limits())
    if found.status not in intake.REPLY_STATUSES:
        flash("This request is closed or not yet confirmed, so it cannot take messages.", "info")
        return redirect(url_for("public.status_page", reference=reference))
    if not form.validate_on_submit():
        return render_page(found, form, WithdrawForm(formdata=None), 400)
    try:
        files = save_reply(found, form)
    except DomainError as refused:  # e.g. the request already holds as many files as it may
        db.session.rollback()
        form.attachments.errors = [str(refused)]
        return render_page(found, form, WithdrawForm(formdata=None), 400)
    flash(
        "Thank you. Your message has been added to your request"
        + (f", with {files} file{'s' if files != 1 else ''}." if files else "."),
        "success",
    )
    return redirect(url_for("public.status_page", reference=reference))


def save_reply(found: DataSubjectRequest, form: ReplyForm) -> int:
    """The message and its files in one transaction; files written for a failed one are deleted again."""
    store = attachments.UploadStore.from_config(current_app.config, current_cipher())
    with store.removed_on_failure():
        message = intake.reply(db.session, now(), found, form.body.data or "", clock())
        kept = attachments.attach(db.session, now(), found, message, form.files(), store, upload_limits())
        db.session.commit()
    return len(kept)
