"""Helpers for the erasure tests: a demo person's identities, their rows, and dataset variants."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from dsr.domain.dataset import Dataset, Erasure, SubjectIdentities, normalise_phone
from dsr.domain.periods import RetentionPeriod
from dsr.sources.demo_crm import DemoPerson
from dsr.sources.sql import find_subject

SECRET = b"erasure-test-secret"
KEEP = RetentionPeriod(1, "years")


def identities_of(person: DemoPerson) -> SubjectIdentities:
    return SubjectIdentities.of(email=person.email, phone=person.phone, customer_id=person.account_number)


def their_keys(dataset: Dataset, identities: SubjectIdentities, environ: dict) -> dict[str, set[tuple]]:
    """Table → primary keys of the person's rows (every demo table's key is `id`, its first column)."""
    keys: dict[str, set[tuple]] = defaultdict(set)
    for batch in find_subject(dataset, identities, environ):
        keys[batch.table.name].update((row[0],) for row in batch.rows)
    return dict(keys)


def others(rows: dict, theirs: dict) -> dict:
    """Every table's rows (as SourceCrm.rows gives them) except the person's."""
    return {table: {k: v for k, v in rows[table].items() if k not in theirs.get(table, set())} for table in rows}


def identifiers_in(value: object, person: DemoPerson) -> list[str]:
    """Which of the person's identifiers a stored value holds (email, phone digits, account number, name)."""
    text = str(value).lower()
    found = [
        name
        for name, identifier in (
            ("email", person.email.lower()),
            ("account number", (person.account_number or "\0").lower()),
            ("name", person.full_name.lower()),
        )
        if identifier in text
    ]
    if normalise_phone(person.phone) in normalise_phone(text):
        found.append("phone")
    return found


def with_actions(dataset: Dataset, table: str, **actions: Erasure) -> Dataset:
    """The dataset with some fields of one `crm` table given other erasure actions (retain: 1 year)."""
    crm = dataset.system("crm")
    changed = crm.table(table)
    fields = tuple(
        replace(
            f,
            erasure=actions[f.name],
            legal_basis="legal_obligation" if actions[f.name] is Erasure.RETAIN else "",
            retention=KEEP if actions[f.name] is Erasure.RETAIN else None,
        )
        if f.name in actions
        else f
        for f in changed.fields
    )
    tables = tuple(replace(t, fields=fields) if t.name == table else t for t in crm.tables)
    return replace(dataset, systems=tuple(replace(s, tables=tables) if s.key == "crm" else s for s in dataset.systems))
