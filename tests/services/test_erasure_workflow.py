"""Erasure as staff and admins run it: prepare, four-eyes approval, background run, tasks, receipt."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.models import (
    Channel,
    ErasurePlan,
    FulfilmentTask,
    JobStatus,
    OutboxMessage,
    PlanStatus,
    Role,
    SuppressionEntry,
    TaskStatus,
)
from dsr.notify.links import Links
from dsr.services import casework, erasure, fulfilment
from dsr.services.bundles import BundlePolicy
from dsr.services.requests import transition
from dsr.services.users import actor_for
from dsr.sources.demo_crm import DEMO_PEOPLE, create_demo_crm
from dsr.web.sessions import erasure_context
from tests.factories import make_request, make_user, outbox_texts

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ASHA = DEMO_PEOPLE[0]
LINKS = Links(verify_link=lambda t: t, status_link=lambda r: "https://dsr.example/s")
CALLBACK = lambda job_ref: f"https://dsr.example/hooks/erasure/{job_ref}"  # noqa: E731


@pytest.fixture
def crm(tmp_path):
    """A private copy of the demo CRM: erasing from the shared one would change other tests."""
    path = create_demo_crm(tmp_path / "crm.sqlite3", people=20)
    return {"DSR_DEMO_CRM_URL": f"sqlite:///{path}"}


@pytest.fixture
def people(session):
    return (
        make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam"),
        make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada"),
        make_user(session, "bo@acme-crm.example", Role.ADMIN, "Bo"),
    )


@pytest.fixture
def context(app, crm):
    with app.app_context():
        base = erasure_context()
    return erasure.ErasureContext(base.dataset, base.secret, crm)


def deletion(session):
    request = make_request(session, T0, RequestType.DELETION, email=ASHA.email)
    request.requester_phone = ASHA.phone
    request.add_factor(Factor.EMAIL)
    request.add_factor(Factor.SMS)
    transition(session, Actor.system("t"), T0, request, Action.VERIFY)
    session.commit()
    return request


def run(session, context, now=T0):
    job = fulfilment.claim_job(session, now)
    session.commit()
    assert job is not None
    done = erasure.run_erasure_job(session, lambda: now, job, context)
    session.commit()
    return job, done


def test_four_eyes(session, people, context):
    sam, ada, bo = people
    request = deletion(session)
    plan = erasure.prepare(session, actor_for(ada), T0, request, context.dataset, context.environ)
    assert plan.plan["totals"]["rows_found"] == sum(ASHA.rows.values())
    assert ASHA.email not in json.dumps(plan.plan)
    with pytest.raises(DomainError, match="Only an admin"):
        erasure.approve(session, actor_for(sam), T0, plan, context.dataset, CALLBACK, context.environ)
    with pytest.raises(DomainError, match="Someone other than the person who prepared"):
        erasure.approve(session, actor_for(ada), T0, plan, context.dataset, CALLBACK, context.environ)
    job = erasure.approve(session, actor_for(bo), T0, plan, context.dataset, CALLBACK, context.environ)
    assert plan.status is PlanStatus.APPROVED and job.status is JobStatus.QUEUED
    with pytest.raises(DomainError, match="not waiting for approval"):
        erasure.approve(session, actor_for(bo), T0, plan, context.dataset, CALLBACK, context.environ)


def test_preparing_again_replaces_an_unapproved_plan_only(session, people, context):
    sam, ada, bo = people
    request = deletion(session)
    first = erasure.prepare(session, actor_for(sam), T0, request, context.dataset, context.environ)
    second = erasure.prepare(session, actor_for(sam), T0, request, context.dataset, context.environ)
    assert first.status is PlanStatus.SUPERSEDED and erasure.current_plan(session, request) == second
    erasure.approve(session, actor_for(ada), T0, second, context.dataset, CALLBACK, context.environ)
    with pytest.raises(DomainError, match="approved erasure exists"):
        erasure.prepare(session, actor_for(sam), T0, request, context.dataset, context.environ)
    access = make_request(session, T0, RequestType.ACCESS)
    with pytest.raises(DomainError, match="Only deletion"):
        erasure.prepare(session, actor_for(sam), T0, access, context.dataset, context.environ)


def test_approved_erasure_runs_in_the_background_and_the_request_completes_with_a_receipt(session, people, context):
    sam, ada, bo = people
    request = deletion(session)
    plan = erasure.prepare(session, actor_for(sam), T0, request, context.dataset, context.environ)
    erasure.approve(session, actor_for(ada), T0, plan, context.dataset, CALLBACK, context.environ)
    session.commit()
    hooks = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.WEBHOOK)).all()
    assert [h.signing_key_ref for h in hooks] == ["system:billing_partner"]
    with pytest.raises(DomainError, match="has not finished"):
        erasure.ensure_erased(session, request)

    job, done = run(session, context)
    assert done and job.status is JobStatus.DONE and job.percent == 100
    assert session.get(ErasurePlan, plan.id).status is PlanStatus.DONE
    engine = create_engine(context.environ["DSR_DEMO_CRM_URL"])
    with engine.connect() as connection:
        customers = connection.execute(
            text("select email, full_name, phone from customers where account_number = :a"), {"a": ASHA.account_number}
        ).one()
        invoices = connection.scalar(text("select count(*) from invoices"))
    engine.dispose()
    assert ASHA.email not in str(customers) and ASHA.full_name not in str(customers)
    assert invoices > 0  # kept for tax law
    assert session.scalar(select(SuppressionEntry.id)) is not None

    policy = BundlePolicy()
    transition(session, Actor.system("t"), T0, request, Action.START)
    with pytest.raises(DomainError, match="Confirm these first"):
        casework.complete(session, actor_for(sam), T0, request, "Done", "Erased.", LINKS, policy)
    session.rollback()
    for task in fulfilment.tasks_of(session, request):
        if task.external_ref:
            assert erasure.close_webhook_task(session, T0, task.external_ref, "erased") is task
        else:
            fulfilment.complete_task(session, actor_for(sam), T0, task, sam, "Removed her row from the sheet.")
    casework.complete(session, actor_for(sam), T0 + timedelta(hours=1), request, "Done", "Erased.", LINKS, policy)
    session.commit()
    assert request.status is Status.COMPLETED
    receipt = outbox_texts(session, template="letter")[-1]
    assert "What we erased:" in receipt and "What we kept, and why:" in receipt and "legal obligation" in receipt
    assert ASHA.email not in receipt and ASHA.phone not in receipt
    assert all(t.status is TaskStatus.DONE for t in session.scalars(select(FulfilmentTask)))


def test_a_failed_run_keeps_its_checkpoint_and_is_retried(session, people, context, tmp_path):
    sam, ada, bo = people
    request = deletion(session)
    plan = erasure.prepare(session, actor_for(sam), T0, request, context.dataset, context.environ)
    erasure.approve(session, actor_for(ada), T0, plan, context.dataset, CALLBACK, context.environ)
    session.commit()
    broken = erasure.ErasureContext(
        context.dataset, context.secret, {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path}/gone/x.db"}
    )
    job, done = run(session, broken)
    assert not done and job.status is JobStatus.QUEUED and job.run_after > T0 and "SourceError" in job.error
    job, done = run(session, context, T0 + timedelta(hours=1))
    assert done and job.attempts == 2
