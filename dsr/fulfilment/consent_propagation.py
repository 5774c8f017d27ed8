"""Carrying a person's consent or restriction into the systems of the data inventory.

`sql` systems: one UPDATE per declared column, on the person's rows only (found the way the access
bundle finds them: identity columns, then references) and only where the value differs, so running
it twice changes nothing the second time. `webhook` systems: a signed job, POSTed when the
propagation job runs (signed at sending time, so the receiver's five-minute window holds).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from dsr.domain.dataset import SubjectIdentities, System, SystemKind, expand
from dsr.sources.sql import _Statements, column_types
from dsr.sources.sql_connection import SourceError, connect, describe_error, system_url
from dsr.sources.webhook import WebhookJob, signed_headers, webhook_secret

SCOPE_STATES = {"consent": ("granted", "withdrawn"), "restriction": ("restricted", "lifted")}
SCOPE_KEYS = {"consent": "topic", "restriction": "purpose"}


def state_name(scope: str, on: bool) -> str:
    """'granted' / 'withdrawn' for consent, 'restricted' / 'lifted' for restriction."""
    return SCOPE_STATES[scope][0 if on else 1]


def write_columns(
    system: System,
    scope: str,
    key: str,
    on: bool,
    people: list[SubjectIdentities],
    environ: Mapping[str, str] | None = None,
) -> int:
    """Write the on/off value into the person's rows of every column declared for (scope, key); rows changed."""
    engine = connect(system, environ, read_only=False)
    changed = 0
    try:
        with engine.begin() as connection:
            types = column_types(connection, system)
            for identities in people:
                statements = _Statements(system, identities, types)
                for table in system.tables:
                    for column, flag in table.flag_columns(scope, key):
                        condition = statements.matching(table.name)
                        if condition is None:
                            continue
                        clause = statements.clauses[table.name]
                        value, target = flag.on if on else flag.off, clause.c[column]
                        only = [clause.c[name] == expected for name, expected in flag.when]
                        statement = (
                            update(clause)
                            .where(condition, *only, or_(target.is_(None), target != value))
                            .values({column: value})
                        )
                        changed += connection.execute(statement).rowcount
    except SQLAlchemyError as exc:
        url = system_url(system, environ)
        raise SourceError(f"{system.name}: could not write the change ({describe_error(exc, url)}).") from exc
    finally:
        engine.dispose()
    return changed


def webhook_job(
    system: System,
    job_id: str,
    scope: str,
    key: str,
    on: bool,
    people: list[SubjectIdentities],
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> WebhookJob:
    """The signed job telling a webhook system the person's current state for one topic or purpose."""
    if system.kind is not SystemKind.WEBHOOK:
        raise ValueError(f"{system.name} is not a webhook system.")
    payload = {
        "job_id": job_id,
        "type": scope,
        SCOPE_KEYS[scope]: key,
        "state": state_name(scope, on),
        "subject": {
            "email": sorted({p.email for p in people if p.email}),
            "phone": sorted({p.phone for p in people if p.phone}),
        },
        "issued_at": now.isoformat(),
    }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    url = expand(system.url, os.environ if environ is None else environ)
    return WebhookJob(system.key, url, body, signed_headers(webhook_secret(system, environ), body, now))


def post_job(job: WebhookJob, timeout: float = 10.0) -> None:
    """POST the job; SourceError unless the system answers 2xx (the caller retries later)."""
    if not job.url.startswith(("https://", "http://")):
        raise SourceError(f"{job.system_key}: the webhook address is not http(s).")
    post = urllib.request.Request(job.url, data=job.body, method="POST", headers=job.headers)  # noqa: S310
    try:
        with urllib.request.urlopen(post, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise SourceError(f"{job.system_key}: the webhook answered {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SourceError(f"{job.system_key}: the webhook could not be reached ({str(reason)[:200]}).") from None
