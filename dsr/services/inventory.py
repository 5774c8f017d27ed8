"""Loading the data inventory (the dataset file) that says where personal data lives, and checking it."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset, DatasetError, System
from dsr.domain.dataset_parser import parse_dataset
from dsr.services.audit import record_event
from dsr.sources.sql_connection import ConnectionCheck, test_connection
from dsr.yamlfile import YamlFileError, load_yaml


def load_dataset(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    purposes: Collection[str] | None = None,
    consent_topics: Collection[str] | None = None,
) -> Dataset:
    """Read and validate a dataset file; DatasetError lists every problem as `<file>:<line>: <key>: <problem>`.

    `environ` (default: the process environment) supplies ${NAME} variables; they stay unexpanded
    in the Dataset and are filled in only when a connector connects. Pass the profile's purpose
    keys as `purposes` (and its consent topic keys as `consent_topics`) to check that the file names them.
    """
    try:
        document = load_yaml(path, "dataset file")
    except YamlFileError as exc:
        raise DatasetError([str(exc)]) from None
    environ = os.environ if environ is None else environ
    return parse_dataset(document.data, str(path), document.where, environ, purposes, consent_topics)


def check_connection(
    session: Session, actor: Actor, now: datetime, system: System, environ: Mapping[str, str] | None = None
) -> ConnectionCheck:
    """Try a `sql` system's connection and declared tables; audited, since it touches a production database."""
    check = test_connection(system, environ)
    record_event(session, actor, "systems.connection_tested", now, system=system.key, ok=check.ok)
    session.flush()
    return check
