"""Correction: staff see each field's current value next to the proposed one, and approved changes are
written all together or not at all. Writing runs on every source database (see test_erasure.py)."""

import shutil
import sqlite3
from decimal import Decimal

import pytest

from dsr.domain.dataset import SubjectIdentities
from dsr.fulfilment.correction import (
    Correction,
    CorrectionError,
    FieldRef,
    apply_corrections,
    correctable_fields,
    current_values,
)
from dsr.sources.demo_crm import ASHA, TOMAS
from tests.fulfilment.erasure_helpers import others, their_keys
from tests.sources.source_databases import source_crm_fixture  # noqa: F401

TOMAS_IDS = SubjectIdentities.of(email=TOMAS.email)


@pytest.fixture
def crm_copy(crm_path, tmp_path) -> dict[str, str]:
    shutil.copyfile(crm_path, tmp_path / "crm.sqlite3")
    return {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}"}


def database(environ) -> sqlite3.Connection:
    return sqlite3.connect(environ["DSR_DEMO_CRM_URL"].removeprefix("sqlite:///"))


def test_current_values_are_the_persons_rows_field_by_field(demo_dataset, crm_environ):
    fields = [FieldRef("crm", "customers", "full_name"), FieldRef("crm", "customers", "email"),
              FieldRef("crm", "invoices", "amount"), FieldRef("crm", "customers", "account_number")]  # fmt: skip
    customers, invoices = current_values(demo_dataset, TOMAS_IDS, fields, crm_environ)
    assert customers.columns == ("full_name", "email", "account_number")
    assert customers.correctable == (True, True, False)
    ((key, values),) = customers.rows
    assert values == {"full_name": "Tomás Oliveira", "email": TOMAS.email, "account_number": "AC-100002"}
    with database(crm_environ) as db:
        amounts = db.execute("SELECT id, amount FROM invoices WHERE customer_id = ? ORDER BY id", key).fetchall()
    assert [(k, Decimal(v["amount"])) for k, v in invoices.rows] == [((i,), Decimal(str(a))) for i, a in amounts]
    assert invoices.total_rows == 3
    (cut,) = current_values(demo_dataset, TOMAS_IDS, fields[2:3], crm_environ, limit=2)
    assert (len(cut.rows), cut.total_rows) == (2, 3)
    with pytest.raises(CorrectionError, match=r"crm\.customers\.shoe_size: no such field"):
        current_values(demo_dataset, TOMAS_IDS, [FieldRef("crm", "customers", "shoe_size")], crm_environ)


def test_one_bad_change_means_nothing_is_written(demo_dataset, crm_copy):
    with database(crm_copy) as db:
        before = list(db.iterdump())
    (asha_contact,) = {k for k, _ in current_values(
        demo_dataset, SubjectIdentities.of(email=ASHA.email), [FieldRef("crm", "contacts", "label")], crm_copy
    )[0].rows[:1]}  # fmt: skip
    changes = [
        Correction("crm", "customers", "full_name", "Tomás Oliveira Santos"),  # fine on its own
        Correction("crm", "customers", "phone", "+55 11 91234 5678 9999 9999 9999 9999 99"),
        Correction("crm", "customers", "account_number", "AC-9"),
        Correction("crm", "contacts", "is_primary", "perhaps"),
        Correction("crm", "contacts", "label", "Home", row_key=asha_contact),  # Asha's, not Tomás's
        Correction("crm", "customers", "full_name", "Tomás O."),
        Correction("crm", "invoices", "amount", "12.345"),
        Correction("billing_partner", "cards", "holder", "T"),
    ]
    with pytest.raises(CorrectionError) as refused:
        apply_corrections(demo_dataset, TOMAS_IDS, changes, crm_copy)
    assert refused.value.problems == [
        "#2 crm.customers.phone: must be at most 32 characters (got '+55 11 91234 5678 9999 9999 9999 9999 99').",
        "#3 crm.customers.account_number: an identifier or key; it cannot be corrected.",
        "#4 crm.contacts.is_primary: must be true or false (got 'perhaps').",
        f"#5 crm.contacts.label: row [{asha_contact[0]}] is not one of the person's rows.",
        "#6 crm.customers.full_name: the same field of the same rows is already changed by #1.",
        "#7 crm.invoices.amount: must be a number with at most 2 decimal places and 12 digits (got '12.345').",
        "#8 billing_partner: a webhook system, corrected by hand or by its own job.",
    ]
    with database(crm_copy) as db:
        assert list(db.iterdump()) == before


def test_a_database_that_refuses_one_change_keeps_none_of_that_systems(demo_dataset, crm_copy):
    with database(crm_copy) as db:
        db.execute(
            "CREATE TRIGGER no_addresses BEFORE UPDATE OF postal_address ON contacts "
            "BEGIN SELECT RAISE(ABORT, 'addresses are read-only'); END"
        )
    changes = [Correction("crm", "customers", "full_name", "T. Oliveira"),
               Correction("crm", "contacts", "postal_address", "Rua Nova 1, São Paulo")]  # fmt: skip
    result = apply_corrections(demo_dataset, TOMAS_IDS, changes, crm_copy)
    assert not result.ok and "addresses are read-only" in result.failed["crm"]
    with database(crm_copy) as db:
        assert db.execute("SELECT full_name FROM customers WHERE email = ?", (TOMAS.email,)).fetchone() == (
            "Tomás Oliveira",
        )


def test_approved_changes_are_written_in_their_column_types(source_crm, demo_dataset):
    environ = source_crm.environ
    before, theirs = source_crm.rows(), their_keys(demo_dataset, TOMAS_IDS, environ)
    (contacts,) = current_values(demo_dataset, TOMAS_IDS, [FieldRef("crm", "contacts", "label")], environ)
    ((contact, _),) = contacts.rows
    changes = [
        Correction("crm", "customers", "email", "tomas@novo.example"),  # what the lookup matched on
        Correction("crm", "customers", "city", None),
        Correction("crm", "contacts", "is_primary", "no", row_key=list(contact)),  # a key back from JSON
        Correction("crm", "contacts", "label", "Home", row_key=contact),
        Correction("crm", "invoices", "amount", "12.5"),
        Correction("crm", "call_logs", "duration_seconds", "61"),
    ]
    result = apply_corrections(demo_dataset, TOMAS_IDS, changes, environ)
    assert result.ok
    assert result.rows_changed == {"crm": {"customers": 1, "contacts": 1, "invoices": 3, "call_logs": 2}}
    after = source_crm.rows()
    customer = next(k for k, row in before["customers"].items() if row[3] == TOMAS.email)
    assert after["customers"][customer][3] == "tomas@novo.example" and after["customers"][customer][6] is None
    assert after["contacts"][contact][2] == "Home" and not after["contacts"][contact][6]
    assert {row[4] for row in after["invoices"].values() if row[1] == customer[0]} == {Decimal("12.50")}
    assert {row[5] for row in after["call_logs"].values() if row[1] == customer[0]} == {61}
    assert others(after, theirs) == others(before, theirs)  # nobody else's rows changed


def test_keys_and_identifiers_are_not_offered_for_correction(demo_dataset):
    offered = {(f.table, f.column) for f in correctable_fields(demo_dataset)}
    assert ("customers", "email") in offered and ("contacts", "postal_address") in offered
    assert not offered & {("customers", "id"), ("customers", "account_number"), ("contacts", "customer_id")}
