"""The demo CRM: the same seed gives the same people, and `flask dsr demo-crm` writes it."""

import sqlite3

from dsr.sources.demo_crm import ASHA, DEMO_PEOPLE, create_demo_crm
from dsr.sources.demo_crm_bulk import create_bulk_crm


def dump(path) -> list:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def test_the_same_seed_gives_the_same_crm(tmp_path):
    first = create_demo_crm(tmp_path / "a.sqlite3", people=15, seed=3)
    second = create_demo_crm(tmp_path / "b.sqlite3", people=15, seed=3)
    other = create_demo_crm(tmp_path / "c.sqlite3", people=15, seed=4)
    assert dump(first) == dump(second) != dump(other)
    with sqlite3.connect(first) as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (15 + 3,)  # Lena is no customer
        emails = [r[0] for r in db.execute("SELECT email FROM customers")]
    assert len(set(emails)) == len(emails)
    assert all(e.strip().lower().endswith((".example", "example.com", "example.net", "example.org")) for e in emails)


def test_recreating_replaces_the_old_file(tmp_path):
    path = create_demo_crm(tmp_path / "crm.sqlite3", people=30)
    create_demo_crm(path, people=2)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (5,)


def test_the_cli_command_writes_the_crm_and_names_the_people_to_look_up(app, tmp_path):
    target = tmp_path / "crm.sqlite3"
    result = app.test_cli_runner().invoke(args=["dsr", "demo-crm", "--path", str(target), "--people", "5"])
    assert result.exit_code == 0, result.output
    assert f"Demo CRM written to {target}" in result.output
    assert all(p.email in result.output for p in DEMO_PEOPLE)
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT full_name FROM customers WHERE email = ?", (ASHA.email,)).fetchone() == (
            ASHA.full_name,
        )


def test_the_bulk_crm_gives_one_person_the_asked_for_rows(tmp_path):
    subject = create_bulk_crm(f"sqlite:///{tmp_path / 'bulk.sqlite3'}", child_rows=1000, other_customers=50)
    assert subject.counts == {"customers": 1, "invoices": 500, "call_logs": 250, "support_tickets": 250}
    with sqlite3.connect(tmp_path / "bulk.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (51,)
        assert db.execute("SELECT count(*) FROM invoices WHERE customer_id = 1").fetchone() == (500,)
        assert db.execute("SELECT count(*) FROM invoices").fetchone() == (550,)
