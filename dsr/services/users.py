"""Staff accounts: creation, password sign-in with lockout, and the admins' TOTP second factor."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor, ActorKind
from dsr.domain.errors import DomainError
from dsr.encryption import Cipher
from dsr.models import Role, StaffUser
from dsr.services.audit import record_event

MIN_PASSWORD_LENGTH = 12
TOTP_STEP_SECONDS = 30
hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = hasher.hash("not-a-real-password-for-timing")


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: StaffUser | None = None


def actor_for(user: StaffUser) -> Actor:
    return Actor(ActorKind.STAFF, user.name, user.id, user.is_admin)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if email and email.split("@")[0].lower() in password.lower():
        raise DomainError("The password must not contain the email address.")


def find_user_by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email)))


def create_user(
    session: Session, actor: Actor, now: datetime, email: str, name: str, role: Role, password: str
) -> StaffUser:
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise DomainError(f"A staff account for {email} already exists.")
    check_password_strength(password, email)
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=hasher.hash(password), created_at=now)
    session.add(user)
    session.flush()
    record_event(session, actor, "user.created", now, user=user.public_id, role=role.value)
    return user


def set_password(session: Session, actor: Actor, now: datetime, user: StaffUser, password: str) -> None:
    """Change the password and end every session the user had."""
    check_password_strength(password, user.email)
    user.password_hash = hasher.hash(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    record_event(session, actor, "user.password_changed", now, user=user.public_id)
    session.flush()


def authenticate(
    session: Session, email: str, password: str, now: datetime, max_failures: int, lockout: timedelta
) -> LoginResult:
    """Check a password; repeated failures lock the account for `lockout`."""
    user = find_user_by_email(session, email)
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if is_locked(user, now):
        _verify(_DUMMY_HASH, password)
        record_event(session, Actor.system("login"), "auth.refused_locked", now, user=user.public_id)
        return LoginResult(LoginOutcome.LOCKED, user)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
            record_event(session, Actor.system("login"), "auth.locked", now, user=user.public_id)
        else:
            record_event(session, Actor.system("login"), "auth.failed", now, user=user.public_id)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, user)
    if not user.active:
        return LoginResult(LoginOutcome.INACTIVE, user)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    return LoginResult(LoginOutcome.OK, user)


def complete_login(session: Session, user: StaffUser, now: datetime) -> None:
    """Record a sign-in that passed every factor."""
    user.last_login_at = now
    record_event(session, actor_for(user), "auth.login", now, user=user.public_id)
    session.flush()


def end_sessions(session: Session, user: StaffUser, now: datetime) -> None:
    """Signing out ends every session of the account, so a copied session cookie stops working too
    (sessions are signed cookies: nothing on the server remembers one to forget it)."""
    user.session_version += 1
    record_event(session, actor_for(user), "auth.logout", now, user=user.public_id)
    session.flush()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def start_totp_enrolment(user: StaffUser, cipher: Cipher) -> str:
    """Give the user a fresh secret to add to their authenticator; it counts once confirmed."""
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = cipher.encrypt_text(secret)
    user.totp_enabled_at = None
    user.totp_last_step = None
    return secret


def totp_secret(user: StaffUser, cipher: Cipher) -> str | None:
    return cipher.decrypt_text(user.totp_secret_encrypted) if user.totp_secret_encrypted else None


def provisioning_uri(user: StaffUser, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def is_locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def check_totp(
    session: Session,
    user: StaffUser,
    code: str,
    now: datetime,
    cipher: Cipher,
    max_failures: int | None = None,
    lockout: timedelta | None = None,
) -> bool:
    """Accept a code from the current step or one either side, never the same step twice.

    Wrong codes count towards the same lockout as wrong passwords (`max_failures`, `lockout`): the
    per-sign-in limit lives in a cookie a client can replay, so the account keeps the real count."""
    secret = totp_secret(user, cipher)
    code = code.strip().replace(" ", "")
    if secret is None or not code.isdigit() or is_locked(user, now):
        return False
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            user.failed_logins = 0
            if user.totp_enabled_at is None:
                user.totp_enabled_at = now
                record_event(session, actor_for(user), "auth.totp_enrolled", now, user=user.public_id)
            session.flush()
            return True
    record_event(session, Actor.system("login"), "auth.totp_failed", now, user=user.public_id)
    if max_failures is not None and lockout is not None:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
            record_event(session, Actor.system("login"), "auth.locked", now, user=user.public_id)
    session.flush()
    return False
