"""The organisation profile: who the organisation is and which rights and jurisdictions it offers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dsr.domain.errors import DomainError
from dsr.domain.requests import Jurisdiction, RequestType
from dsr.domain.transparency import (
    DataSource,
    Recipient,
    RetentionRule,
    SupervisoryAuthority,
    parse_authorities,
    parse_recipients,
    parse_retention,
    parse_sources,
)


class ProfileError(DomainError):
    """The profile file is invalid; the message names the file, the line (when known) and the key."""


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


LEGAL_BASES = ("consent", "contract", "legal_obligation", "legitimate_interests", "vital_interests", "public_task")


@dataclass(frozen=True)
class Purpose:
    """A processing purpose; restriction and objection requests name these."""

    key: str
    label: str
    legal_basis: str


@dataclass(frozen=True)
class ConsentTopic:
    """Something a person can withdraw consent for (a purpose over a channel, e.g. marketing by SMS)."""

    key: str
    label: str
    purpose: str
    # The word a person can text back to withdraw this consent (e.g. "STOP" for SMS or WhatsApp), if promised.
    stop_keyword: str = ""


@dataclass(frozen=True)
class OrganisationProfile:
    name: str
    contact_email: str
    timezone: str
    jurisdictions: tuple[Jurisdiction, ...]
    default_jurisdiction: Jurisdiction
    rights: tuple[RequestType, ...]
    privacy_notice_url: str = ""
    dpo: Contact | None = None
    grievance_officer: Contact | None = None
    purposes: tuple[Purpose, ...] = ()
    consent_topics: tuple[ConsentTopic, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    retention: tuple[RetentionRule, ...] = ()
    sources: tuple[DataSource, ...] = ()
    supervisory_authorities: tuple[SupervisoryAuthority, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


_STOP_KEYWORD = re.compile(r"^[A-Z]{2,20}$")


def parse_profile(data: Any, source: str, where: Callable[[str], str] | None = None) -> OrganisationProfile:
    """Validate a profile mapping (parsed YAML); errors name `source` and the offending key.

    `where(key)` may give 'file:line' for a key (dsr.yamlfile.YamlDocument.where does).
    """
    locate = where or (lambda key: source)

    def fail(key: str, problem: str) -> ProfileError:
        return ProfileError(f"{locate(key)}: '{key}' {problem}")

    if not isinstance(data, dict):
        raise ProfileError(f"{source}: the profile must be a mapping of keys to values.")

    def text(key: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise fail(key, "must be a non-empty text value.")
        return value.strip()

    def choices(key: str, enum: type, allowed: str) -> tuple:
        values = data.get(key)
        if not isinstance(values, list) or not values:
            raise fail(key, f"must be a non-empty list; choose from {allowed}.")
        try:
            return tuple(enum(value) for value in values)
        except ValueError as exc:
            raise fail(key, f"has an unknown value ({exc}); choose from {allowed}.") from None

    def contact(key: str) -> Contact | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not value.get("name") or not value.get("email"):
            raise fail(key, "must have a 'name' and an 'email'.")
        return Contact(str(value["name"]), str(value["email"]))

    def keyed_list(key: str, fields: tuple[str, ...]) -> list[dict]:
        items = data.get(key) or []
        if not isinstance(items, list):
            raise fail(key, "must be a list.")
        seen = set()
        for index, item in enumerate(items):
            if not isinstance(item, dict) or any(not isinstance(item.get(f), str) or not item[f] for f in fields):
                raise fail(f"{key}[{index}]", f"needs text values for {', '.join(fields)}.")
            if item["key"] in seen:
                raise fail(f"{key}[{index}]", f"repeats the key {item['key']!r}.")
            seen.add(item["key"])
        return items

    purposes = tuple(
        Purpose(p["key"], p["label"], p["legal_basis"]) for p in keyed_list("purposes", ("key", "label", "legal_basis"))
    )
    for index, purpose in enumerate(purposes):
        if purpose.legal_basis not in LEGAL_BASES:
            raise fail(f"purposes[{index}].legal_basis", f"must be one of {', '.join(LEGAL_BASES)}.")
    topics = tuple(
        ConsentTopic(t["key"], t["label"], t["purpose"], str(t.get("stop_keyword") or ""))
        for t in keyed_list("consent_topics", ("key", "label", "purpose"))
    )
    purpose_keys = {p.key for p in purposes}
    for index, topic in enumerate(topics):
        if topic.purpose not in purpose_keys:
            raise fail(f"consent_topics[{index}].purpose", f"names no purpose in 'purposes' ({topic.purpose!r}).")
        if topic.stop_keyword and not _STOP_KEYWORD.match(topic.stop_keyword):
            raise fail(f"consent_topics[{index}].stop_keyword", "must be one word in capitals, such as STOP.")

    timezone = text("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("timezone", f"is not a known time zone ({timezone!r}); use a name like 'Asia/Kolkata'.") from None
    jurisdictions = choices("jurisdictions", Jurisdiction, ", ".join(Jurisdiction))
    default = data.get("default_jurisdiction", jurisdictions[0])
    if default not in jurisdictions:
        raise fail("default_jurisdiction", "must be one of the profile's jurisdictions.")
    known = {
        "name",
        "contact_email",
        "timezone",
        "jurisdictions",
        "default_jurisdiction",
        "rights",
        "privacy_notice_url",
        "dpo",
        "grievance_officer",
        "purposes",
        "consent_topics",
        "recipients",
        "retention",
        "sources",
        "supervisory_authority",
    }
    return OrganisationProfile(
        name=text("name"),
        contact_email=text("contact_email"),
        timezone=timezone,
        jurisdictions=jurisdictions,
        default_jurisdiction=Jurisdiction(default),
        rights=choices("rights", RequestType, ", ".join(RequestType)),
        privacy_notice_url=text("privacy_notice_url", required=False),
        dpo=contact("dpo"),
        grievance_officer=contact("grievance_officer"),
        purposes=purposes,
        consent_topics=topics,
        recipients=parse_recipients(data, purpose_keys, fail),
        retention=parse_retention(data, fail),
        sources=parse_sources(data, fail),
        supervisory_authorities=parse_authorities(data, fail),
        extra={key: value for key, value in data.items() if key not in known},
    )
