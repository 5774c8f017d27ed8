"""What each erased column becomes: NULL, a redaction (see dsr.fulfilment.column_values) or a keyed hash.

The keyed hash is `hmac:` followed by the hex HMAC-SHA256 of the identifier under a secret the caller
keeps, so the same identifier always hashes the same (a "do not contact" check can hash a new sign-up
and look for it) while no one without the secret can reverse it or test guesses. The identifier is
normalised first, as lookups normalise it: an email column's value is trimmed and lower-cased, a phone
column's reduced to digits (columns the dataset names as identities), anything else trimmed. A column
shorter than 69 characters holds the first digits that fit (at least 16, i.e. 64 bits): compare by
prefix. A value that already starts with `hmac:` is never hashed again, so running an erasure twice
changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from dsr.domain.dataset import Erasure, IdentityKind, normalise_email, normalise_phone
from dsr.fulfilment.column_values import ColumnValueError, holds_text, redaction, text_length
from dsr.sources.sql_writes import ColumnSpec

HASH_PREFIX = "hmac:"
HASH_DIGITS = 64
MIN_HASH_DIGITS = 16


def normalise_identifier(kind: IdentityKind | None, value: str) -> str:
    if kind is IdentityKind.EMAIL:
        return normalise_email(value)
    if kind is IdentityKind.PHONE:
        return normalise_phone(value)
    return value.strip()


def keyed_hash(secret: bytes, kind: IdentityKind | None, value: str, digits: int = HASH_DIGITS) -> str:
    """`hmac:<hex>` of the normalised identifier: what a `hash` field holds after an erasure (cut to `digits`)."""
    if not secret:
        raise ValueError("A secret is needed to hash identifiers.")
    digest = hmac.new(secret, normalise_identifier(kind, value).encode(), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest[:digits]


def is_hashed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


@dataclass(frozen=True)
class Replacement:
    """What one erased column becomes, for every row."""

    action: Erasure  # null, redact or hash
    value: Any = None  # null / redact: the value written (None is NULL)
    shown: str = "NULL"  # as the plan shows it
    hash_digits: int = 0  # hash: hex digits kept
    identity: IdentityKind | None = None  # hash: how values are normalised first

    def hashed(self, secret: bytes, value: Any) -> Any:
        """The stored value a hash column's `value` becomes (None, empty and already-hashed values stay)."""
        if value is None or is_hashed(value) or not str(value).strip():
            return value
        return keyed_hash(secret, self.identity, str(value), self.hash_digits)


def replacement(action: Erasure, spec: ColumnSpec, identity: IdentityKind | None = None) -> Replacement:
    """How an erased column of this type is written; ColumnValueError when the action cannot apply to it."""
    if action is Erasure.NULL:
        if not spec.nullable:
            raise ColumnValueError("cannot be set to NULL (the column is NOT NULL); use redact")
        return Replacement(action)
    if action is Erasure.REDACT:
        redacted = redaction(spec.type, spec.nullable)
        return Replacement(action, redacted.value, redacted.shown)
    if action is Erasure.HASH:
        if not holds_text(spec.type):
            raise ColumnValueError(f"cannot hold a hash (a {spec.type} column); use redact or null")
        length = text_length(spec.type)
        digits = HASH_DIGITS if length is None else min(HASH_DIGITS, length - len(HASH_PREFIX))
        if digits < MIN_HASH_DIGITS:
            raise ColumnValueError(f"is too short for a hash ({length} characters); use redact or null")
        return Replacement(action, shown=f"keyed hash ({HASH_PREFIX} + {digits} hex digits)", hash_digits=digits,
                           identity=identity)  # fmt: skip
    raise ValueError(f"{action} is not a change to a column")
