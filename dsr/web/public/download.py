"""The requester downloads their bundle: a fresh emailed code each time, a few times, for a few days."""

from __future__ import annotations

from flask import flash, redirect, url_for

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Status
from dsr.domain.verification import Factor
from dsr.extensions import db, limiter
from dsr.services import intake
from dsr.services.bundles import download_refusal, latest_bundle, record_download
from dsr.services.verification import CodeOutcome, ResendRefused, check_code
from dsr.web.downloads import stream_bundle
from dsr.web.public.forms import DownloadForm, ReplyForm, WithdrawForm
from dsr.web.public.requester import verification_settings
from dsr.web.public.status import granted_request, render_page
from dsr.web.public.views import CODE_PROBLEMS, bp, limit
from dsr.web.sessions import now


def downloadable(reference: str):
    found = granted_request(reference)
    if found is None or found.status is not Status.COMPLETED:
        return found, None, "There is no data file to download for this request."
    bundle = latest_bundle(db.session, found)
    return found, bundle, download_refusal(bundle, now())


@bp.route("/my-request/<reference>/download-code", methods=["POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"))
def download_code(reference: str):
    found, bundle, refusal = downloadable(reference)
    if found is None:
        return redirect(url_for("public.check_status"))
    if refusal:
        flash(refusal, "error")
    else:  # CSRFProtect has already checked the token of every POST
        try:
            intake.send_download_code(db.session, now(), found, verification_settings())
            db.session.commit()
            flash("We have emailed you a 6-digit code. Enter it below to download your data.", "success")
        except ResendRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
    return redirect(url_for("public.status_page", reference=reference, _anchor="download"))


@bp.route("/my-request/<reference>/download", methods=["POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"))
def download(reference: str):
    found, bundle, refusal = downloadable(reference)
    if found is None:
        return redirect(url_for("public.check_status"))
    form = DownloadForm()
    if refusal:
        flash(refusal, "error")
        return redirect(url_for("public.status_page", reference=reference))
    if not form.validate_on_submit():
        return render_page(found, ReplyForm(formdata=None), WithdrawForm(formdata=None), 400, download_form=form)
    result = check_code(db.session, now(), found, Factor.EMAIL, form.code.data, verification_settings(), "download")
    if result.outcome is not CodeOutcome.ACCEPTED:
        db.session.commit()
        form.code.errors.append(
            CODE_PROBLEMS.get(result.outcome) or f"That code is not right. {result.attempts_left} left."
        )
        return render_page(found, ReplyForm(formdata=None), WithdrawForm(formdata=None), 400, download_form=form)
    try:
        record_download(db.session, Actor.requester(), now(), bundle)
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("public.status_page", reference=reference))
    db.session.commit()
    return stream_bundle(bundle, f"{found.reference}.zip")
