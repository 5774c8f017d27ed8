"""The app's own erasure job, killed mid-way in its own process and restarted, ends exactly as an
uninterrupted run does — on SQLite and on the PostgreSQL and MariaDB servers tests/servers.py selects.

Every run is `flask dsr scheduler`, the process that runs approved erasures in production, on the suite's
app database: it claims the job under a lease and keeps the engine's checkpoint on the plan row. The
organisation here has two databases: the demo CRM and a newsletter list, both holding Asha's rows.

The kill lands at a chosen point, not by luck. The test holds a write lock on the newsletter database
(SQLite: BEGIN IMMEDIATE; the servers: its rows FOR UPDATE), so the job erases the CRM table by table,
committing each batch and checkpointing it, then waits at the newsletter. Once the plan's checkpoint in
the app database shows every CRM table done, the test kills the process with SIGKILL and lets go of the
lock. A new process picks the job up when its lease (DSR_FULFILMENT_LEASE_SECONDS, 3 s here) has run out,
resumes from the checkpoint and finishes. Both databases, the plan's result, the job's counts, the
suppression list and the audit trail then equal those of a run that was never interrupted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.pool import NullPool

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.fulfilment.erasure_plan import ErasurePlan as PlanSpec
from dsr.models import AuditEvent, ErasurePlan, FulfilmentJob, JobStatus, PlanStatus, Role, SuppressionEntry
from dsr.services import erasure
from dsr.services.inventory import load_dataset
from dsr.services.requests import transition
from dsr.services.users import actor_for
from dsr.sources.demo_crm import ASHA
from tests.conftest import empty_database
from tests.factories import make_request, make_user
from tests.jobs.processes import SchedulerProcess, wait_for
from tests.servers import SERVERS, database_url, exclusive, reachable, server_kinds
from tests.sources.crm_fixtures import DEMO_DATASET
from tests.sources.source_databases import SourceCrm

NEWS = MetaData()
SUBSCRIBERS = Table(
    "subscribers",
    NEWS,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(254), nullable=False),
    Column("full_name", String(200)),
    Column("list_name", String(50)),
)
PEOPLE = [(1, "grace@example.org", "Grace Hopper", "product news"), (2, ASHA.email, ASHA.full_name, "product news"),
          (3, "alan@example.org", "Alan Turing", "events"), (4, ASHA.email, ASHA.full_name, "events")]  # fmt: skip
NEWSLETTER = {
    "kind": "sql",
    "name": "Newsletter list",
    "url": "${DSR_NEWSLETTER_URL}",
    "tables": {
        "subscribers": {
            "label": "Newsletter subscriptions",
            "identity": {"email": "email"},
            "purpose": "marketing",
            "erasure": "delete_row",
            "fields": {name: {"category": category} for name, category in
                       [("id", "identifier"), ("email", "contact"), ("full_name", "identity"), ("list_name", "other")]},
        }
    },
}  # fmt: skip


@dataclass
class Sources:
    """The organisation's two databases on one backend."""

    crm: SourceCrm
    newsletter_url: str  # with a lock wait longer than any bounded wait here
    kind: str

    @property
    def environ(self) -> dict[str, str]:
        return {"DSR_DEMO_CRM_URL": self.crm.url, "DSR_NEWSLETTER_URL": self.newsletter_url}

    def reset(self) -> None:
        self.crm.reset()
        engine = create_engine(self.newsletter_url, poolclass=NullPool)
        with engine.begin() as connection:
            NEWS.drop_all(connection)
            NEWS.create_all(connection)
            connection.execute(
                insert(SUBSCRIBERS), [dict(zip(SUBSCRIBERS.c.keys(), row, strict=True)) for row in PEOPLE]
            )
        engine.dispose()

    def state(self) -> tuple:
        """The CRM's table checksums and the newsletter's rows."""
        engine = create_engine(self.newsletter_url, poolclass=NullPool)
        with engine.connect() as connection:
            newsletter = connection.execute(select(SUBSCRIBERS).order_by(SUBSCRIBERS.c.id)).all()
        engine.dispose()
        return self.crm.checksums(), [tuple(row) for row in newsletter]


@pytest.fixture(params=["sqlite", *server_kinds()])
def sources(request, crm_path, tmp_path):
    kind = request.param
    if kind == "sqlite":
        crm_url, news_url = (
            f"sqlite:///{tmp_path / 'crm.sqlite3'}",
            f"sqlite:///{tmp_path / 'news.sqlite3'}?timeout=600",
        )
        yield Sources(SourceCrm(kind, crm_url, crm_path), news_url, kind)
        return
    if not reachable(kind):
        pytest.fail(f"{kind} does not answer on 127.0.0.1 ({SERVERS[kind][1]}); DSR_SERVER_TESTS=off runs SQLite only")
    crm_url = database_url(kind, "dsr_erasure_restart_crm")
    news_url = database_url(kind, "dsr_erasure_restart_news")
    if kind == "mariadb":  # wait for the test's lock as long as PostgreSQL does, not the default 50 s
        news_url += "?init_command=" + quote("SET SESSION innodb_lock_wait_timeout=600")
    with exclusive(crm_url):  # both databases are this test's: concurrent runs take turns
        yield Sources(SourceCrm(kind, crm_url, crm_path), news_url, kind)


@pytest.fixture
def dataset_file(tmp_path) -> Path:
    """The demo CRM and the newsletter list (no manual or webhook systems: nothing else to wait for)."""
    demo = yaml.safe_load(DEMO_DATASET.read_text())
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump({"systems": {"crm": demo["systems"]["crm"], "newsletter": NEWSLETTER}}))
    return path


