"""Vocabulary of a data-subject request: rights, jurisdictions, rejection reasons."""

from enum import StrEnum


class RequestType(StrEnum):
    ACCESS = "access"
    PORTABILITY = "portability"
    CORRECTION = "correction"
    DELETION = "deletion"
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    RESTRICTION = "restriction"
    OBJECTION = "objection"

    @property
    def label(self) -> str:
        return REQUEST_TYPE_LABELS[self]

    @property
    def help(self) -> str:
        return REQUEST_TYPE_HELP[self]


REQUEST_TYPE_LABELS = {
    RequestType.ACCESS: "Access my data",
    RequestType.PORTABILITY: "Get my data in a portable format",
    RequestType.CORRECTION: "Correct my data",
    RequestType.DELETION: "Delete my data",
    RequestType.CONSENT_WITHDRAWAL: "Withdraw consent / opt out",
    RequestType.RESTRICTION: "Restrict processing",
    RequestType.OBJECTION: "Object to processing",
}


REQUEST_TYPE_HELP = {
    RequestType.ACCESS: "A copy of the personal data we hold about you, and how and why we use it.",
    RequestType.PORTABILITY: "The data you gave us, in a machine-readable file you can take elsewhere.",
    RequestType.CORRECTION: "Fix personal data that is wrong or incomplete.",
    RequestType.DELETION: "Erase your personal data, except what the law requires us to keep.",
    RequestType.CONSENT_WITHDRAWAL: "Stop marketing or other processing you agreed to: emails, texts, cookies.",
    RequestType.RESTRICTION: "Limit how we use your data while a question about it is settled.",
    RequestType.OBJECTION: "Object to processing based on our legitimate interests, including profiling.",
}


class Jurisdiction(StrEnum):
    EU_GDPR = "eu_gdpr"
    UK_GDPR = "uk_gdpr"
    US_CA_CCPA = "us_ca_ccpa"
    IN_DPDP = "in_dpdp"
    BR_LGPD = "br_lgpd"
    DEFAULT = "default"

    @property
    def label(self) -> str:
        return JURISDICTION_LABELS[self]


JURISDICTION_LABELS = {
    Jurisdiction.EU_GDPR: "European Union (GDPR)",
    Jurisdiction.UK_GDPR: "United Kingdom (UK GDPR)",
    Jurisdiction.US_CA_CCPA: "California (CCPA/CPRA)",
    Jurisdiction.IN_DPDP: "India (DPDP Act 2023)",
    Jurisdiction.BR_LGPD: "Brazil (LGPD)",
    Jurisdiction.DEFAULT: "Elsewhere (organisation policy)",
}


def jurisdiction_label(key: str) -> str:
    """The readable name of a jurisdiction key; an unknown key (an organisation's own) as it is."""
    try:
        return JURISDICTION_LABELS[Jurisdiction(key)]
    except ValueError:
        return key


class RejectionReason(StrEnum):
    UNVERIFIABLE = "unverifiable"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    EXCESSIVE = "excessive"
    DUPLICATE = "duplicate"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"
    NO_RELATIONSHIP = "no_relationship"
    OTHER = "other"
