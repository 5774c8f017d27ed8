"""The erasure plan an admin approves: what it shows, what it holds back, and when execution refuses it."""

import json
import shutil
import sqlite3
from datetime import UTC, datetime

import pytest

from dsr.domain.dataset import Erasure, SubjectIdentities
from dsr.fulfilment.erasure import ErasureError, MemoryCheckpoint, execute_erasure
from dsr.fulfilment.erasure_external import erasure_tasks, webhook_erasure_jobs
from dsr.fulfilment.erasure_plan import ErasurePlan, plan_erasure
from dsr.sources.demo_crm import ASHA, DEMO_PEOPLE
from dsr.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.fulfilment.erasure_helpers import SECRET, identities_of, with_actions

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def crm_copy(crm_path, tmp_path) -> dict[str, str]:
    """A copy of the demo CRM a test may change (or prove it did not)."""
    shutil.copyfile(crm_path, tmp_path / "crm.sqlite3")
    return {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}"}


def test_the_plan_shows_rows_actions_and_reasons_per_table(demo_dataset, crm_environ):
    plan = plan_erasure(demo_dataset, identities_of(ASHA), crm_environ)
    tables = {t.table: t for t in plan.systems[0].tables}
    assert {name: t.rows_found for name, t in tables.items()} == ASHA.rows
    assert [name for name in tables][-1] == "customers"  # parents after their children
    invoices = tables["invoices"]
    assert (invoices.operation, invoices.rows_to_keep, invoices.rows_to_delete) == ("keep_rows", 8, 0)
    assert {(f.legal_basis, f.retention) for f in invoices.fields} == {("legal_obligation", "8 years")}
    customers = {f.column: f for f in tables["customers"].fields}
    assert (customers["full_name"].action, customers["full_name"].becomes) == ("redact", "'[erased]'")
    assert customers["email"].becomes == "keyed hash (hmac: + 64 hex digits)"
    assert customers["email"].note == "Kept as a hash so we do not contact you again."
    assert (customers["account_number"].action, customers["account_number"].retention) == ("retain", "8 years")
    assert tables["contacts"].operation == "delete_rows" and tables["contacts"].rows_to_delete == 3
    assert plan.totals == {
        "rows_found": 73, "rows_to_delete": 60, "rows_to_update": 5, "rows_to_keep": 8, "rows_already_erased": 0,
    }  # fmt: skip
    assert plan.needs_secret and plan.can_execute and plan.conflicts == ()
    assert [(t.system, t.title) for t in plan.manual_tasks] == [
        ("events_sheet", "Delete the person's data from Webinar sign-up spreadsheet")
    ]
    assert "delete each matching row" in plan.manual_tasks[0].instructions
    assert [j.system for j in plan.webhook_jobs] == ["billing_partner"]


def test_the_plan_is_json_without_personal_data(demo_dataset, crm_environ):
    plan = plan_erasure(demo_dataset, identities_of(ASHA), crm_environ)
    text = json.dumps(plan.to_json())
    assert ErasurePlan.from_json(json.loads(text)) == plan
    assert ErasurePlan.from_json(json.loads(text)).digest == plan.digest
    for person in DEMO_PEOPLE:
        for identifier in (person.email, person.phone, person.full_name, person.account_number or "AC-"):
            assert identifier.lower() not in text.lower()
    assert json.loads(text)["identity_kinds"] == ["email", "phone", "customer_id"]


def test_someone_unknown_gets_a_plan_with_nothing_to_do(demo_dataset, crm_environ):
    plan = plan_erasure(demo_dataset, SubjectIdentities.of(email="nobody@example.com"), crm_environ)
    assert set(plan.totals.values()) == {0}
    assert len(plan.systems[0].tables) == 8 and plan.can_execute