def approved_erasure(session, dataset_file: Path, environ: dict) -> tuple[int, int]:
    """Asha's verified deletion request, its plan prepared and approved by two people: (plan id, job id)."""
    now = datetime.now(UTC)  # the scheduler processes run on real time
    sam = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam")
    ada = make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada")
    request = make_request(session, now, RequestType.DELETION, email=ASHA.email)
    request.requester_phone = ASHA.phone
    request.add_factor(Factor.EMAIL)
    request.add_factor(Factor.SMS)
    transition(session, Actor.system("tests"), now, request, Action.VERIFY)
    dataset = load_dataset(dataset_file, environ=environ)
    plan = erasure.prepare(session, actor_for(sam), now, request, dataset, environ)
    job = erasure.approve(session, actor_for(ada), now, plan, dataset, lambda ref: f"https://dsr.test/{ref}", environ)
    session.commit()
    return plan.id, job.id


def environment(app, dataset_file: Path, sources: Sources) -> dict[str, str]:
    return {
        **os.environ,
        **sources.environ,
        "DSR_ENV": "test",
        "DSR_TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "DSR_BUNDLE_DIR": app.config["DSR_BUNDLE_DIR"],
        "DSR_DATASET": str(dataset_file),
        "DSR_FULFILMENT_INTERVAL_SECONDS": "1",
        "DSR_FULFILMENT_LEASE_SECONDS": "3",
        "DSR_SQLITE_BUSY_MS": "60000",
        "DSR_LOG_LEVEL": "WARNING",
    }


def row(session, model, key):
    session.rollback()
    return session.get(model, key, populate_existing=True)


def run_to_the_end(session, env: dict, log: Path, job_id: int) -> None:
    process = SchedulerProcess(env, log)
    try:
        wait_for(lambda: row(session, FulfilmentJob, job_id).status is JobStatus.DONE, 90, "the job done", [process])
        process.terminate()
        assert process.wait(60) == 0, process.output()
    finally:
        process.stop()


def end_state(session, sources: Sources, plan_id: int, job_id: int) -> dict:
    """What an erasure leaves behind, minus what differs between any two runs (ids, times, request references)."""
    plan, job = row(session, ErasurePlan, plan_id), row(session, FulfilmentJob, job_id)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("erasure.%")).order_by(AuditEvent.id))
    return {
        "sources": sources.state(),
        "plan": (plan.status, {key: value for key, value in plan.result.items() if key != "resumed"}),
        "job": (job.status, job.done_rows, job.total_rows),
        "suppressed": sorted(session.execute(select(SuppressionEntry.kind, SuppressionEntry.digest)).all()),
        "audit": [(event.action, {k: v for k, v in event.details.items() if k != "plan"}) for event in events],
    }


def test_an_erasure_job_killed_mid_way_resumes_in_a_new_process_and_ends_as_an_uninterrupted_run(
    app, session, sources, dataset_file, tmp_path
):
    env = environment(app, dataset_file, sources)
    sources.reset()
    untouched = sources.state()
    plan_id, job_id = approved_erasure(session, dataset_file, sources.environ)
    run_to_the_end(session, env, tmp_path / "uninterrupted.log", job_id)
    expected = end_state(session, sources, plan_id, job_id)
    assert expected["plan"][0] is PlanStatus.DONE and expected["job"][1] > 0
    assert [action for action, _ in expected["audit"]] == ["erasure.prepared", "erasure.approved", "erasure.executed"]

    empty_database()
    sources.reset()
    plan_id, job_id = approved_erasure(session, dataset_file, sources.environ)
    crm_tables = [f"crm.{t.table}" for s in PlanSpec.from_json(row(session, ErasurePlan, plan_id).plan).systems
                  if s.system == "crm" for t in s.tables]  # fmt: skip

    def checkpoint() -> dict:
        return row(session, ErasurePlan, plan_id).checkpoint or {"tables": {}}

    lock = create_engine(sources.newsletter_url, poolclass=NullPool).connect()
    if sources.kind == "sqlite":
        lock.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite locks the whole file
    else:
        lock.execute(select(SUBSCRIBERS).with_for_update()).all()  # the newsletter's rows are the test's
    first = SchedulerProcess(env, tmp_path / "killed.log")
    try:
        wait_for(lambda: all(checkpoint()["tables"].get(t, {}).get("done") for t in crm_tables), 90,
                 "the CRM erased, batch by batch", [first])  # fmt: skip
        first.kill()  # waiting at the newsletter
    finally:
        first.stop()
        lock.rollback()
        lock.close()

    saved = checkpoint()
    assert sum(entry["batches"] for entry in saved["tables"].values()) > 0  # batches had committed…
    assert not saved["tables"].get("newsletter.subscribers", {}).get("done")  # …and not all of them
    assert row(session, FulfilmentJob, job_id).status is JobStatus.RUNNING  # still claimed by the dead process
    crm_now, newsletter_now = sources.state()
    assert crm_now != untouched[0] and newsletter_now == untouched[1]  # killed mid-way

    run_to_the_end(session, env, tmp_path / "restarted.log", job_id)
    assert end_state(session, sources, plan_id, job_id) == expected
    assert row(session, FulfilmentJob, job_id).attempts == 2 and row(session, ErasurePlan, plan_id).result["resumed"]
