"""Response letters staff send to requesters: default wording, placeholders, safe filling-in.

Admins edit the wording; placeholders are plain `{name}` fields from a fixed list (never a template
language an admin could use to run code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsr.domain.errors import DomainError
from dsr.domain.requests import RejectionReason, RequestType

PLACEHOLDERS = {
    "name": "the requester's name",
    "reference": "the request reference",
    "request_type": "what was asked for, e.g. 'access my data'",
    "received_date": "the date the request was received",
    "due_date": "the current due date",
    "organisation": "the organisation's name",
    "contact_email": "the organisation's privacy contact",
    "reason": "the reason staff typed (extensions)",
}
_FIELD = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Letter:
    key: str
    title: str  # what admins see in the list
    subject: str
    body: str


def check_placeholders(text: str) -> None:
    unknown = sorted(set(_FIELD.findall(text)) - set(PLACEHOLDERS))
    if unknown:
        raise DomainError(f"Unknown placeholder(s): {', '.join('{' + u + '}' for u in unknown)}.")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace known placeholders; anything else in braces stays as typed."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)


_SIGN_OFF = "\n\nIf you have questions, write to {contact_email}.\n\n{organisation}"
_COMPLAINT = (
    "\n\nIf you are not satisfied with this answer, you may complain to the data protection authority "
    "where you live, or seek a judicial remedy."
)

REJECTION_WORDING = {
    RejectionReason.UNVERIFIABLE: "we could not confirm your identity with the information available",
    RejectionReason.MANIFESTLY_UNFOUNDED: "the request is manifestly unfounded",
    RejectionReason.EXCESSIVE: "the request is excessive, in particular because it repeats earlier requests",
    RejectionReason.DUPLICATE: "it duplicates another request of yours that we are already handling",
    RejectionReason.OUTSIDE_JURISDICTION: "the privacy law you named does not apply to our processing of your data",
    RejectionReason.NO_RELATIONSHIP: "we hold no personal data about you",
    RejectionReason.OTHER: "of the reasons given below",
}

COMPLETION_WORDING = {
    RequestType.ACCESS: "Your copy of your personal data is ready. Open your request to download it.",
    RequestType.PORTABILITY: "Your data is ready in a machine-readable format. Open your request to download it.",
    RequestType.CORRECTION: "We have corrected your personal data as described in your request.",
    RequestType.DELETION: "We have erased your personal data, except what the law requires us to keep.",
    RequestType.CONSENT_WITHDRAWAL: "We have recorded your withdrawal of consent. It took effect at once.",
    RequestType.RESTRICTION: "We have restricted the processing of your personal data as you asked.",
    RequestType.OBJECTION: "We have considered your objection and stopped the processing it concerned.",
}


def _default_letters() -> list[Letter]:
    letters = [
        Letter(
            "acknowledgement",
            "Acknowledgement (identity confirmed)",
            "We have confirmed your request {reference}",
            "Dear {name},\n\nThank you for confirming your identity. We received your request ({request_type}) on "
            "{received_date}; its reference is {reference}.\n\nWe will answer by {due_date}. You can follow your "
            "request, reply to us or withdraw it from your request page." + _SIGN_OFF,
        ),
        Letter(
            "request_information",
            "Request for more information",
            "We need more information about request {reference}",
            "Dear {name},\n\nTo handle your request {reference} we need more information from you:\n\n"
            "[say what you need]\n\nPlease reply through your request page." + _SIGN_OFF,
        ),
        Letter(
            "extension",
            "Notice of extension",
            "We need more time for request {reference}",
            "Dear {name},\n\nWe need more time to answer your request {reference}, received on {received_date}, "
            "because {reason}.\n\nWe will now answer by {due_date}." + _SIGN_OFF,
        ),
        Letter(
            "message",
            "General message",
            "About your request {reference}",
            "Dear {name},\n\n[your message]" + _SIGN_OFF,
        ),
    ]
    for reason, wording in REJECTION_WORDING.items():
        letters.append(
            Letter(
                f"rejection.{reason.value}",
                f"Refusal: {reason.value.replace('_', ' ')}",
                "Our answer to request {reference}",
                f"Dear {{name}},\n\nWe cannot carry out your request {{reference}} because {wording}."
                + _COMPLAINT
                + _SIGN_OFF,
            )
        )
    for request_type, wording in COMPLETION_WORDING.items():
        letters.append(
            Letter(
                f"completion.{request_type.value}",
                f"Completion: {request_type.label.lower()}",
                "Your request {reference} is complete",
                f"Dear {{name}},\n\n{wording}" + _SIGN_OFF,
            )
        )
    return letters


DEFAULT_LETTERS: tuple[Letter, ...] = tuple(_default_letters())
