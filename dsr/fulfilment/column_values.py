"""Values fit for a database column's type: what redaction writes, and a correction turned into that type.

Redaction writes the marker `[erased]` into text columns. Other columns hold no marker: they get NULL
when the column allows it, and otherwise a neutral value — 0, false, 1970-01-01 (00:00:00), the nil
UUID, an empty JSON object or byte string. A text column too short for the marker gets NULL when it
allows it, and otherwise the marker cut to its length (`[e` in a two-letter NOT NULL column).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    String,
    Time,
    Uuid,
)
from sqlalchemy.types import TypeEngine

REDACTED = "[erased]"
_NEUTRAL: tuple[tuple[type[TypeEngine], Any], ...] = (
    (Boolean, False),
    (Integer, 0),
    (Numeric, 0),  # Float is a Numeric
    (DateTime, datetime(1970, 1, 1)),
    (Date, date(1970, 1, 1)),
    (Time, time(0, 0)),
    (Interval, timedelta(0)),
    (Uuid, uuid.UUID(int=0)),
    (JSON, {}),
    (LargeBinary, b""),
)
_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


class ColumnValueError(ValueError):
    """The value does not fit the column; the message says what would."""


@dataclass(frozen=True)
class Redaction:
    value: Any  # None for NULL
    shown: str  # how the plan shows it: NULL, '[erased]', 0, 1970-01-01 00:00:00…


def text_length(type_: TypeEngine) -> int | None:
    return type_.length if isinstance(type_, String) else None


def holds_text(type_: TypeEngine) -> bool:
    return isinstance(type_, String) and not isinstance(type_, Enum)


def redaction(type_: TypeEngine, nullable: bool) -> Redaction:
    """What `redact` writes into a column of this type; ColumnValueError when nothing neutral fits."""
    if holds_text(type_):
        length = text_length(type_)
        if length is None or length >= len(REDACTED):
            return Redaction(REDACTED, repr(REDACTED))
        if not nullable:
            return Redaction(REDACTED[:length], repr(REDACTED[:length]))
    if nullable:
        return Redaction(None, "NULL")
    for kind, value in _NEUTRAL:
        if isinstance(type_, kind):
            return Redaction(value, repr(value) if isinstance(value, dict | bytes) else str(value).lower())
    raise ColumnValueError(f"a NOT NULL {type_} column has no neutral value to redact it to; use null or retain")


def coerce(type_: TypeEngine, nullable: bool, value: Any) -> Any:
    """A proposed value as the column's type; ColumnValueError says what is expected."""
    if value is None or (isinstance(value, str) and not value.strip() and not holds_text(type_)):
        if not nullable:
            raise ColumnValueError("cannot be empty")
        return None
    text = value.strip() if isinstance(value, str) else value
    if isinstance(type_, Enum):
        if str(text) not in type_.enums:
            raise ColumnValueError(f"must be one of {', '.join(type_.enums)}")
        return str(text)
    if isinstance(type_, String):
        length = text_length(type_)
        if not isinstance(value, str):
            value = str(value)
        if length is not None and len(value) > length:
            raise ColumnValueError(f"must be at most {length} characters")
        return value
    try:
        return _typed(type_, text)
    except (ValueError, TypeError, InvalidOperation):
        raise ColumnValueError(_expected(type_)) from None


def _typed(type_: TypeEngine, value: Any) -> Any:
    if isinstance(type_, Boolean):
        if isinstance(value, bool):
            return value
        if str(value).lower() in _TRUE | _FALSE:
            return str(value).lower() in _TRUE
        raise ValueError(value)
    if isinstance(type_, Integer):
        if getattr(type_, "display_width", None) == 1 and str(value).lower() in _TRUE | _FALSE:
            return int(str(value).lower() in _TRUE)  # TINYINT(1): how MySQL and MariaDB store BOOLEAN
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(value) if not isinstance(value, str) else int(value, 10)
    if isinstance(type_, Float):
        return float(value)
    if isinstance(type_, Numeric):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(value)
        scale = type_.scale
        if scale is not None and number.as_tuple().exponent < -scale:  # type: ignore[operator]
            raise ValueError(value)
        if type_.precision is not None and len(number.as_tuple().digits) > type_.precision:
            raise ValueError(value)
        return number
    parsers = ((DateTime, datetime), (Date, date), (Time, time))
    for kind, parsed in parsers:
        if isinstance(type_, kind):
            return value if isinstance(value, parsed) else parsed.fromisoformat(str(value))
    if isinstance(type_, Uuid):
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    raise TypeError(type_)


def _expected(type_: TypeEngine) -> str:
    if isinstance(type_, Boolean):
        return "must be true or false"
    if isinstance(type_, Integer):
        return "must be a whole number"
    if isinstance(type_, Numeric) and not isinstance(type_, Float) and type_.scale is not None:
        return f"must be a number with at most {type_.scale} decimal places and {type_.precision} digits"
    if isinstance(type_, Numeric):
        return "must be a number"
    if isinstance(type_, DateTime):
        return "must be a date and time, as 2025-03-01 14:30"
    if isinstance(type_, Date):
        return "must be a date, as 2025-03-01"
    if isinstance(type_, Time):
        return "must be a time, as 14:30"
    if isinstance(type_, Uuid):
        return "must be a UUID"
    return f"cannot be corrected here (a {type_} column)"
