"""`manual` systems: nothing to query, so each request becomes a task a staff member does and confirms."""

from __future__ import annotations

from dataclasses import dataclass

from dsr.domain.dataset import Dataset, SubjectIdentities, SystemKind
from dsr.domain.requests import RequestType

ACTIONS = {
    RequestType.ACCESS: "Find and export the person's data in",
    RequestType.PORTABILITY: "Find and export the person's data in",
    RequestType.CORRECTION: "Correct the person's data in",
    RequestType.DELETION: "Delete the person's data from",
    RequestType.CONSENT_WITHDRAWAL: "Record the consent withdrawal in",
    RequestType.RESTRICTION: "Restrict the use of the person's data in",
    RequestType.OBJECTION: "Stop the processing objected to in",
}
IDENTITY_LABELS = {"email": "Email address", "phone": "Phone number (digits)", "customer_id": "Customer id"}


@dataclass(frozen=True)
class ManualTask:
    """What a staff member must do by hand; they confirm it with a note (what they found or did)."""

    system_key: str
    title: str
    instructions: str
    look_for: tuple[tuple[str, str], ...]  # (label, value) of the person's verified identities

    @property
    def description(self) -> str:
        lines = [self.instructions, "", "Look for:"]
        lines += [f"- {label}: {value}" for label, value in self.look_for]
        return "\n".join(lines)


def manual_tasks(dataset: Dataset, request_type: RequestType, identities: SubjectIdentities) -> list[ManualTask]:
    """One task per `manual` system for this request."""
    look_for = tuple((IDENTITY_LABELS[str(kind)], value) for kind, value in identities.items())
    return [
        ManualTask(
            system.key,
            f"{ACTIONS[request_type]} {system.name}",
            system.instructions_for(str(request_type)),
            look_for,
        )
        for system in dataset.of_kind(SystemKind.MANUAL)
    ]
