"""Sign-in (password, then TOTP for admins), TOTP enrolment and sign-out."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from dsr.encryption import current_cipher
from dsr.extensions import db, limiter
from dsr.models import StaffUser
from dsr.services import users
from dsr.web.auth.forms import LoginForm, TotpForm
from dsr.web.security import is_safe_next
from dsr.web.sessions import load_user, now

bp = Blueprint("auth", __name__)
PENDING = "pending_login"
MAX_TOTP_ATTEMPTS = 5
PENDING_SECONDS = 300  # the password step is good for five minutes
BAD_LOGIN = (
    "That email and password do not match an active account, "
    "or the account is locked for a while after too many attempts."
)


def login_limit() -> str:
    return current_app.config["DSR_LOGIN_RATE_LIMIT"]


def landing_for(user: StaffUser, target: str | None) -> str:
    if is_safe_next(target):
        return target
    return url_for("admin.home") if user.is_admin else url_for("staff.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(landing_for(current_user, request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        result = users.authenticate(
            db.session,
            form.email.data,
            form.password.data,
            now(),
            config["DSR_LOGIN_MAX_FAILURES"],
            timedelta(minutes=config["DSR_LOGIN_LOCKOUT_MINUTES"]),
        )
        if result.outcome is not users.LoginOutcome.OK:
            db.session.commit()
            flash(BAD_LOGIN, "error")
            return render_template("auth/login.html", form=form), 200
        user = result.user
        target = request.args.get("next")
        if user.is_admin and config["DSR_ADMIN_TOTP_REQUIRED"]:
            session.clear()
            session[PENDING] = {
                "user": user.get_id(),
                "next": target if is_safe_next(target) else None,
                "tries": 0,
                "since": now().timestamp(),
            }
            db.session.commit()
            return redirect(url_for("auth.totp"))
        return finish_login(user, target)
    return render_template("auth/login.html", form=form)


def finish_login(user: StaffUser, target: str | None):
    users.complete_login(db.session, user, now())
    db.session.commit()
    session.clear()  # a fresh session on every sign-in: nothing planted before it survives
    login_user(user)
    flash(f"Signed in as {user.name}.", "success")
    return redirect(landing_for(user, target))


def pending_user() -> StaffUser:
    pending = session.get(PENDING)
    fresh = pending is not None and now().timestamp() - pending["since"] < PENDING_SECONDS
    user = load_user(pending["user"]) if fresh else None
    if user is None:
        abort(redirect(url_for("auth.login")))
    return user


@bp.route("/totp", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def totp():
    user = pending_user()
    cipher = current_cipher()
    enrolling = not user.has_totp
    if enrolling and user.totp_secret_encrypted is None:
        users.start_totp_enrolment(user, cipher)
        db.session.commit()
    form = TotpForm()
    if form.validate_on_submit():
        config = current_app.config
        lockout = timedelta(minutes=config["DSR_LOGIN_LOCKOUT_MINUTES"])
        if users.check_totp(db.session, user, form.code.data, now(), cipher, config["DSR_LOGIN_MAX_FAILURES"], lockout):
            target = session[PENDING]["next"]
            return finish_login(user, target)
        db.session.commit()
        session[PENDING]["tries"] += 1
        session.modified = True
        if session[PENDING]["tries"] >= MAX_TOTP_ATTEMPTS or users.is_locked(user, now()):
            session.pop(PENDING)
            flash("Too many wrong codes. Please sign in again.", "error")
            return redirect(url_for("auth.login"))
        form.code.errors.append("That code is not right or has already been used. Try the next one your app shows.")
    secret = users.totp_secret(user, cipher) if enrolling else None
    return render_template(
        "auth/totp.html",
        form=form,
        enrolling=enrolling,
        secret=secret,
        qr_url=url_for("auth.totp_qr") if enrolling else None,
    )


@bp.route("/totp/qr.svg")
def totp_qr():
    """The enrolment QR code as SVG, served only while enrolment is pending."""
    user = pending_user()
    if user.has_totp:
        abort(404)
    secret = users.totp_secret(user, current_cipher())
    buffer = BytesIO()
    segno.make(users.provisioning_uri(user, secret, current_app.config["DSR_TOTP_ISSUER"])).save(
        buffer, kind="svg", scale=5, title="Authenticator QR code"
    )
    return buffer.getvalue(), 200, {"Content-Type": "image/svg+xml"}


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        users.end_sessions(db.session, current_user._get_current_object(), now())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
