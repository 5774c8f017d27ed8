"""An admin's direct export of one person's data bundle (DESIGN: admins export any person's bundle).

A preview only counts rows and records that someone looked (which kinds of identifier, never the
identifiers themselves). The export itself is recorded as an internal request (source
"admin_export", confidential, identity established by the admin) that goes straight through the
lifecycle to completed, so the register of requests shows every bundle that left the building.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset, SubjectIdentities, System, SystemKind, Table
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.fulfilment.bundle import BundleKind, BundleRequest, BundleSummary, write_bundle
from dsr.models import DataSubjectRequest
from dsr.services.audit import record_event
from dsr.services.organisation import legal_clock
from dsr.services.requests import NewRequest, submit_request, transition
from dsr.sources.manual import ManualTask, manual_tasks
from dsr.sources.prefetch import prefetched
from dsr.sources.sql import count_subject_rows, find_subject

SOURCE = "admin_export"
REQUESTER_NAME = "Admin export"
REQUEST_TYPES = {BundleKind.ACCESS: RequestType.ACCESS, BundleKind.PORTABILITY: RequestType.PORTABILITY}


@dataclass(frozen=True)
class TableCount:
    system: System
    table: Table
    rows: int


@dataclass(frozen=True)
class ExportPreview:
    tables: list[TableCount]
    tasks: list[ManualTask]  # manual systems: a person has to look there
    unreached: list[System]  # webhook systems: a direct export does not send them a job

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


@dataclass(frozen=True)
class ExportResult:
    request: DataSubjectRequest
    summary: BundleSummary


def identifier_kinds(identities: SubjectIdentities) -> list[str]:
    """What the audit log keeps of a search: which kinds of identifier were used, not their values."""
    return [str(kind) for kind, _ in identities.items()]


def _require_identifier(identities: SubjectIdentities) -> None:
    if not identities.items():
        raise DomainError("Give at least one identifier: an email address, a phone number or a customer id.")


def preview_export(
    session: Session,
    actor: Actor,
    now: datetime,
    dataset: Dataset,
    identities: SubjectIdentities,
    environ: Mapping[str, str] | None = None,
) -> ExportPreview:
    """How many rows each table holds about the person, and what would need a person to check."""
    _require_identifier(identities)
    counts = count_subject_rows(dataset, identities, environ)
    tables = [
        TableCount(system, table, counts.get((system.key, table.name), 0))
        for system in dataset.of_kind(SystemKind.SQL)
        for table in system.tables
    ]
    preview = ExportPreview(
        tables, manual_tasks(dataset, RequestType.ACCESS, identities), list(dataset.of_kind(SystemKind.WEBHOOK))
    )
    record_event(
        session, actor, "export.previewed", now, identifiers=identifier_kinds(identities), rows=preview.total_rows
    )
    session.flush()
    return preview


def export_bundle(
    session: Session,
    actor: Actor,
    now: datetime,
    out: BinaryIO,
    dataset: Dataset,
    profile: OrganisationProfile,
    identities: SubjectIdentities,
    kind: BundleKind,
    environ: Mapping[str, str] | None = None,
) -> ExportResult:
    """Record the internal request, write the person's bundle ZIP into `out`, and complete the request.

    If writing fails, the exception propagates and the caller rolls back: nothing is recorded.
    """
    _require_identifier(identities)
    request = submit_request(
        session,
        actor,
        now,
        NewRequest(
            request_type=REQUEST_TYPES[kind],
            jurisdiction=str(profile.default_jurisdiction),
            requester_name=REQUESTER_NAME,
            requester_email=identities.email or "",
            requester_phone=identities.phone,
            form_data={"data_point": identities.customer_id} if identities.customer_id else {},
            source=SOURCE,
        ),
        legal_clock(profile),
    )
    request.confidential = True  # staff who cannot export should not read who was exported either
    request.add_factor(Factor.MANUAL)  # the admin vouches for whom they export
    transition(session, actor, now, request, Action.VERIFY, by="admin export")
    about = BundleRequest(request.reference, kind, now, identities)
    # The database is read one batch ahead in a thread while this one writes the ZIP.
    with closing(prefetched(find_subject(dataset, identities, environ))) as batches:
        summary = write_bundle(out, batches, dataset, profile, about)
    transition(session, actor, now, request, Action.COMPLETE)
    record_event(
        session,
        actor,
        "export.downloaded",
        now,
        request,
        type=str(kind),
        identifiers=identifier_kinds(identities),
        row_counts=summary.row_counts,
    )
    session.flush()
    return ExportResult(request, summary)
