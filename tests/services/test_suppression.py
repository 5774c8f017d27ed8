from datetime import UTC, datetime

from sqlalchemy import select

from dsr.domain.dataset import SubjectIdentities
from dsr.models import SuppressionEntry
from dsr.services.suppression import is_suppressed, suppress

KEY = b"s" * 32
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_erased_identifiers_are_suppressed_without_being_stored(session):
    added = suppress(session, KEY, NOW, SubjectIdentities.of(email="Ada@Example.org ", phone="+44 7700 900123"), None)
    assert added == 2
    stored = " ".join(f"{e.kind}:{e.digest}" for e in session.scalars(select(SuppressionEntry)))
    assert "ada" not in stored and "7700" not in stored
    assert is_suppressed(session, KEY, email="ada@example.org")
    assert is_suppressed(session, KEY, phone="447700900123")
    assert not is_suppressed(session, KEY, email="bob@example.org")
    assert not is_suppressed(session, b"x" * 32, email="ada@example.org")  # another key matches nothing


def test_suppressing_twice_adds_nothing(session):
    ids = SubjectIdentities.of(email="ada@example.org")
    assert suppress(session, KEY, NOW, ids, None) == 1
    assert suppress(session, KEY, NOW, ids, None) == 0
