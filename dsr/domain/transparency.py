"""The Art. 15 facts of the organisation profile: recipients, retention, sources and where to complain.

Parsed here so that profile.py keeps to identity, rights and purposes; every access bundle repeats
these facts to the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsr.domain.periods import RetentionPeriod, parse_period
from dsr.domain.requests import Jurisdiction

Fail = Callable[[str, str], Exception]


@dataclass(frozen=True)
class Recipient:
    """Who receives personal data (Art. 15(1)(c)); `location` matters for transfers abroad."""

    key: str
    label: str
    purposes: tuple[str, ...] = ()
    location: str = ""


@dataclass(frozen=True)
class RetentionRule:
    """How long some data is kept: a period counted from an event, or the criteria when no period fits."""

    key: str
    label: str
    period: RetentionPeriod | None = None
    after: str = ""
    criteria: str = ""

    @property
    def description(self) -> str:
        if self.period is None:
            return self.criteria
        text = f"{self.period} after {self.after}"
        return f"{text}. {self.criteria}" if self.criteria else text


@dataclass(frozen=True)
class DataSource:
    """Where personal data comes from when not from the person (Art. 15(1)(g))."""

    key: str
    label: str


@dataclass(frozen=True)
class SupervisoryAuthority:
    """Where a person may complain (Art. 15(1)(f)); no jurisdictions means it applies to all."""

    name: str
    url: str
    jurisdictions: tuple[Jurisdiction, ...] = ()
    email: str = ""


def _entries(data: dict, key: str, fail: Fail, allowed: set[str]) -> list[tuple[str, dict]]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise fail(key, "must be a list.")
    seen: set[str] = set()
    entries = []
    for index, item in enumerate(items):
        where = f"{key}[{index}]"
        if not isinstance(item, dict) or any(not _text(item.get(f)) for f in ("key", "label")):
            raise fail(where, "needs text values for key, label.")
        unknown = sorted(set(item) - allowed - {"key", "label"})
        if unknown:
            # Often a comma in an unquoted label inside {…}: YAML splits it into a key of its own.
            raise fail(where, f"has unknown keys ({', '.join(map(str, unknown))}); quote labels that contain commas.")
        if item["key"] in seen:
            raise fail(where, f"repeats the key {item['key']!r}.")
        seen.add(item["key"])
        entries.append((where, item))
    return entries


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def parse_recipients(data: dict, purpose_keys: set[str], fail: Fail) -> tuple[Recipient, ...]:
    recipients = []
    for where, item in _entries(data, "recipients", fail, {"purposes", "location"}):
        purposes = item.get("purposes") or []
        if not isinstance(purposes, list) or any(p not in purpose_keys for p in purposes):
            raise fail(f"{where}.purposes", "must list keys from 'purposes'.")
        location = item.get("location") or ""
        if not isinstance(location, str):
            raise fail(f"{where}.location", "must be text.")
        recipients.append(Recipient(item["key"], item["label"], tuple(purposes), location))
    return tuple(recipients)


def parse_retention(data: dict, fail: Fail) -> tuple[RetentionRule, ...]:
    rules = []
    for where, item in _entries(data, "retention", fail, {"period", "after", "criteria"}):
        period = None
        if item.get("period") is not None:
            try:
                period = parse_period(item["period"])
            except ValueError as exc:
                raise fail(f"{where}.period", f"{exc}.") from None
            if not _text(item.get("after")):
                raise fail(f"{where}.after", "must say what the period counts from (e.g. 'account closure').")
        elif not _text(item.get("criteria")):
            raise fail(where, "needs a 'period' (with 'after') or the 'criteria' used to decide how long.")
        rules.append(
            RetentionRule(item["key"], item["label"], period, item.get("after") or "", item.get("criteria") or "")
        )
    return tuple(rules)


def parse_sources(data: dict, fail: Fail) -> tuple[DataSource, ...]:
    return tuple(DataSource(item["key"], item["label"]) for _, item in _entries(data, "sources", fail, set()))


def parse_authorities(data: dict, fail: Fail) -> tuple[SupervisoryAuthority, ...]:
    key = "supervisory_authority"
    value = data.get(key) or []
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise fail(key, "must be a mapping (name, url) or a list of them.")
    authorities = []
    for index, item in enumerate(items):
        where = key if isinstance(value, dict) else f"{key}[{index}]"
        if not isinstance(item, dict) or not _text(item.get("name")) or not _text(item.get("url")):
            raise fail(where, "needs a 'name' and a 'url'.")
        try:
            jurisdictions = tuple(Jurisdiction(j) for j in item.get("jurisdictions") or [])
        except ValueError as exc:
            raise fail(f"{where}.jurisdictions", f"has an unknown value ({exc}).") from None
        authorities.append(SupervisoryAuthority(item["name"], item["url"], jurisdictions, item.get("email") or ""))
    return tuple(authorities)
