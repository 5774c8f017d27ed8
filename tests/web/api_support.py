"""What the API tests share: keys made through the real service, and a caller that sends them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from dsr.domain.actors import Actor
from dsr.domain.api import Scope
from dsr.encryption import derived_key
from dsr.services.api_keys import create_api_key

ALL_SCOPES = tuple(Scope)
ACCESS_REQUEST = {"type": "access", "requester": {"name": "Ada Lovelace", "email": "ada@example.org"}}


def make_key(session, scopes=ALL_SCOPES, name: str = "Support desk") -> str:
    hash_key = derived_key(current_app.config, "api_hash")
    _, secret = create_api_key(session, Actor.system("tests"), datetime.now(UTC), hash_key, name, scopes)
    session.commit()
    return secret


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def call(client, method: str, path: str, key: str | None = None, **kwargs):
    headers = {**(bearer(key) if key else {}), **kwargs.pop("headers", {})}
    return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
