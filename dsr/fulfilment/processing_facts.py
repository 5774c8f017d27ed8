"""The Art. 15 facts an access bundle tells the person: why, who receives it, how long, from where,
their rights and where to complain. Taken from the organisation profile and the data inventory."""

from __future__ import annotations

from typing import Any

from dsr.domain.dataset import DATA_CATEGORIES, Dataset, SystemKind
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RequestType

LEGAL_BASIS_LABELS = {
    "consent": "your consent",
    "contract": "our contract with you",
    "legal_obligation": "a legal obligation",
    "legitimate_interests": "our legitimate interests",
    "vital_interests": "protecting someone's life",
    "public_task": "a task in the public interest",
}
RIGHT_DESCRIPTIONS = {
    RequestType.ACCESS: "Get a copy of your data and these facts about it",
    RequestType.PORTABILITY: "Get your data in a machine-readable format to take elsewhere",
    RequestType.CORRECTION: "Have inaccurate or incomplete data corrected",
    RequestType.DELETION: "Have your data deleted",
    RequestType.CONSENT_WITHDRAWAL: "Withdraw consent you gave, at any time",
    RequestType.RESTRICTION: "Have the use of your data restricted",
    RequestType.OBJECTION: "Object to our use of your data",
}


def processing_facts(profile: OrganisationProfile, dataset: Dataset) -> dict[str, Any]:
    """Plain data (for data.json and index.html) describing the processing, not the person's rows."""
    used_categories = {f.category for s in dataset.of_kind(SystemKind.SQL) for t in s.tables for f in t.fields}
    purposes = {p.key: p.label for p in profile.purposes}
    contacts = [{"role": "Privacy contact", "name": profile.name, "email": profile.contact_email}]
    for role, contact in (("Data protection officer", profile.dpo), ("Grievance officer", profile.grievance_officer)):
        if contact is not None:
            contacts.append({"role": role, "name": contact.name, "email": contact.email})
    return {
        "controller": {"name": profile.name, "privacy_notice": profile.privacy_notice_url, "contacts": contacts},
        "categories": [{"key": k, "label": label} for k, label in DATA_CATEGORIES.items() if k in used_categories],
        "purposes": [
            {
                "key": p.key,
                "label": p.label,
                "legal_basis": p.legal_basis,
                "legal_basis_label": LEGAL_BASIS_LABELS.get(p.legal_basis, p.legal_basis),
            }
            for p in profile.purposes
        ],
        "recipients": [
            {"label": r.label, "location": r.location, "purposes": [purposes.get(p, p) for p in r.purposes]}
            for r in profile.recipients
        ],
        "retention": [{"label": r.label, "period": r.description} for r in profile.retention],
        "sources": [s.label for s in profile.sources],
        "rights": [{"key": str(r), "label": RIGHT_DESCRIPTIONS[r]} for r in profile.rights],
        "complaints": [
            {"name": a.name, "url": a.url, "email": a.email, "jurisdictions": [j.label for j in a.jurisdictions]}
            for a in profile.supervisory_authorities
        ],
    }


def purpose_label(profile: OrganisationProfile, key: str) -> str:
    return next((p.label for p in profile.purposes if p.key == key), key)
