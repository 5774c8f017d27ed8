"""Staff accounts: hashing, lockout, TOTP with replay protection, session invalidation."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.encryption import Cipher
from dsr.models import AuditEvent, Role
from dsr.services import users
from dsr.services.users import LoginOutcome
from tests.factories import PASSWORD, make_user

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
LOCKOUT = timedelta(minutes=15)
cipher = Cipher.from_config({"SECRET_KEY": "x" * 32})


def login(session, password=PASSWORD, now=NOW, email="sam@acme-crm.example"):
    result = users.authenticate(session, email, password, now, 5, LOCKOUT)
    session.commit()
    return result


def test_password_is_stored_as_argon2(session):
    user = make_user(session)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_duplicate_email_and_weak_password_refused(session):
    make_user(session)
    with pytest.raises(DomainError, match="already exists"):
        make_user(session, email="SAM@acme-crm.example")
    with pytest.raises(DomainError, match="12 characters"):
        make_user(session, email="new@acme-crm.example", password="short")


def test_login_with_any_email_case(session):
    make_user(session)
    assert login(session, email="Sam@ACME-crm.example").outcome is LoginOutcome.OK


def test_unknown_email_and_wrong_password_look_the_same(session):
    make_user(session)
    assert login(session, email="nobody@acme-crm.example").outcome is LoginOutcome.BAD_CREDENTIALS
    assert login(session, password="wrong password!").outcome is LoginOutcome.BAD_CREDENTIALS


def test_five_failures_lock_the_account_even_for_the_right_password(session):
    make_user(session)
    for minute in range(5):
        assert (
            login(session, "wrong password!", NOW + timedelta(minutes=minute)).outcome is LoginOutcome.BAD_CREDENTIALS
        )
    assert login(session, PASSWORD, NOW + timedelta(minutes=6)).outcome is LoginOutcome.LOCKED
    assert login(session, PASSWORD, NOW + timedelta(minutes=4 + 15, seconds=1)).outcome is LoginOutcome.OK
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("auth.failed") == 4 and "auth.locked" in actions and "auth.refused_locked" in actions


def test_inactive_account_cannot_sign_in(session):
    user = make_user(session)
    user.active = False
    session.commit()
    assert login(session).outcome is LoginOutcome.INACTIVE


def test_password_change_ends_existing_sessions(session):
    user = make_user(session)
    old_id = user.get_id()
    users.set_password(session, Actor.system("tests"), NOW, user, "another long passphrase")
    assert user.get_id() != old_id
    with pytest.raises(DomainError):
        users.set_password(session, Actor.system("tests"), NOW, user, "tiny")


def test_totp_enrolment_then_codes_cannot_be_replayed(session):
    user = make_user(session, email="ada@acme-crm.example", role=Role.ADMIN)
    secret = users.start_totp_enrolment(user, cipher)
    assert secret not in user.totp_secret_encrypted  # encrypted at rest
    assert not user.has_totp
    totp = pyotp.TOTP(secret)
    assert not users.check_totp(session, user, "000000" if totp.at(NOW) != "000000" else "111111", NOW, cipher)
    code = totp.at(NOW)
    assert users.check_totp(session, user, code, NOW, cipher)
    assert user.has_totp
    assert not users.check_totp(session, user, code, NOW, cipher), "the same code must not work twice"
    assert users.check_totp(session, user, totp.at(NOW + timedelta(seconds=30)), NOW + timedelta(seconds=30), cipher)
    assert not users.check_totp(session, user, totp.at(NOW - timedelta(minutes=5)), NOW + timedelta(seconds=60), cipher)
