"""Finding one person's rows in the demo CRM: all of theirs, in every table, and nobody else's."""

import sqlite3
from collections import defaultdict

import pytest

from dsr.domain.dataset import SubjectIdentities
from dsr.services.inventory import load_dataset
from dsr.sources.demo_crm import ASHA, CHLOE, LENA, TOMAS
from dsr.sources.sql import count_subject_rows, find_subject
from dsr.sources.sql_connection import SourceError


def found_ids(dataset, environ, **identities) -> dict[str, set[int]]:
    """Table → ids of the rows found (every demo table has an `id` first)."""
    ids = defaultdict(set)
    for batch in find_subject(dataset, SubjectIdentities.of(**identities), environ, batch_size=7):
        ids[batch.table.name].update(row[0] for row in batch.rows)
    return dict(ids)


def expected_ids(crm_path, account_number: str | None, email: str, phone: str) -> dict[str, set[int]]:
    """The same answer, worked out by hand with plain SQL on the CRM."""
    db = sqlite3.connect(crm_path)
    customer = db.execute("SELECT id FROM customers WHERE account_number = ?", (account_number,)).fetchone()
    queries = {
        "customers": "SELECT id FROM customers WHERE id = :customer",
        "contacts": "SELECT id FROM contacts WHERE customer_id = :customer",
        "call_logs": "SELECT id FROM call_logs WHERE customer_id = :customer OR phone_number = :phone",
        "support_tickets": "SELECT id FROM support_tickets WHERE customer_id = :customer",
        "ticket_replies": "SELECT r.id FROM ticket_replies r JOIN support_tickets t ON t.id = r.ticket_id "
        "WHERE t.customer_id = :customer",
        "invoices": "SELECT id FROM invoices WHERE customer_id = :customer",
        "marketing_consents": "SELECT id FROM marketing_consents "
        "WHERE customer_id = :customer OR email = :email OR phone = :phone",
        "usage_events": "SELECT id FROM usage_events WHERE customer_id = :customer",
    }
    params = {"customer": customer[0] if customer else None, "email": email, "phone": phone}
    expected = {table: {r[0] for r in db.execute(sql, params)} for table, sql in queries.items()}
    db.close()
    return {table: ids for table, ids in expected.items() if ids}


def test_by_email_finds_every_row_of_the_person_and_nobody_elses(demo_dataset, crm_environ, crm_path):
    found = found_ids(demo_dataset, crm_environ, email="  ASHA.Verma@example.com")
    assert found == expected_ids(crm_path, ASHA.account_number, ASHA.email, ASHA.phone)
    assert {table: len(ids) for table, ids in found.items()} == ASHA.rows


@pytest.mark.parametrize(
    "identities",
    [
        {"phone": "+91 98450-12345"},
        {"phone": "919845012345"},
        {"customer_id": "AC-100001"},
        {"email": "asha.verma@example.com", "phone": "+919845012345", "customer_id": "AC-100001"},
    ],
)
def test_by_phone_or_customer_id_finds_the_same_rows(demo_dataset, crm_environ, identities):
    found = found_ids(demo_dataset, crm_environ, **identities)
    assert {table: len(ids) for table, ids in found.items()} == ASHA.rows


def test_an_email_stored_with_odd_case_and_spaces_is_still_found(demo_dataset, crm_environ, crm_path):
    assert CHLOE.stored_email != CHLOE.email
    found = found_ids(demo_dataset, crm_environ, email=CHLOE.email)
    assert found == expected_ids(crm_path, CHLOE.account_number, CHLOE.stored_email, CHLOE.phone)
    assert {table: len(ids) for table, ids in found.items()} == {k: v for k, v in CHLOE.rows.items() if v}


def test_someone_who_is_only_on_the_newsletter_is_found_there(demo_dataset, crm_environ):
    by_email = found_ids(demo_dataset, crm_environ, email=LENA.email)
    by_both = found_ids(demo_dataset, crm_environ, email=LENA.email, phone=LENA.phone)
    assert {t: len(ids) for t, ids in by_email.items()} == {"marketing_consents": 1}  # the email sign-up
    assert {t: len(ids) for t, ids in by_both.items()} == {"marketing_consents": 2}  # and the SMS one


def test_a_stranger_finds_nothing(demo_dataset, crm_environ):
    records = find_subject(demo_dataset, SubjectIdentities.of(email="nobody@example.com"), crm_environ)
    assert list(records) == []
    assert set(records.counts.values()) == {0}
    assert list(find_subject(demo_dataset, SubjectIdentities(), crm_environ)) == []


def test_rows_are_plain_tuples_in_declared_column_order(demo_dataset, crm_environ):
    batches = list(find_subject(demo_dataset, SubjectIdentities.of(email=TOMAS.email), crm_environ))
    customers = next(b for b in batches if b.table.name == "customers")
    (row,) = customers.rows
    assert dict(zip(customers.table.columns, row, strict=True))["full_name"] == "Tomás Oliveira"
    invoices = next(b for b in batches if b.table.name == "invoices")
    assert all(isinstance(r[invoices.table.columns.index("issued_at")], str) for r in invoices.rows)


def test_counts_match_the_rows_streamed(demo_dataset, crm_environ):
    identities = SubjectIdentities.of(email=ASHA.email)
    records = find_subject(demo_dataset, identities, crm_environ)
    streamed = sum(len(b.rows) for b in records)
    counted = count_subject_rows(demo_dataset, identities, crm_environ)
    assert counted == records.counts
    assert sum(counted.values()) == streamed == sum(ASHA.rows.values())


def test_a_missing_database_or_column_is_a_clear_error(demo_dataset, crm_path, tmp_path):
    missing = {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path / 'gone.sqlite3'}"}
    with pytest.raises(SourceError, match="the SQLite file .*gone.sqlite3 does not exist"):
        list(find_subject(demo_dataset, SubjectIdentities.of(email=ASHA.email), missing))
    assert not (tmp_path / "gone.sqlite3").exists()  # looking never creates an empty database
    altered = tmp_path / "altered.sqlite3"
    altered.write_bytes(crm_path.read_bytes())
    with sqlite3.connect(altered) as db:
        db.execute("ALTER TABLE call_logs RENAME COLUMN notes TO remarks")
    with pytest.raises(SourceError, match="call_logs has no column notes"):
        list(
            find_subject(
                demo_dataset, SubjectIdentities.of(email=ASHA.email), {"DSR_DEMO_CRM_URL": f"sqlite:///{altered}"}
            )
        )


def test_a_customer_id_column_holding_numbers(tmp_path, crm_environ):
    path = tmp_path / "numbers.yaml"
    path.write_text(
        "systems:\n  crm:\n    kind: sql\n    name: CRM\n    url: ${DSR_DEMO_CRM_URL}\n    tables:\n"
        "      customers:\n        identity: {customer_id: id}\n        fields:\n"
        "          id: {category: identifier, purpose: service, erasure: retain, legal_basis: contract, "
        "retention: 1 year}\n          full_name: {category: identity, purpose: service, erasure: redact}\n"
    )
    dataset = load_dataset(path, environ=crm_environ)
    (batch,) = find_subject(dataset, SubjectIdentities.of(customer_id=" 1 "), crm_environ)
    assert batch.rows == [(1, "Asha Verma")]
    assert list(find_subject(dataset, SubjectIdentities.of(customer_id="AC-100001"), crm_environ)) == []
