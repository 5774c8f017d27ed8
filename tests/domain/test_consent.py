"""The consent state is derived from the ledger by event time, whatever order the events arrive in."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsr.domain.consent import ConsentSource, current_state, gpc_topics, keyword_topics
from dsr.services.organisation import load_profile

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
DEMO = load_profile(Path(__file__).resolve().parents[2] / "profiles" / "demo.yaml")


@dataclass(frozen=True)
class E:
    topic: str
    granted: bool
    occurred_at: datetime
    source: ConsentSource = ConsentSource.FORM
    evidence_ref: str | None = None


def states(events) -> dict[str, bool]:
    return {topic: event.granted for topic, event in current_state(events).items()}


LEDGER = [
    E("marketing_email", True, T0),
    E("marketing_email", False, T0 + timedelta(days=3), ConsentSource.UNSUBSCRIBE_LINK, "<m1@acme>"),
    E("marketing_email", True, T0 + timedelta(days=2), ConsentSource.API, "crm-17"),  # arrives late, older
    E("marketing_sms", True, T0 + timedelta(days=1)),
    E("marketing_sms", False, T0 + timedelta(days=1), ConsentSource.SMS_KEYWORD, "sms:SM1"),  # same instant
    E("sale_sharing", False, T0, ConsentSource.GPC, "DSR-2026-AAAA-BBBB"),
]


def test_the_latest_event_by_event_time_decides_each_topic():
    assert states(LEDGER) == {"marketing_email": False, "marketing_sms": False, "sale_sharing": False}
    assert current_state(LEDGER)["marketing_email"].source is ConsentSource.UNSUBSCRIBE_LINK


def test_every_arrival_order_gives_the_same_state_and_the_same_deciding_event():
    expected = current_state(LEDGER)
    orders = list(itertools.permutations(LEDGER))
    assert len(orders) == 720
    assert all(current_state(arrived) == expected for arrived in orders)


def test_at_the_same_instant_a_withdrawal_beats_a_grant():
    grant, withdrawal = E("t", True, T0, ConsentSource.API), E("t", False, T0, ConsentSource.FORM)
    assert states([grant, withdrawal]) == states([withdrawal, grant]) == {"t": False}


def test_a_later_grant_restores_consent_and_a_topic_without_events_is_absent():
    assert states([E("t", False, T0), E("t", True, T0 + timedelta(seconds=1))]) == {"t": True}
    assert current_state([]) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", {"marketing_sms", "marketing_whatsapp"}),
        ("stop", {"marketing_sms", "marketing_whatsapp"}),
        ("  Stop. ", {"marketing_sms", "marketing_whatsapp"}),
        ("STOP please", {"marketing_sms", "marketing_whatsapp"}),
        ("STOPP", set()),
        ("Please stop", set()),
        ("", set()),
        ("123", set()),
    ],
)
def test_a_texted_keyword_names_the_topics_whose_stop_keyword_it_is(text, expected):
    assert {t.key for t in keyword_topics(DEMO, text)} == expected


def test_gpc_opts_out_of_the_topics_of_the_sale_and_sharing_purpose():
    assert [t.key for t in gpc_topics(DEMO)] == ["sale_sharing"]
