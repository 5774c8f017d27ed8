"""Codes and links: hashed, single-use, expiring, attempt-limited and rate-limited."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.models import VerificationChallenge
from dsr.services.verification import (
    CodeOutcome,
    ResendRefused,
    VerificationSettings,
    check_code,
    find_link,
    issue_challenge,
    record_factor,
    use_link,
)
from tests.factories import make_request

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SETTINGS = VerificationSettings(pepper=b"p" * 32)


@pytest.fixture
def filed(session):
    return make_request(session, T0, RequestType.DELETION)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_codes_and_links_are_stored_only_as_keyed_hashes(session, filed):
    issued = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    row = session.get(VerificationChallenge, issued.challenge.id)
    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.code not in row.code_hash and issued.link_token not in row.link_hash
    other = VerificationSettings(pepper=b"q" * 32)
    assert check_code(session, T0, filed, Factor.EMAIL, issued.code, other).outcome is CodeOutcome.WRONG


def test_right_code_is_accepted_once(session, filed):
    issued = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    assert check_code(session, T0, filed, Factor.EMAIL, f" {issued.code} ", SETTINGS).outcome is CodeOutcome.ACCEPTED
    assert check_code(session, T0, filed, Factor.EMAIL, issued.code, SETTINGS).outcome is CodeOutcome.NO_CHALLENGE


def test_five_wrong_codes_void_the_challenge(session, filed):
    issued = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    results = [check_code(session, T0, filed, Factor.EMAIL, wrong(issued.code), SETTINGS) for _ in range(5)]
    assert [r.attempts_left for r in results[:4]] == [4, 3, 2, 1]
    assert results[4].outcome is CodeOutcome.VOIDED
    assert check_code(session, T0, filed, Factor.EMAIL, issued.code, SETTINGS).outcome is CodeOutcome.VOIDED


def test_code_expires_after_15_minutes(session, filed):
    issued = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    late = T0 + timedelta(minutes=15, seconds=1)
    assert check_code(session, late, filed, Factor.EMAIL, issued.code, SETTINGS).outcome is CodeOutcome.EXPIRED


def test_link_works_for_24_hours_and_only_once(session, filed):
    issued = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    assert find_link(session, T0 + timedelta(hours=24, seconds=1), issued.link_token, SETTINGS) is None
    challenge = find_link(session, T0 + timedelta(hours=23), issued.link_token, SETTINGS)
    assert challenge is not None
    use_link(session, T0 + timedelta(hours=23), challenge)
    assert find_link(session, T0 + timedelta(hours=23), issued.link_token, SETTINGS) is None
    assert find_link(session, T0, "made-up-token", SETTINGS) is None


def test_resend_cooldown_and_hourly_cap(session, filed):
    first = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    with pytest.raises(ResendRefused, match="in 31 seconds") as refused:
        issue_challenge(session, T0 + timedelta(seconds=30), filed, Factor.EMAIL, SETTINGS)
    assert refused.value.retry_after == 31
    moment = T0
    for _ in range(4):
        moment += timedelta(seconds=61)
        issue_challenge(session, moment, filed, Factor.EMAIL, SETTINGS)
    with pytest.raises(ResendRefused, match="5 codes in the last hour"):
        issue_challenge(session, moment + timedelta(seconds=61), filed, Factor.EMAIL, SETTINGS)
    # An hour after the first one, a sixth code may be sent.
    assert first.challenge.created_at == T0
    issue_challenge(session, T0 + timedelta(hours=1, seconds=1), filed, Factor.EMAIL, SETTINGS)


def test_old_code_stops_working_after_a_resend(session, filed):
    first = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    second = issue_challenge(session, T0 + timedelta(seconds=61), filed, Factor.EMAIL, SETTINGS)
    if first.code != second.code:
        outcome = check_code(session, T0 + timedelta(seconds=62), filed, Factor.EMAIL, first.code, SETTINGS).outcome
        assert outcome is CodeOutcome.WRONG
    assert find_link(session, T0 + timedelta(seconds=62), first.link_token, SETTINGS) is None


def test_deletion_is_verified_only_with_both_factors(session, filed):
    assert not record_factor(session, Actor.requester(), T0, filed, Factor.EMAIL)
    assert filed.status is Status.SUBMITTED and filed.verified_at is None
    assert record_factor(session, Actor.requester(), T0 + timedelta(minutes=2), filed, Factor.SMS)
    session.commit()
    assert filed.status is Status.VERIFIED
    assert filed.verified_at == T0 + timedelta(minutes=2)
    assert filed.due_on is not None
    assert filed.factors == {Factor.EMAIL, Factor.SMS}


def test_challenges_are_per_channel(session, filed):
    email = issue_challenge(session, T0, filed, Factor.EMAIL, SETTINGS)
    sms = issue_challenge(session, T0, filed, Factor.SMS, SETTINGS)
    assert sms.link_token is None
    if email.code != sms.code:
        assert check_code(session, T0, filed, Factor.SMS, email.code, SETTINGS).outcome is CodeOutcome.WRONG
    assert check_code(session, T0, filed, Factor.SMS, sms.code, SETTINGS).outcome is CodeOutcome.ACCEPTED
    assert check_code(session, T0, filed, Factor.EMAIL, email.code, SETTINGS).outcome is CodeOutcome.ACCEPTED
    channels = session.scalars(select(VerificationChallenge.channel)).all()
    assert sorted(channels) == ["email", "sms"]
