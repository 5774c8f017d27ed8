"""Absolute URLs that go into messages. The web layer builds them; services only call them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Links:
    verify_link: Callable[[str], str]  # link token -> confirmation page
    status_link: Callable[[Any], str]  # request -> signed status page link
    verify_page: Callable[[Any], str] | None = None  # request -> its code-entry page (API-filed requests)
