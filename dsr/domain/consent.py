"""Consent and limits on processing: where a grant or withdrawal came from, and the current state.

The state of a consent topic is derived from a ledger of grants and withdrawals: the latest event by
*event time* (when it happened, not when we heard of it) wins, so events that arrive late or out of
order give the same answer. At the same instant a withdrawal beats a grant (when in doubt, do not
process), then a fixed order of source and evidence picks the event shown, so the answer never
depends on the order in which rows were written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from dsr.domain.profile import ConsentTopic, OrganisationProfile

# The purpose whose consent topics a Global Privacy Control signal opts out of (CCPA §7025).
SALE_SHARING_PURPOSE = "sale_sharing"


class ConsentSource(StrEnum):
    FORM = "form"  # the request form or the preferences page
    UNSUBSCRIBE_LINK = "unsubscribe_link"  # a link in a marketing email, or its RFC 8058 one-click POST
    GPC = "gpc"  # the browser's Sec-GPC: 1 header
    SMS_KEYWORD = "sms_keyword"  # "STOP" texted back (SMS or WhatsApp)
    API = "api"  # another system of the organisation
    STAFF = "staff"  # recorded by a staff member

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]


SOURCE_LABELS = {
    ConsentSource.FORM: "form",
    ConsentSource.UNSUBSCRIBE_LINK: "unsubscribe link",
    ConsentSource.GPC: "Global Privacy Control",
    ConsentSource.SMS_KEYWORD: "text message keyword",
    ConsentSource.API: "API",
    ConsentSource.STAFF: "staff",
}


class FlagKind(StrEnum):
    """A limit a person put on the processing of their data for one purpose."""

    RESTRICTION = "restriction"  # GDPR Art. 18: keep, but do not otherwise use
    OBJECTION = "objection"  # GDPR Art. 21: stop processing for this purpose


class Entry(Protocol):
    topic: str
    granted: bool
    occurred_at: datetime
    source: ConsentSource
    evidence_ref: str | None


E = TypeVar("E", bound=Entry)


def precedence(entry: Entry) -> tuple:
    """Sort key: later events last; at the same instant the withdrawal last, then source and evidence."""
    return (entry.occurred_at, not entry.granted, str(entry.source), entry.evidence_ref or "")


def current_state(entries: Iterable[E]) -> dict[str, E]:
    """The deciding event of each topic (its latest by event time); topics without events are absent."""
    latest: dict[str, E] = {}
    for entry in entries:
        held = latest.get(entry.topic)
        if held is None or precedence(entry) > precedence(held):
            latest[entry.topic] = entry
    return latest


def gpc_topics(profile: OrganisationProfile) -> tuple[ConsentTopic, ...]:
    """What a Global Privacy Control signal opts out of: the topics of the sale/sharing purpose."""
    return tuple(t for t in profile.consent_topics if t.purpose == SALE_SHARING_PURPOSE)


_FIRST_WORD = re.compile(r"[A-Za-z]+")


def keyword_topics(profile: OrganisationProfile, message: str) -> tuple[ConsentTopic, ...]:
    """The topics a texted message withdraws: its first word is their stop keyword ("stop", "STOP.")."""
    match = _FIRST_WORD.match(message.strip())
    if match is None:
        return ()
    word = match.group(0).upper()
    return tuple(t for t in profile.consent_topics if t.stop_keyword and t.stop_keyword == word)
