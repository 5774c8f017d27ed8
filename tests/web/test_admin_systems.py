"""Admin → Data inventory: what each system holds and why, and a connection test that never leaks a password."""

import html
import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from dsr.models import AuditEvent
from tests.sources import crm_fixtures
from tests.web.conftest import post_form

# The demo CRM, built once per session (pytest finds fixtures by their names in this module).
crm_path = crm_fixtures.crm_path

BROKEN_DATASET = """\
systems:
  crm:
    kind: sql
    name: CRM
    url: sqlite:///crm.sqlite3
    tables:
      customers:
        identity: {email: email}
        fields:
          email: {category: contact, purpose: service, erasure: shred}
          notes: {category: gossip, purpose: service, erasure: retain}
"""


@pytest.fixture(autouse=True)
def crm_url(monkeypatch, crm_path):
    """datasets/demo.yaml reads the CRM's URL from the environment each time it connects."""
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm_path}")


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_the_list_shows_every_system_with_its_kind_and_size(admin_client, app):
    response = admin_client.get("/admin/systems")
    assert response.status_code == 200
    page = text_of(response)
    assert app.config["DSR_DATASET"] in page
    # name, description, kind, tables and declared fields
    assert (
        "Acme CRM database Customers, their contact details, calls, support tickets, invoices, consents and "
        "product usage. sql Database, queried by DSR Desk 8 61"
    ) in page
    assert "Webinar sign-up spreadsheet A shared spreadsheet" in page and "manual Checked by a person — —" in page
    assert "webhook Webhook: sent a signed job — —" in page


def test_the_admin_home_links_to_the_new_pages(admin_client):
    body = admin_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/systems">Data inventory</a>' in body
    assert 'href="/admin/export">Export a data bundle</a>' in body


def test_a_dataset_file_that_does_not_load_shows_its_problems_not_an_error_page(
    admin_client, app, tmp_path, monkeypatch
):
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_DATASET)
    monkeypatch.setitem(app.config, "DSR_DATASET", str(broken))
    monkeypatch.delitem(app.extensions.setdefault("dsr_profile", {}), "dataset", raising=False)
    response = admin_client.get("/admin/systems")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The dataset file cannot be used" in body
    for problem in (
        "10: systems.crm.tables.customers.fields.email.erasure: must be one of delete_row, null, hash, redact, "
        "retain (got 'shred').",
        "11: systems.crm.tables.customers.fields.notes.category: must be one of identity, contact, identifier, "
        "professional, financial, communication, consent, usage, technical, location, other (got 'gossip').",
        "11: systems.crm.tables.customers.fields.notes.retention: is needed to retain data (e.g. '8 years').",
    ):
        assert str(escape(f"{broken}:{problem}")) in body
    # A system's page sends you back to the list, where the problems are.
    assert admin_client.get("/admin/systems/crm").headers["Location"] == "/admin/systems"


def test_a_database_system_shows_categories_purposes_and_what_erasure_does(admin_client):
    response = admin_client.get("/admin/systems/crm")
    assert response.status_code == 200
    page = text_of(response)
    assert "Customer account customers" in page
    assert "Finds the person by Email address ( email ), Phone number ( phone ), Customer id ( account_number )" in page
    assert "contacts , joined on customers.id = contacts.customer_id" in page
    # field, category, purpose (profile label and key), erasure
    assert "email Kept as a hash so we do not contact you again. Contact details" in page
    assert "Providing and supporting the CRM service service Replace with a hash" in page
    assert "invoice_number Tax law requires us to keep invoices. Billing and payments" in page
    assert "Keep for 8 years (legal basis: legal obligation)" in page
    assert "ip_address Devices and network" in page and "security" in page
    assert "Test connection" in page


def test_a_manual_system_shows_its_instructions_and_a_webhook_never_its_secret(admin_client):
    sheet = text_of(admin_client.get("/admin/systems/events_sheet"))
    assert 'Open "Webinar sign-ups" in the marketing shared drive' in sheet
    assert "Default (request types without their own)" in sheet and "Deletion" in sheet
    assert "Test connection" not in sheet
    webhook = admin_client.get("/admin/systems/billing_partner").get_data(as_text=True)
    assert "https://payments.acme-crm.example/dsr/jobs" in webhook
    assert "DSR_DEMO_WEBHOOK_SECRET" in webhook
    assert "demo-webhook-secret-not-for-production" not in webhook


def test_an_unknown_system_is_not_found(admin_client):
    assert admin_client.get("/admin/systems/nothing_here").status_code == 404


def test_connection_test_reports_success_and_is_audited(admin_client, session):
    response = post_form(
        admin_client, "/admin/systems/crm/connection-test", {}, follow=True, token_from="/admin/systems/crm"
    )
    assert "Acme CRM database: connected; all 8 tables and 61 fields found." in response.get_data(as_text=True)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "systems.connection_tested"))
    assert event.details == {"system": "crm", "ok": True} and event.actor_label == "Ada Admin"


def test_connection_test_explains_a_missing_database_file(admin_client, monkeypatch, tmp_path):
    missing = tmp_path / "no-such-directory" / "crm.sqlite3"
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{missing}")
    response = post_form(
        admin_client, "/admin/systems/crm/connection-test", {}, follow=True, token_from="/admin/systems/crm"
    )
    assert f"Acme CRM database: the SQLite file {missing} does not exist." in response.get_data(as_text=True)
    assert not (tmp_path / "no-such-directory").exists()  # checking never creates a database


def test_connection_test_never_shows_the_password(admin_client, monkeypatch, session):
    monkeypatch.setenv("DSR_DEMO_CRM_URL", "postgresql+psycopg://crm:Sup3rSecret-pw@127.0.0.1:1/crm")
    response = post_form(
        admin_client, "/admin/systems/crm/connection-test", {}, follow=True, token_from="/admin/systems/crm"
    )
    body = response.get_data(as_text=True)
    assert "Acme CRM database: could not connect (" in body
    assert "Sup3rSecret-pw" not in body
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "systems.connection_tested"))
    assert event.details == {"system": "crm", "ok": False}


def test_only_database_systems_can_be_tested(admin_client):
    response = post_form(
        admin_client, "/admin/systems/events_sheet/connection-test", {}, token_from="/admin/systems/crm"
    )
    assert response.status_code == 400


def test_a_literal_password_in_a_url_is_never_shown(admin_client, app, tmp_path, monkeypatch):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "systems:\n"
        "  billing:\n"
        "    kind: sql\n"
        "    name: Billing\n"
        "    url: postgresql+psycopg://billing:pa$$w0rd@db.internal/billing\n"
        "    tables:\n"
        "      payers:\n"
        "        identity: {email: email}\n"
        "        purpose: service\n"
        "        erasure: delete_row\n"
        "        fields: {id: {category: identifier}, email: {category: contact}}\n"
    )
    monkeypatch.setitem(app.config, "DSR_DATASET", str(inventory))
    monkeypatch.delitem(app.extensions.setdefault("dsr_profile", {}), "dataset", raising=False)
    body = admin_client.get("/admin/systems/billing").get_data(as_text=True)
    assert "postgresql+psycopg://billing:***@db.internal/billing" in body
    assert "pa$$w0rd" not in body
