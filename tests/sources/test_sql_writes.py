"""Writing to a source database: real transactions, foreign keys checked, errors without the password."""

import shutil
import sqlite3

import pytest
from sqlalchemy import text

from dsr.sources.sql_connection import SourceError
from dsr.sources.sql_writes import column_specs, writing


@pytest.fixture
def crm(crm_path, tmp_path, demo_dataset):
    shutil.copyfile(crm_path, tmp_path / "crm.sqlite3")
    return demo_dataset.system("crm"), {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}"}, tmp_path


def test_sqlite_takes_the_write_lock_when_the_transaction_begins(crm):
    system, environ, folder = crm
    with writing(system, environ) as connection, connection.begin():
        connection.execute(text("SELECT 1"))  # a read only, yet no one else may write until we commit
        other = sqlite3.connect(folder / "crm.sqlite3", timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("UPDATE customers SET plan = 'free'")
        other.close()


def test_sqlite_checks_foreign_keys_as_the_servers_do(crm):
    system, environ, _ = crm
    refused = r"Acme CRM database: the database refused the change \(FOREIGN KEY"
    with pytest.raises(SourceError, match=refused), writing(system, environ) as connection, connection.begin():
        connection.execute(text("DELETE FROM customers WHERE id = 1"))  # Asha's invoices refer to it


def test_column_specs_tell_type_and_nullability(crm):
    system, environ, _ = crm
    with writing(system, environ) as connection, connection.begin():
        specs = column_specs(connection, system)
    assert specs["customers"]["country"].nullable and not specs["customers"]["plan"].nullable
    assert specs["customers"]["country"].type.length == 2


def test_a_refused_change_never_shows_the_password(demo_dataset):
    system = demo_dataset.system("crm")
    environ = {"DSR_DEMO_CRM_URL": "postgresql+psycopg://crm:Sup3rSecret@127.0.0.1:1/crm"}
    with pytest.raises(SourceError) as refused, writing(system, environ) as connection:
        connection.execute(text("SELECT 1"))
    assert "Sup3rSecret" not in str(refused.value)
