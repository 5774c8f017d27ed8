"""Identity assurance: which proofs each request type needs before work may start.

A request is verified once the factors it has collected cover one of its type's alternatives,
or a staff member has recorded a documented manual verification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from dsr.domain.requests import RequestType


class Factor(StrEnum):
    EMAIL = "email"  # a code or single-use link sent to the requester's email
    SMS = "sms"  # a code sent by SMS to the phone given on the form
    DATA_POINT = "data_point"  # another detail (customer number…) matched against the organisation's records
    MANUAL = "manual"  # a staff member's documented manual verification

    @property
    def label(self) -> str:
        return {
            "email": "email address confirmed",
            "sms": "phone number confirmed",
            "data_point": "account detail matched",
            "manual": "verified by staff",
        }[self.value]


Alternatives = tuple[frozenset[Factor], ...]
_EMAIL = frozenset({Factor.EMAIL})
_EMAIL_PLUS_ONE: Alternatives = (frozenset({Factor.EMAIL, Factor.SMS}), frozenset({Factor.EMAIL, Factor.DATA_POINT}))

# Consent withdrawal and objection need at most the email link; access, portability, correction and
# restriction need the email plus one more matching detail; deletion needs two factors (or staff).
DEFAULT_ASSURANCE: dict[RequestType, Alternatives] = {
    RequestType.CONSENT_WITHDRAWAL: (_EMAIL,),
    RequestType.OBJECTION: (_EMAIL,),
    RequestType.ACCESS: _EMAIL_PLUS_ONE,
    RequestType.PORTABILITY: _EMAIL_PLUS_ONE,
    RequestType.CORRECTION: _EMAIL_PLUS_ONE,
    RequestType.RESTRICTION: _EMAIL_PLUS_ONE,
    RequestType.DELETION: (frozenset({Factor.EMAIL, Factor.SMS}),),
}


def is_satisfied(request_type: RequestType, factors: Iterable[Factor], policy=DEFAULT_ASSURANCE) -> bool:
    have = frozenset(factors)
    return Factor.MANUAL in have or any(alternative <= have for alternative in policy[request_type])


def next_factor(request_type: RequestType, factors: Iterable[Factor], has_phone: bool, policy=DEFAULT_ASSURANCE):
    """The factor to ask the requester for next, or None when only staff can take it further."""
    have = frozenset(factors)
    if is_satisfied(request_type, have, policy):
        return None
    if Factor.EMAIL not in have:
        return Factor.EMAIL
    wants_sms = any(Factor.SMS in alternative for alternative in policy[request_type])
    return Factor.SMS if wants_sms and has_phone and Factor.SMS not in have else None


def needs_phone(request_type: RequestType, policy=DEFAULT_ASSURANCE) -> bool:
    """True when every way to verify this type automatically goes through an SMS code."""
    return all(Factor.SMS in alternative for alternative in policy[request_type])


@dataclass(frozen=True)
class ChallengeRules:
    code_ttl: timedelta = timedelta(minutes=15)
    link_ttl: timedelta = timedelta(hours=24)
    max_attempts: int = 5
    resend_cooldown: timedelta = timedelta(seconds=60)
    max_sends_per_hour: int = 5
