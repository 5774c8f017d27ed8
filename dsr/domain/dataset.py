"""The data inventory: the organisation's systems, their tables and fields, and who a person is in them.

Pure dataclasses; `dsr.domain.dataset_parser` builds them from a dataset file and
`dsr.services.inventory.load_dataset` reads the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from dsr.domain.errors import DomainError
from dsr.domain.periods import RetentionPeriod


class DatasetError(DomainError):
    """The dataset file is invalid; each problem reads `<file>:<line>: <key path>: <problem>`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class SystemKind(StrEnum):
    SQL = "sql"  # a database DSR Desk queries itself
    MANUAL = "manual"  # a person searches it and confirms
    WEBHOOK = "webhook"  # a signed HTTPS job; the system calls back


class Erasure(StrEnum):
    """What a deletion request does to a field."""

    DELETE_ROW = "delete_row"
    NULL = "null"
    HASH = "hash"
    REDACT = "redact"
    RETAIN = "retain"  # needs a legal basis and a retention period


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CUSTOMER_ID = "customer_id"


DATA_CATEGORIES = {
    "identity": "Name and identity",
    "contact": "Contact details",
    "identifier": "Account numbers and identifiers",
    "professional": "Job and company",
    "financial": "Billing and payments",
    "communication": "Messages, calls and support",
    "consent": "Consents and preferences",
    "usage": "Use of our service",
    "technical": "Devices and network",
    "location": "Location",
    "other": "Other information",
}


@dataclass(frozen=True)
class FlagColumn:
    """A column DSR Desk writes when a person's consent or limits on processing change.

    `key` is a consent topic (for a field's `consent`) or a purpose (for its `restriction`); `on` is
    written while consent is granted / processing is restricted, `off` once withdrawn / lifted; only
    the person's rows whose columns hold the `when` values are written.
    """

    key: str
    on: str | int | bool = True
    off: str | int | bool = False
    when: tuple[tuple[str, str | int | bool], ...] = ()


@dataclass(frozen=True)
class Field:
    name: str
    category: str
    purpose: str
    erasure: Erasure
    legal_basis: str = ""  # required when erasure is retain
    retention: RetentionPeriod | None = None  # required when erasure is retain
    note: str = ""
    consent: tuple[FlagColumn, ...] = ()  # an opt-in column for these consent topics
    restriction: tuple[FlagColumn, ...] = ()  # a "do not process" column for these purposes


@dataclass(frozen=True)
class Reference:
    """Rows of `table` belong to the person when they join a matched row of the parent table."""

    table: str
    join: tuple[tuple[str, str], ...]  # (parent column, child column) pairs


@dataclass(frozen=True)
class Table:
    name: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ("id",)
    identity: tuple[tuple[IdentityKind, str], ...] = ()  # identity kind → column
    references: tuple[Reference, ...] = ()
    schema: str | None = None
    label: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def flag_columns(self, scope: str, key: str) -> list[tuple[str, FlagColumn]]:
        """(column, how to write it) for a consent topic (scope "consent") or a purpose ("restriction")."""
        return [(f.name, flag) for f in self.fields for flag in getattr(f, scope) if flag.key == key]

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class System:
    key: str
    kind: SystemKind
    name: str
    description: str = ""
    url: str = ""  # sql: SQLAlchemy URL; webhook: https endpoint. May hold ${VAR} references, kept unexpanded.
    tables: tuple[Table, ...] = ()
    instructions: tuple[tuple[str, str], ...] = ()  # manual: (request type or "default", text)
    secret: str = ""  # webhook: the ${VAR} holding the signing secret
    # webhook: the consent topics and the purposes whose changes it is sent ("*": all of them)
    consent: tuple[str, ...] = ()
    restriction: tuple[str, ...] = ()

    def is_told(self, scope: str, key: str) -> bool:
        """Whether this system takes a change of consent (scope "consent") or restriction ("restriction")."""
        if self.kind is SystemKind.WEBHOOK:
            wanted = getattr(self, scope)
            return "*" in wanted or key in wanted
        return self.kind is SystemKind.SQL and any(t.flag_columns(scope, key) for t in self.tables)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def parents_of(self, name: str) -> Iterator[tuple[Table, Reference]]:
        for table in self.tables:
            for reference in table.references:
                if reference.table == name:
                    yield table, reference

    def instructions_for(self, request_type: str) -> str:
        texts = dict(self.instructions)
        return texts.get(request_type) or texts.get("default", "")


@dataclass(frozen=True)
class Dataset:
    source: str
    systems: tuple[System, ...]

    def system(self, key: str) -> System:
        return next(s for s in self.systems if s.key == key)

    def of_kind(self, kind: SystemKind) -> tuple[System, ...]:
        return tuple(s for s in self.systems if s.kind is kind)

    def systems_to_tell(self, scope: str, key: str) -> tuple[System, ...]:
        """Where a change of consent (scope "consent", key a topic) or of a restriction (scope
        "restriction", key a purpose) must go."""
        return tuple(s for s in self.systems if s.is_told(scope, key))


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """Digits only: '+91 98450-12345' and '919845012345' are the same number."""
    return "".join(ch for ch in value if ch.isdigit())


@dataclass(frozen=True)
class SubjectIdentities:
    """The verified identifiers of one person, normalised; any of them finds their records."""

    email: str | None = None
    phone: str | None = None
    customer_id: str | None = None

    @classmethod
    def of(
        cls, email: str | None = None, phone: str | None = None, customer_id: str | None = None
    ) -> SubjectIdentities:
        return cls(
            normalise_email(email) or None if email else None,
            normalise_phone(phone) or None if phone else None,
            customer_id.strip() or None if customer_id else None,
        )

    def items(self) -> list[tuple[IdentityKind, str]]:
        values = {
            IdentityKind.EMAIL: self.email,
            IdentityKind.PHONE: self.phone,
            IdentityKind.CUSTOMER_ID: self.customer_id,
        }
        return [(kind, value) for kind, value in values.items() if value]


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def variables_in(template: str) -> list[tuple[str, str | None]]:
    """The ${NAME} / ${NAME:-default} references in a value."""
    return [(m.group(1), m.group(2)) for m in _VARIABLE.finditer(template)]


def expand(template: str, environ: Mapping[str, str]) -> str:
    """Fill ${NAME} from the environment (at connection time, so secrets never sit in the Dataset)."""

    def value(match: re.Match) -> str:
        found = environ.get(match.group(1))
        if found in (None, "") and match.group(2) is None:
            raise DomainError(f"The environment variable {match.group(1)} is not set.")
        return found if found not in (None, "") else match.group(2)

    return _VARIABLE.sub(value, template)
