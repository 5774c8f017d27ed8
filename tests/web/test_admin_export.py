"""Admin → Export a data bundle: search, preview what the systems hold, download the ZIP."""

import html
import json
import re

import pytest
from sqlalchemy import func, select

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.models import AuditEvent, DataSubjectRequest
from dsr.sources.demo_crm import ASHA, TOMAS
from tests.bundle_checks import open_checked_bundle
from tests.sources import crm_fixtures
from tests.web.conftest import post_form

# The demo CRM, built once per session (pytest finds fixtures by their names in this module).
crm_path = crm_fixtures.crm_path

EMPTY = {"email": "", "phone": "", "customer_id": ""}


@pytest.fixture(autouse=True)
def crm_url(monkeypatch, crm_path):
    """datasets/demo.yaml reads the CRM's URL from the environment each time it connects."""
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm_path}")


def search(client, **fields):
    return post_form(client, "/admin/export", {**EMPTY, **fields})


def export(client, kind="access", **fields):
    return post_form(client, "/admin/export/bundle", {**EMPTY, "kind": kind, **fields}, token_from="/admin/export")


def requests_recorded(session) -> int:
    return session.scalar(select(func.count()).select_from(DataSubjectRequest))


def export_events(session) -> list[str]:
    return session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("export.%"))).all()


def test_the_search_form_labels_every_field(admin_client):
    body = admin_client.get("/admin/export").get_data(as_text=True)
    for name, label in (("email", "Email address"), ("phone", "Phone number"), ("customer_id", "Customer id")):
        assert f'<label for="{name}">{label}</label>' in body
        assert f'id="{name}"' in body


def test_a_search_needs_at_least_one_identifier(admin_client, session):
    response = search(admin_client)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<p class="error" id="email-error">Enter at least one: an email address, a phone number', body)
    assert "Please correct the highlighted fields" in body
    assert export_events(session) == []


def test_a_malformed_identifier_is_explained_beside_it_and_kept(admin_client):
    body = search(admin_client, email="asha.verma(at)example.com", customer_id="AC-100001").get_data(as_text=True)
    assert '<p class="error" id="email-error">Enter an email address like name@example.com.</p>' in body
    assert 'value="asha.verma(at)example.com"' in body and 'value="AC-100001"' in body
    assert "What the systems hold" not in body


def test_the_preview_counts_the_persons_records_without_recording_a_request(admin_client, session):
    response = search(admin_client, email=ASHA.email.upper())
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "What the systems hold" in body
    shown = dict(re.findall(r"<code>(\w+)</code></td>\s*<td class=\"number\">(\d+)</td>", body))
    assert {table: int(rows) for table, rows in shown.items() if rows != "0"} == ASHA.rows
    assert f"{sum(ASHA.rows.values())} records found." in body
    assert "Find and export the person&#39;s data in Webinar sign-up spreadsheet" in body
    assert "Email address: asha.verma@example.com" in body  # the task text tells staff what to look for
    assert "Payment processor" in body  # webhooks are named as not asked
    assert requests_recorded(session) == 0
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.previewed"))
    assert event.details == {"identifiers": ["email"], "rows": sum(ASHA.rows.values())}
    assert event.actor_label == "Ada Admin"


def test_the_preview_carries_the_search_into_the_export_form(admin_client):
    body = search(admin_client, phone=TOMAS.phone).get_data(as_text=True)
    export_form = body[body.index('action="/admin/export/bundle"') :]
    assert f'name="phone" value="{html.escape(TOMAS.phone)}"' in export_form
    assert '<input checked id="kind-0" name="kind" required type="radio" value="access">' in export_form
    assert '<label for="kind-1">Portability' in export_form


def test_export_downloads_the_persons_bundle_and_records_it(admin_client, session, admin_user, crm_path):
    response = export(admin_client, email=ASHA.email)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    request = session.scalar(select(DataSubjectRequest))
    assert response.headers["Content-Disposition"] == f'attachment; filename="{request.reference}.zip"'
    content = response.get_data()
    assert int(response.headers["Content-Length"]) == len(content)
    archive = open_checked_bundle(content, crm_path, ASHA)
    assert "index.html" in archive.namelist()
    assert json.loads(archive.read("data.json"))["request"]["reference"] == request.reference

    assert (request.source, request.status, request.request_type) == (
        "admin_export",
        Status.COMPLETED,
        RequestType.ACCESS,
    )
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.downloaded"))
    assert (event.actor_user_id, event.actor_label, event.request_id) == (admin_user.id, "Ada Admin", request.id)
    assert ASHA.email not in json.dumps(event.details)


def test_a_portability_export_holds_the_machine_readable_part(admin_client, session, crm_path):
    response = export(admin_client, kind="portability", customer_id=ASHA.account_number)
    archive = open_checked_bundle(response.get_data(), crm_path, ASHA)
    assert "index.html" not in archive.namelist() and "csv/crm/call_logs.csv" in archive.namelist()
    assert session.scalar(select(DataSubjectRequest.request_type)) is RequestType.PORTABILITY


def test_an_export_that_fails_records_nothing_and_says_why(admin_client, session, monkeypatch, tmp_path):
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{tmp_path / 'gone' / 'crm.sqlite3'}")
    response = export(admin_client, email=ASHA.email)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "No bundle was exported: Acme CRM database: the SQLite file" in body
    assert f'value="{ASHA.email}"' in body  # the search is kept, ready to try again
    assert requests_recorded(session) == 0
    assert export_events(session) == []


def test_an_export_without_an_identifier_is_refused(admin_client, session):
    response = export(admin_client)
    assert response.status_code == 400
    assert "Enter at least one" in response.get_data(as_text=True)
    assert requests_recorded(session) == 0


def test_an_unreachable_database_is_explained_without_its_password(admin_client, session, monkeypatch):
    monkeypatch.setenv("DSR_DEMO_CRM_URL", "postgresql+psycopg://crm:Sup3rSecret-pw@127.0.0.1:1/crm")
    body = search(admin_client, email=ASHA.email).get_data(as_text=True)
    assert "Acme CRM database: could not read the database (" in body
    assert "Sup3rSecret-pw" not in body
    assert f'value="{ASHA.email}"' in body and export_events(session) == []
