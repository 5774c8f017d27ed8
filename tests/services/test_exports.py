"""An admin's direct export: the preview counts, the recorded internal request, the bundle itself."""

import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from dsr.domain.actors import Actor, ActorKind
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.fulfilment.bundle import BundleKind
from dsr.models import AuditEvent, DataSubjectRequest
from dsr.services.exports import export_bundle, preview_export
from dsr.sources.demo_crm import ASHA, LENA
from dsr.sources.sql_connection import SourceError
from tests.bundle_checks import open_checked_bundle
from tests.sources import crm_fixtures

# The demo CRM, built once per session (pytest finds fixtures by their names in this module).
crm_environ, crm_path, demo_dataset, demo_profile = (
    crm_fixtures.crm_environ,
    crm_fixtures.crm_path,
    crm_fixtures.demo_dataset,
    crm_fixtures.demo_profile,
)

ADMIN = Actor(ActorKind.STAFF, "Ada Admin", None, is_admin=True)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def audit(session, action: str) -> list[AuditEvent]:
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_preview_counts_the_persons_rows_in_every_table(session, demo_dataset, crm_environ):
    preview = preview_export(
        session, ADMIN, NOW, demo_dataset, SubjectIdentities.of(phone="+91 98450-12345"), crm_environ
    )
    assert {c.table.name: c.rows for c in preview.tables if c.rows} == ASHA.rows
    assert preview.total_rows == sum(ASHA.rows.values())
    (task,) = preview.tasks
    assert task.title == "Find and export the person's data in Webinar sign-up spreadsheet"
    assert "Phone number (digits): 919845012345" in task.description
    assert [s.name for s in preview.unreached] == ["Payment processor"]


def test_preview_records_only_which_identifiers_were_used(session, demo_dataset, crm_environ):
    preview_export(session, ADMIN, NOW, demo_dataset, SubjectIdentities.of(email=LENA.email), crm_environ)
    (event,) = audit(session, "export.previewed")
    assert event.details == {"identifiers": ["email"], "rows": 1}  # her email consent; the SMS one has no email
    assert event.actor_label == "Ada Admin"
    assert session.scalar(select(func.count()).select_from(DataSubjectRequest)) == 0


def test_nothing_to_search_for_is_refused(session, demo_dataset, crm_environ):
    with pytest.raises(DomainError, match="at least one identifier"):
        preview_export(session, ADMIN, NOW, demo_dataset, SubjectIdentities.of(email="  "), crm_environ)


def test_export_writes_the_bundle_and_records_a_completed_internal_request(
    session, demo_dataset, demo_profile, crm_environ, crm_path
):
    out = io.BytesIO()
    identities = SubjectIdentities.of(email=ASHA.email, customer_id=ASHA.account_number)
    result = export_bundle(
        session, ADMIN, NOW, out, demo_dataset, demo_profile, identities, BundleKind.ACCESS, crm_environ
    )
    session.commit()

    archive = open_checked_bundle(out.getvalue(), crm_path, ASHA)
    assert "index.html" in archive.namelist()
    assert json.loads(archive.read("manifest.json"))["request"]["reference"] == result.request.reference

    request = session.scalar(select(DataSubjectRequest))
    assert (request.source, request.status, request.request_type) == (
        "admin_export",
        Status.COMPLETED,
        RequestType.ACCESS,
    )
    assert request.requester_name == "Admin export" and request.requester_email == ASHA.email
    assert request.confidential and not request.is_open and request.closed_at == NOW
    trail = session.scalars(
        select(AuditEvent.action).where(AuditEvent.request_id == request.id).order_by(AuditEvent.id)
    )
    assert list(trail) == ["request.submitted", "request.verify", "request.complete", "export.downloaded"]
    (event,) = audit(session, "export.downloaded")
    assert event.details["identifiers"] == ["email", "customer_id"]
    assert event.details["row_counts"] == {f"crm/{table}": rows for table, rows in ASHA.rows.items()}
    assert ASHA.email not in json.dumps(event.details) and ASHA.account_number not in json.dumps(event.details)


def test_portability_export_is_the_machine_readable_part_only(
    session, demo_dataset, demo_profile, crm_environ, crm_path
):
    out = io.BytesIO()
    identities = SubjectIdentities.of(email=ASHA.email)
    export_bundle(session, ADMIN, NOW, out, demo_dataset, demo_profile, identities, BundleKind.PORTABILITY, crm_environ)
    archive = open_checked_bundle(out.getvalue(), crm_path, ASHA)
    assert "index.html" not in archive.namelist()
    assert session.scalar(select(DataSubjectRequest.request_type)) is RequestType.PORTABILITY


def test_a_system_that_cannot_be_read_stops_the_export(session, demo_dataset, demo_profile, tmp_path):
    missing = {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path / 'gone' / 'crm.sqlite3'}"}
    with pytest.raises(SourceError, match="does not exist"):
        export_bundle(
            session,
            ADMIN,
            NOW,
            io.BytesIO(),
            demo_dataset,
            demo_profile,
            SubjectIdentities.of(email=ASHA.email),
            BundleKind.ACCESS,
            missing,
        )
    session.rollback()  # what the caller does: nothing is recorded
    assert session.scalar(select(func.count()).select_from(DataSubjectRequest)) == 0
