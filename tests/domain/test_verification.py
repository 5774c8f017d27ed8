import pytest

from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor, is_satisfied, needs_phone, next_factor

E, S, D, M = Factor.EMAIL, Factor.SMS, Factor.DATA_POINT, Factor.MANUAL


@pytest.mark.parametrize(
    ("request_type", "factors", "expected"),
    [
        (RequestType.CONSENT_WITHDRAWAL, {E}, True),
        (RequestType.CONSENT_WITHDRAWAL, set(), False),
        (RequestType.OBJECTION, {E}, True),
        (RequestType.ACCESS, {E}, False),
        (RequestType.ACCESS, {E, S}, True),
        (RequestType.ACCESS, {E, D}, True),
        (RequestType.ACCESS, {S, D}, False),
        (RequestType.PORTABILITY, {E, D}, True),
        (RequestType.CORRECTION, {E, S}, True),
        (RequestType.DELETION, {E, D}, False),
        (RequestType.DELETION, {E, S}, True),
        (RequestType.DELETION, {M}, True),
        (RequestType.ACCESS, {M}, True),
    ],
)
def test_assurance_per_request_type(request_type, factors, expected):
    assert is_satisfied(request_type, factors) is expected


def test_next_factor_asks_for_email_first_then_sms_when_a_phone_was_given():
    assert next_factor(RequestType.DELETION, set(), has_phone=True) is E
    assert next_factor(RequestType.DELETION, {E}, has_phone=True) is S
    assert next_factor(RequestType.DELETION, {E}, has_phone=False) is None  # staff must verify by hand
    assert next_factor(RequestType.DELETION, {E, S}, has_phone=True) is None
    assert next_factor(RequestType.CONSENT_WITHDRAWAL, set(), has_phone=True) is E
    assert next_factor(RequestType.CONSENT_WITHDRAWAL, {E}, has_phone=True) is None


def test_only_deletion_insists_on_a_phone():
    assert [t for t in RequestType if needs_phone(t)] == [RequestType.DELETION]
