"""`flask dsr export` writes one person's bundle to a file; `flask dsr demo` also builds the demo CRM, once."""

import sqlite3

from sqlalchemy import select

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.models import AuditEvent, DataSubjectRequest
from dsr.sources.demo_crm import ASHA
from tests.bundle_checks import open_checked_bundle
from tests.sources import crm_fixtures

# The demo CRM, built once per session (pytest finds fixtures by their names in this module).
crm_path = crm_fixtures.crm_path


def run(app, *args):
    return app.test_cli_runner().invoke(args=["dsr", *args])


def test_export_writes_the_bundle_records_the_request_and_prints_the_counts(
    app, session, monkeypatch, crm_path, tmp_path
):
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm_path}")
    target = tmp_path / "asha.zip"
    result = run(app, "export", "--phone", ASHA.phone, "--customer-id", ASHA.account_number, "-o", str(target))
    assert result.exit_code == 0, result.output
    request = session.scalar(select(DataSubjectRequest))
    assert result.output.startswith(f"{request.reference}: access bundle written to {target}\n")
    assert "  crm/call_logs: 12 rows\n" in result.output and "  crm/customers: 1 row\n" in result.output
    archive = open_checked_bundle(target.read_bytes(), crm_path, ASHA)
    assert "index.html" in archive.namelist()
    assert (request.source, request.status, request.request_type) == (
        "admin_export",
        Status.COMPLETED,
        RequestType.ACCESS,
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.downloaded"))
    assert event.actor_label == "command line" and event.details["identifiers"] == ["phone", "customer_id"]


def test_portability_export(app, session, monkeypatch, crm_path, tmp_path):
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm_path}")
    target = tmp_path / "asha.zip"
    result = run(app, "export", "--email", ASHA.email, "--portability", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "index.html" not in open_checked_bundle(target.read_bytes(), crm_path, ASHA).namelist()
    assert session.scalar(select(DataSubjectRequest.request_type)) is RequestType.PORTABILITY


def test_export_needs_an_identifier_and_a_readable_system(app, session, monkeypatch, tmp_path):
    target = tmp_path / "bundle.zip"
    missing = run(app, "export", "-o", str(target))
    assert missing.exit_code == 2 and "at least one of --email, --phone, --customer-id" in missing.output
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{tmp_path / 'gone.sqlite3'}")
    failed = run(app, "export", "--email", ASHA.email, "-o", str(target))
    assert failed.exit_code == 1 and "the SQLite file" in failed.output and "does not exist" in failed.output
    assert list(tmp_path.iterdir()) == []  # no half-written ZIP
    assert session.scalar(select(DataSubjectRequest)) is None


def test_demo_builds_the_demo_crm_once_where_the_dataset_reads_it(app, session, monkeypatch, tmp_path):
    crm = tmp_path / "instance" / "crm.sqlite3"
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm}")
    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    assert f"Demo CRM: created {crm}" in first.output
    with sqlite3.connect(crm) as db:
        assert db.execute("SELECT full_name FROM customers WHERE email = ?", (ASHA.email,)).fetchone() == (
            ASHA.full_name,
        )
    built = crm.stat().st_mtime_ns
    second = run(app, "demo")
    assert f"Demo CRM: {crm} (already there" in second.output
    assert crm.stat().st_mtime_ns == built


def test_export_to_a_folder_that_does_not_exist_is_explained(app, session, monkeypatch, crm_path, tmp_path):
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm_path}")
    result = run(app, "export", "--email", ASHA.email, "-o", str(tmp_path / "missing" / "asha.zip"))
    assert result.exit_code == 1 and "Cannot write" in result.output and "No such file or directory" in result.output
    assert session.scalar(select(DataSubjectRequest)) is None