def test_actions_a_column_cannot_take_are_problems_and_execution_refuses(demo_dataset, crm_copy):
    dataset = with_actions(
        demo_dataset, "call_logs",
        id=Erasure.RETAIN, customer_id=Erasure.RETAIN, called_at=Erasure.NULL, direction=Erasure.RETAIN,
        phone_number=Erasure.REDACT, duration_seconds=Erasure.HASH, agent=Erasure.RETAIN, notes=Erasure.RETAIN,
    )  # fmt: skip
    plan = plan_erasure(dataset, identities_of(ASHA), crm_copy)
    assert plan.problems == (
        "Acme CRM database: call_logs.called_at cannot be set to NULL (the column is NOT NULL); use redact.",
        "Acme CRM database: call_logs.duration_seconds cannot hold a hash (a INTEGER column); use redact or null.",
    )
    assert not plan.can_execute
    with pytest.raises(ErasureError, match="problems to solve first"):
        execute_erasure(plan, dataset, identities_of(ASHA), MemoryCheckpoint(), secret=SECRET, environ=crm_copy)
    assert plan_erasure(dataset, identities_of(ASHA), crm_copy).totals == plan.totals  # nothing changed


def test_an_unreachable_system_is_a_problem_in_the_plan_not_a_crash(demo_dataset, tmp_path):
    plan = plan_erasure(demo_dataset, identities_of(ASHA), {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path}/gone.db"})
    assert plan.systems[0].tables == () and not plan.can_execute
    assert "gone.db does not exist" in plan.problems[0]


def test_execution_refuses_a_plan_that_no_longer_fits(demo_dataset, crm_copy):
    identities = identities_of(ASHA)
    plan = plan_erasure(demo_dataset, identities, crm_copy)
    refusals = [
        ({"secret": None}, "hashing secret is needed"),
        ({"checkpoint": MemoryCheckpoint({"version": 1, "plan": "other", "tables": {}})}, "another erasure plan"),
        ({"batch_size": 0}, "batch size"),
        ({"dataset": with_actions(demo_dataset, "customers", plan=Erasure.NULL)}, "data inventory changed"),
        ({"dataset": with_actions(demo_dataset, "invoices", status=Erasure.RETAIN)}, "data inventory changed"),
    ]
    for change, message in refusals:
        arguments = {"dataset": demo_dataset, "secret": SECRET, "checkpoint": MemoryCheckpoint(), "batch_size": 10}
        arguments.update(change)
        with pytest.raises(ErasureError, match=message):
            execute_erasure(plan, identities=identities, environ=crm_copy, **arguments)
    assert plan_erasure(demo_dataset, identities, crm_copy) == plan  # nothing was touched
    with sqlite3.connect(crm_copy["DSR_DEMO_CRM_URL"].removeprefix("sqlite:///")) as db:
        db.execute("ALTER TABLE customers RENAME COLUMN country TO old_country")
        db.execute("ALTER TABLE customers ADD COLUMN country VARCHAR(20)")  # now room for '[erased]'
    with pytest.raises(ErasureError, match="columns of customers changed since the plan"):
        execute_erasure(plan, demo_dataset, identities, MemoryCheckpoint(), secret=SECRET, environ=crm_copy)


def test_webhook_systems_get_a_signed_deletion_job_each(demo_dataset):
    environ = {"DSR_DEMO_WEBHOOK_SECRET": "hook-secret"}
    ids = iter(["job-1", "job-2"])
    jobs = webhook_erasure_jobs(
        demo_dataset, identities_of(ASHA), lambda job_id: f"https://dsr.example/api/webhooks/{job_id}", NOW,
        request_reference="DSR-2026-0007", new_job_id=lambda: next(ids), environ=environ,
    )  # fmt: skip
    (erasure,) = jobs
    assert erasure.job_id == "job-1" and erasure.job.system_key == "billing_partner"
    payload = json.loads(erasure.job.body)
    assert payload["request"] == {"reference": "DSR-2026-0007", "type": "deletion"}
    assert payload["callback_url"] == "https://dsr.example/api/webhooks/job-1"
    assert payload["subject"]["email"] == ASHA.email
    headers = erasure.job.headers
    assert verify(b"hook-secret", erasure.job.body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], NOW)


def test_manual_systems_get_a_deletion_task_saying_what_to_look_for(demo_dataset):
    (task,) = erasure_tasks(demo_dataset, identities_of(ASHA))
    assert task.title == "Delete the person's data from Webinar sign-up spreadsheet"
    assert "- Email address: asha.verma@example.com" in task.description
