"""Proving who a requester is: issuing codes and links, checking them, recording the factors.

Codes (6 digits) and link tokens are stored as keyed hashes and compared in constant time.
A code is good for 15 minutes and 5 attempts; a link for 24 hours; a new code may be asked for
after a cooldown, a few times an hour. Responses never depend on what the organisation knows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action, Status
from dsr.domain.verification import ChallengeRules, Factor, is_satisfied
from dsr.models import ChallengeState, DataSubjectRequest, VerificationChallenge
from dsr.models.insert import insert_now
from dsr.services.audit import record_event
from dsr.services.duplicates import flag_if_duplicate
from dsr.services.requests import transition


@dataclass(frozen=True)
class VerificationSettings:
    pepper: bytes  # server secret mixed into every code and link hash
    rules: ChallengeRules = field(default_factory=ChallengeRules)


class ResendRefused(DomainError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CodeOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"
    VOIDED = "voided"  # that was the last attempt: a new code is needed
    NO_CHALLENGE = "no_challenge"


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    attempts_left: int = 0


@dataclass(frozen=True)
class ChallengeSecret:
    """What the requester is sent: a code and, to verify by email, a link token. Only their hashes are stored."""

    code: str
    link_token: str | None


@dataclass(frozen=True)
class IssuedChallenge:
    challenge: VerificationChallenge
    code: str
    link_token: str | None


def new_secret(channel: Factor, purpose: str = "verify") -> ChallengeSecret:
    code = f"{secrets.randbelow(1_000_000):06d}"
    return ChallengeSecret(code, secrets.token_urlsafe(32) if channel is Factor.EMAIL and purpose == "verify" else None)


def _digest(settings: VerificationSettings, purpose: str, value: str) -> str:
    return hmac.new(settings.pepper, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _recent(session: Session, request: DataSubjectRequest, channel: Factor, since: datetime, purpose: str):
    return session.scalars(
        select(VerificationChallenge)
        .where(
            VerificationChallenge.request_id == request.id,
            VerificationChallenge.channel == channel,
            VerificationChallenge.purpose == purpose,
            VerificationChallenge.created_at > since,
        )
        .order_by(VerificationChallenge.created_at.desc(), VerificationChallenge.id.desc())
    ).all()


def issue_challenge(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    channel: Factor,
    settings: VerificationSettings,
    purpose: str = "verify",
) -> IssuedChallenge:
    """A fresh code (and, to verify by email, a link); earlier challenges for the same use stop working."""
    rules = settings.rules
    recent = _recent(session, request, channel, now - timedelta(hours=1), purpose)
    if recent and now - recent[0].created_at < rules.resend_cooldown:
        wait = int((rules.resend_cooldown - (now - recent[0].created_at)).total_seconds()) + 1
        raise ResendRefused(f"A code was sent moments ago. You can ask for another in {wait} seconds.", wait)
    if len(recent) >= rules.max_sends_per_hour:
        wait = int((recent[-1].created_at + timedelta(hours=1) - now).total_seconds()) + 1
        raise ResendRefused(
            f"You have asked for {rules.max_sends_per_hour} codes in the last hour. "
            f"Please try again in {max(1, wait // 60)} minutes.",
            wait,
        )
    for old in session.scalars(
        select(VerificationChallenge).where(
            VerificationChallenge.request_id == request.id,
            VerificationChallenge.channel == channel,
            VerificationChallenge.purpose == purpose,
            VerificationChallenge.state == ChallengeState.ACTIVE,
        )
    ):
        old.state = ChallengeState.VOID
    issued = add_challenge(session, now, request, channel, settings, new_secret(channel, purpose), purpose)
    session.flush()
    return issued


def add_challenge(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    channel: Factor,
    settings: VerificationSettings,
    secret: ChallengeSecret,
    purpose: str = "verify",
) -> IssuedChallenge:
    """Insert the challenge for `secret` and record that it was sent. No checks:
    issue_challenge makes them first, and a request inserted in this same transaction needs none, since no
    earlier challenge can refer to it (nothing to refuse, nothing to void, so no query to find that out)."""
    challenge = VerificationChallenge(
        request_id=request.id,
        channel=channel,
        purpose=purpose,
        code_hash=_digest(settings, f"code:{request.id}", secret.code),
        link_hash=_digest(settings, "link", secret.link_token) if secret.link_token else None,
        code_expires_at=now + settings.rules.code_ttl,
        link_expires_at=now + settings.rules.link_ttl if secret.link_token else None,
        created_at=now,
    )
    insert_now(session, challenge)
    record_event(
        session, Actor.system("verification"), "verification.sent", now, request, channel=channel.value, purpose=purpose
    )
    return IssuedChallenge(challenge, secret.code, secret.link_token)


def check_code(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    channel: Factor,
    code: str,
    settings: VerificationSettings,
    purpose: str = "verify",
) -> CodeCheck:
    since = request.received_at - timedelta(seconds=1)
    latest = next(iter(_recent(session, request, channel, since, purpose)), None)
    if latest is None or latest.state is ChallengeState.USED:
        return CodeCheck(CodeOutcome.NO_CHALLENGE)
    if latest.state is ChallengeState.VOID:
        return CodeCheck(CodeOutcome.VOIDED)
    if now > latest.code_expires_at:
        return CodeCheck(CodeOutcome.EXPIRED)
    latest.attempts += 1
    expected = latest.code_hash
    if hmac.compare_digest(expected, _digest(settings, f"code:{request.id}", code.strip())):
        latest.state, latest.used_at = ChallengeState.USED, now
        session.flush()
        return CodeCheck(CodeOutcome.ACCEPTED)
    left = settings.rules.max_attempts - latest.attempts
    record_event(session, Actor.requester(), "verification.wrong_code", now, request, channel=channel.value)
    if left <= 0:
        latest.state = ChallengeState.VOID
        session.flush()
        return CodeCheck(CodeOutcome.VOIDED)
    session.flush()
    return CodeCheck(CodeOutcome.WRONG, left)


def find_link(
    session: Session, now: datetime, token: str, settings: VerificationSettings
) -> VerificationChallenge | None:
    """The active, unexpired challenge a link token belongs to (None for anything else)."""
    challenge = session.scalar(
        select(VerificationChallenge).where(
            VerificationChallenge.link_hash == _digest(settings, "link", token),
            VerificationChallenge.purpose == "verify",
        )
    )
    if challenge is None or challenge.state is not ChallengeState.ACTIVE:
        return None
    if challenge.link_expires_at is None or now > challenge.link_expires_at:
        return None
    return challenge


def use_link(session: Session, now: datetime, challenge: VerificationChallenge) -> None:
    challenge.state, challenge.used_at = ChallengeState.USED, now
    session.flush()


def record_factor(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, factor: Factor) -> bool:
    """Add a proof of identity; returns True when this made the request verified."""
    request.add_factor(factor)
    record_event(session, actor, "verification.factor", now, request, factor=factor.value)
    if request.status is Status.SUBMITTED and is_satisfied(request.request_type, request.factors):
        transition(session, actor, now, request, Action.VERIFY)
        flag_if_duplicate(session, now, request)
        return True
    session.flush()
    return False
