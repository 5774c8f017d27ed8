"""Who performs an operation; services take an Actor instead of reading the web session."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "staff"
    REQUESTER = "requester"
    SYSTEM = "system"
    API = "api"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user_id: int | None = None
    is_admin: bool = False

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, label)

    @classmethod
    def requester(cls) -> Actor:
        return cls(ActorKind.REQUESTER, "requester")
