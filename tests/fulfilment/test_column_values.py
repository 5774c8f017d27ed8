"""Values for a column's type: what redaction writes, what a hash looks like, how corrections are typed."""

import uuid
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, Integer, Numeric, String, Text, Time, Uuid
from sqlalchemy.dialects.mysql import TINYINT

from dsr.domain.dataset import Erasure, IdentityKind
from dsr.fulfilment.column_values import ColumnValueError, coerce, redaction
from dsr.fulfilment.erasure_values import keyed_hash, replacement
from dsr.sources.sql_writes import ColumnSpec


@pytest.mark.parametrize(
    ("type_", "nullable", "value", "shown"),
    [
        (String(120), False, "[erased]", "'[erased]'"),
        (Text(), True, "[erased]", "'[erased]'"),
        (String(2), True, None, "NULL"),  # no room for the marker: NULL where allowed
        (String(2), False, "[e", "'[e'"),  # …and the marker cut to size where not
        (Integer(), True, None, "NULL"),
        (Integer(), False, 0, "0"),
        (Numeric(12, 2), False, 0, "0"),
        (Boolean(), False, False, "false"),
        (DateTime(), False, datetime(1970, 1, 1), "1970-01-01 00:00:00"),
        (Date(), False, date(1970, 1, 1), "1970-01-01"),
        (Time(), False, time(0, 0), "00:00:00"),
        (Uuid(), False, uuid.UUID(int=0), "00000000-0000-0000-0000-000000000000"),
        (JSON(), False, {}, "{}"),
    ],
)
def test_redaction_fits_the_columns_type(type_, nullable, value, shown):
    assert (redaction(type_, nullable).value, redaction(type_, nullable).shown) == (value, shown)


def test_an_enumeration_that_cannot_be_null_has_nothing_neutral():
    with pytest.raises(ColumnValueError, match="no neutral value"):
        redaction(Enum("a", "b", name="kind"), nullable=False)


def test_hashes_fit_the_column_or_are_refused():
    assert replacement(Erasure.HASH, ColumnSpec(String(32), True)).hash_digits == 27
    assert replacement(Erasure.HASH, ColumnSpec(Text(), True)).hash_digits == 64
    with pytest.raises(ColumnValueError, match="too short for a hash"):
        replacement(Erasure.HASH, ColumnSpec(String(20), True))
    with pytest.raises(ColumnValueError, match="cannot hold a hash"):
        replacement(Erasure.HASH, ColumnSpec(Integer(), True))
    with pytest.raises(ColumnValueError, match="NOT NULL"):
        replacement(Erasure.NULL, ColumnSpec(String(20), False))


def test_the_same_identifier_always_hashes_the_same_and_only_with_the_secret():
    email = keyed_hash(b"k", IdentityKind.EMAIL, " Asha.Verma@Example.com")
    assert email == keyed_hash(b"k", IdentityKind.EMAIL, "asha.verma@example.com")
    assert email != keyed_hash(b"other", IdentityKind.EMAIL, "asha.verma@example.com")
    assert email.startswith("hmac:") and len(email) == 69
    assert keyed_hash(b"k", IdentityKind.PHONE, "+91 98450-12345") == keyed_hash(
        b"k", IdentityKind.PHONE, "919845012345"
    )
    done = replacement(Erasure.HASH, ColumnSpec(String(254), True), IdentityKind.EMAIL)
    assert done.hashed(b"k", email) == email  # never hashed twice
    assert done.hashed(b"k", None) is None and done.hashed(b"k", "  ") == "  "
    with pytest.raises(ValueError, match="secret"):
        keyed_hash(b"", None, "x")


@pytest.mark.parametrize(
    ("type_", "nullable", "proposed", "stored"),
    [
        (String(20), True, "New Name", "New Name"),
        (String(20), True, None, None),
        (Integer(), False, " 42 ", 42),
        (Numeric(12, 2), False, "12.5", Decimal("12.5")),
        (Boolean(), False, "Yes", True),
        (TINYINT(display_width=1), False, "false", 0),  # MySQL's BOOLEAN
        (DateTime(), False, "2025-03-01 14:30", datetime(2025, 3, 1, 14, 30)),
        (Date(), True, "", None),
    ],
)
def test_a_correction_is_turned_into_the_columns_type(type_, nullable, proposed, stored):
    assert coerce(type_, nullable, proposed) == stored


@pytest.mark.parametrize(
    ("type_", "nullable", "proposed", "message"),
    [
        (String(5), True, "too long", "must be at most 5 characters"),
        (Integer(), True, "4.5", "must be a whole number"),
        (Numeric(4, 2), True, "123.45", "at most 2 decimal places and 4 digits"),
        (Numeric(4, 2), True, "NaN", "at most 2 decimal places"),
        (Boolean(), True, "perhaps", "must be true or false"),
        (Date(), True, "01/03/2025", "must be a date, as 2025-03-01"),
        (Integer(), False, None, "cannot be empty"),
        (Enum("open", "solved", name="status"), False, "lost", "must be one of open, solved"),
        (JSON(), True, "{}", "cannot be corrected here"),
    ],
)
def test_a_correction_that_does_not_fit_says_what_would(type_, nullable, proposed, message):
    with pytest.raises(ColumnValueError, match=message):
        coerce(type_, nullable, proposed)
