"""Admin → Outbox: every queued email and SMS, how its delivery went, and a retry for failed ones.

In development the outbox is also the mailbox: with DSR_OUTBOX_SHOW_BODIES on, the message
page shows the decrypted body (that is where a developer reads a verification code).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from dsr.domain.errors import DomainError
from dsr.encryption import InvalidToken, current_cipher
from dsr.extensions import db
from dsr.models import OutboxMessage, OutboxStatus
from dsr.notify.outbox import decrypt_bodies, retry_message
from dsr.web.admin.views import bp
from dsr.web.sessions import current_actor, now

PAGE_SIZE = 50
STATUSES = [status.value for status in OutboxStatus]


class RetryForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


@bp.route("/outbox")
def outbox():
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    before = request.args.get("before", type=int)
    # Keyset pagination: newest first, each page continues below the last id shown (no OFFSET).
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE + 1)
    if status:
        query = query.where(OutboxMessage.status == OutboxStatus(status))
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = db.session.scalars(query).all()
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template(
        "admin/outbox.html",
        messages=rows[:PAGE_SIZE],
        status=status,
        statuses=STATUSES,
        older=older,
        paged=bool(before),
    )


@bp.route("/outbox/<public_id>", methods=["GET", "POST"])
def outbox_message(public_id: str):
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.public_id == public_id))
    if message is None:
        abort(404)
    form = RetryForm()
    if form.validate_on_submit():  # the only thing this page posts is "retry now"
        try:
            retry_message(db.session, current_actor(), now(), message)
        except DomainError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash("The message is queued again and goes out on the next delivery run.", "success")
        return redirect(url_for("admin.outbox_message", public_id=message.public_id))
    return render_template("admin/outbox_message.html", message=message, form=form, bodies=_bodies(message))


def _bodies(message: OutboxMessage) -> dict | None:
    """The decrypted text and HTML, when this deployment lets admins read them."""
    if not current_app.config.get("DSR_OUTBOX_SHOW_BODIES"):
        return None
    try:
        text, html = decrypt_bodies(message, current_cipher())
    except InvalidToken:
        return {"error": "The body cannot be decrypted with the configured encryption keys."}
    return {"text": text, "html": html}
