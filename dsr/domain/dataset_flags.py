"""The consent and restriction columns of a dataset file, and what webhook systems are told.

A field may carry `consent` (an opt-in column) or `restriction` (a "do not process" column):

    opted_in: {category: consent, consent: marketing_email}          # true / false, every row of the person
    status:                                                          # a text column shared by several topics
      category: consent
      consent:
        - {topic: marketing_email, when: {channel: email}, granted: granted, withdrawn: withdrawn}
        - {topic: marketing_sms, when: {channel: sms}, granted: granted, withdrawn: withdrawn}
    no_marketing: {category: consent, restriction: marketing}        # true while restricted or objected to

A webhook system lists the topics and purposes whose changes it is sent: `consent: [marketing_email]`,
`restriction: all`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from dsr.domain.dataset import FlagColumn, System, SystemKind
from dsr.yamlfile import KeyPath

if TYPE_CHECKING:
    from dsr.domain.dataset_parser import _Problems

# scope → (the key naming what it is about, the value while on, the value once off)
SCOPES = {
    "consent": ("topic", "granted", "withdrawn"),
    "restriction": ("purpose", "restricted", "lifted"),
}
Scalar = str | int | bool


def flag_columns(problems: _Problems, value: Any, path: KeyPath, scope: str) -> tuple[FlagColumn, ...]:
    """Parse a field's `consent` or `restriction` value: a key, a mapping, or a list of mappings."""
    key_name, on_name, off_name = SCOPES[scope]
    items = value if isinstance(value, list) else [value]
    columns = []
    for index, item in enumerate(items):
        where = (*path, index) if isinstance(value, list) else path
        if isinstance(item, str):
            item = {key_name: item}
        if not isinstance(item, dict):
            problems.add(
                where, f"must name a {key_name}, or be a mapping with '{key_name}', 'when', '{on_name}', '{off_name}'."
            )
            continue
        problems.mapping(item, where, {key_name, "when", on_name, off_name})
        key = problems.text(item.get(key_name), (*where, key_name))
        when = problems.mapping(item.get("when") or {}, (*where, "when"))
        on, off = item.get(on_name, True), item.get(off_name, False)
        for name, written in ((on_name, on), (off_name, off), *when.items()):
            if not isinstance(written, Scalar):
                problems.add((*where, name), "must be a single text, number or true/false value.")
        if on == off:
            problems.add(where, f"'{on_name}' and '{off_name}' must be different values.")
        columns.append(FlagColumn(key, on, off, tuple((str(c), v) for c, v in when.items())))
    return tuple(columns)


def check_when_columns(problems: _Problems, fields: list, path: KeyPath) -> None:
    """Each `when` names a column of the same table."""
    names = {f.name for f in fields}
    for field in fields:
        for scope in SCOPES:
            for flag in getattr(field, scope):
                for column, _ in flag.when:
                    if column not in names:
                        problems.add(
                            (*path, "fields", field.name, scope), f"'when' names {column!r}, not a field of the table."
                        )


def told_keys(problems: _Problems, spec: dict, path: KeyPath, scope: str) -> tuple[str, ...]:
    """A webhook system's `consent` / `restriction`: a list of keys, or `all`."""
    value = spec.get(scope)
    if value is None:
        return ()
    if value == "all":
        return ("*",)
    if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
        problems.add((*path, scope), f"must be a list of {SCOPES[scope][0]} keys, or all.")
        return ()
    return tuple(value)


def check_keys(
    problems: _Problems,
    systems: list[System],
    consent_topics: Collection[str] | None,
    purposes: Collection[str] | None,
) -> None:
    """Every topic and purpose named is one of the organisation profile's (when those are given)."""
    known = {"consent": consent_topics, "restriction": purposes}
    nouns = {"consent": "consent topic", "restriction": "purpose"}
    for system in systems:
        base = ("systems", system.key)
        for scope in SCOPES:
            if known[scope] is None:
                continue
            if system.kind is SystemKind.WEBHOOK:
                named = [(key, (*base, scope)) for key in getattr(system, scope) if key != "*"]
            else:
                named = [
                    (flag.key, (*base, "tables", table.name, "fields", field.name, scope))
                    for table in system.tables
                    for field in table.fields
                    for flag in getattr(field, scope)
                ]
            for key, where in named:
                if key and key not in known[scope]:
                    problems.add(where, f"names no {nouns[scope]} of the organisation profile ({key!r}).")
