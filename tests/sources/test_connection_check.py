"""Checking a `sql` system from the admin pages: a message, never an exception, never a password."""

import sqlite3

from dsr.sources.sql_connection import test_connection as check_connection


def test_a_good_connection_reports_every_table_found(demo_dataset, crm_environ):
    result = check_connection(demo_dataset.system("crm"), crm_environ)
    assert result.ok
    assert result.message == "Acme CRM database: connected; all 8 tables and 61 fields found."


def test_missing_tables_and_columns_are_listed(demo_dataset, crm_path, tmp_path):
    copy = tmp_path / "crm.sqlite3"
    copy.write_bytes(crm_path.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("DROP TABLE usage_events")
        db.execute("ALTER TABLE invoices RENAME COLUMN amount TO total")
    result = check_connection(demo_dataset.system("crm"), {"DSR_DEMO_CRM_URL": f"sqlite:///{copy}"})
    assert not result.ok
    assert result.message == (
        "Acme CRM database: connected, but invoices has no column amount; the table usage_events does not exist."
    )


def test_failures_are_explained_without_the_password(demo_dataset):
    crm = demo_dataset.system("crm")
    unreachable = check_connection(crm, {"DSR_DEMO_CRM_URL": "postgresql+psycopg://crm:Sup3rSecret@127.0.0.1:1/crm"})
    assert not unreachable.ok
    assert unreachable.message.startswith("Acme CRM database: could not connect (")
    assert "Sup3rSecret" not in unreachable.message
    unset = check_connection(crm, {})  # the demo URL's default: a relative file that is not there
    assert not unset.ok and "does not exist" in unset.message
    nonsense = check_connection(crm, {"DSR_DEMO_CRM_URL": "not a url"})
    assert nonsense.message == "Acme CRM database: the database URL is not a valid SQLAlchemy URL."


def test_only_sql_systems_can_be_checked(demo_dataset):
    result = check_connection(demo_dataset.system("events_sheet"))
    assert not result.ok and "is a manual system, not a database" in result.message
