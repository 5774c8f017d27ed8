"""The demo organisation's sample register: a few requests in every state, so `make run` opens on a
queue, a timeline and reports with something in them.

Each request is filed and worked through the same services staff use (with its audit trail and
letters in the outbox), back-dated so the queue shows work on time, due soon and overdue. Only an
empty register gets them: `flask dsr demo` runs on every `make run`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.requests import RejectionReason, RequestType
from dsr.models import DataSubjectRequest, StaffUser
from dsr.services import casework, letters
from dsr.services.requests import NewRequest, submit_request
from dsr.services.users import actor_for
from dsr.sources.demo_crm import ASHA, CHLOE, LENA, TOMAS
from dsr.web.consent import consent_setup
from dsr.web.public.requester import drafts, links
from dsr.web.sessions import bundle_policy, clock, organisation


@dataclass(frozen=True)
class Sample:
    """One request: who files it, when (days ago), and what staff did since (days ago, then the step)."""

    new: NewRequest
    received_days_ago: float
    steps: tuple[tuple[float, str], ...] = ()
    form_data: dict[str, Any] = field(default_factory=dict)


def _new(kind: RequestType, jurisdiction: str, name: str, email: str, details: str = "", **extra: Any) -> NewRequest:
    return NewRequest(kind, jurisdiction, name, email, details=details, **extra)


SAMPLES = (
    Sample(
        _new(RequestType.ACCESS, "in_dpdp", ASHA.full_name, ASHA.email, "A copy of everything you hold, please."),
        6,
        ((5.9, "verify"), (5, "claim"), (5, "start")),
    ),
    Sample(
        _new(RequestType.DELETION, "br_lgpd", TOMAS.full_name, TOMAS.email, "I closed my account; erase my data."),
        3,
        ((2.8, "verify"),),
    ),
    Sample(
        _new(RequestType.CORRECTION, "eu_gdpr", CHLOE.full_name, CHLOE.email, "I moved last spring."),
        27,
        ((26, "verify"), (25, "claim"), (25, "start")),
        {"corrections": [{"field": "Town", "value": "Villeurbanne"}]},
    ),
    Sample(
        _new(RequestType.CONSENT_WITHDRAWAL, "eu_gdpr", LENA.full_name, LENA.email, "No more newsletters."),
        2,
        ((1.9, "verify"),),
        {"consent_topics": ["marketing_email", "marketing_sms"]},
    ),
    Sample(
        _new(RequestType.ACCESS, "us_ca_ccpa", "Maya Chen", "maya.chen@example.com", "What do you know about me?"),
        52,
        ((50, "verify"), (49, "claim"), (49, "start")),
    ),
    Sample(
        _new(RequestType.PORTABILITY, "uk_gdpr", "Oliver Brown", "oliver.brown@example.co.uk", "My contacts, as CSV."),
        20,
        ((19, "verify"), (18, "request_information")),
    ),
    Sample(
        _new(RequestType.DELETION, "uk_gdpr", "Noah Smith", "noah.smith@example.co.uk", "Please delete my account."),
        0.2,
    ),
    Sample(
        _new(RequestType.ACCESS, "default", "J. Doe", "jdoe1987@example.net", "send me my file"),
        40,
        ((25, "reject"),),
    ),
    Sample(
        _new(RequestType.OBJECTION, "in_dpdp", ASHA.full_name, ASHA.email, "Stop using my data for marketing."),
        35,
        ((34, "verify"), (33, "claim"), (30, "complete")),
        {"purposes": ["marketing"]},
    ),
)


def load_sample_register(session: Session, now: datetime, admin: StaffUser) -> int:
    """File and work the sample requests unless the register already has requests; returns how many."""
    if session.scalar(select(exists().where(DataSubjectRequest.id.isnot(None)))):
        return 0
    staff = actor_for(admin)
    for sample in SAMPLES:
        moment = now - timedelta(days=sample.received_days_ago)
        new = replace(sample.new, form_data=sample.form_data)
        request = submit_request(session, Actor.requester(), moment, new, clock())
        request.acknowledged_at = moment
        for days_ago, step in sample.steps:
            STEPS[step](session, staff, now - timedelta(days=days_ago), request, admin)
    return len(SAMPLES)


def _letter(session: Session, key: str, request: DataSubjectRequest) -> letters.Draft:
    return letters.draft(session, key, request, organisation(), clock())


def _verify(session: Session, staff: Actor, moment: datetime, request: DataSubjectRequest, admin) -> None:
    note = "Demo: called the number on the account and confirmed the person's details."
    casework.verify_manually(session, staff, moment, request, note, drafts(), links(), consent_setup())


def _claim(session: Session, staff: Actor, moment: datetime, request: DataSubjectRequest, admin) -> None:
    casework.assign(session, staff, moment, request, admin)


def _start(session: Session, staff: Actor, moment: datetime, request: DataSubjectRequest, admin) -> None:
    casework.start_work(session, staff, moment, request)


def _request_information(session: Session, staff: Actor, moment: datetime, request, admin) -> None:
    letter = _letter(session, "request_information", request)
    casework.request_information(session, staff, moment, request, clock(), letter.subject, letter.body, links())


def _reject(session: Session, staff: Actor, moment: datetime, request: DataSubjectRequest, admin) -> None:
    reason = RejectionReason.UNVERIFIABLE
    letter = _letter(session, f"rejection.{reason.value}", request)
    casework.reject(session, staff, moment, request, reason, letter.subject, letter.body, links())


def _complete(session: Session, staff: Actor, moment: datetime, request: DataSubjectRequest, admin) -> None:
    letter = _letter(session, f"completion.{request.request_type.value}", request)
    casework.complete(
        session, staff, moment, request, letter.subject, letter.body, links(), bundle_policy(), consent_setup()
    )


STEPS: dict[str, Callable[..., None]] = {
    "verify": _verify,
    "claim": _claim,
    "start": _start,
    "request_information": _request_information,
    "reject": _reject,
    "complete": _complete,
}
