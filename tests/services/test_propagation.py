"""Restriction and objection flags, and carrying consents and flags into `sql` and `webhook` systems."""

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, create_engine, func, select

from dsr.domain.actors import Actor
from dsr.domain.consent import ConsentSource, FlagKind
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.errors import DomainError
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.encryption import current_cipher
from dsr.fulfilment.consent_propagation import write_columns
from dsr.models import AuditEvent, PropagationJob, PropagationStatus, Role
from dsr.services import casework, consent, processing
from dsr.services.bundles import BundlePolicy
from dsr.services.consent_state import flags_of, processing_limits_for
from dsr.services.propagation import run_due
from dsr.services.subjects import ConsentSetup, SubjectKeys
from dsr.services.users import actor_for
from dsr.services.verification import record_factor
from dsr.sources.sql_connection import SourceError
from dsr.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.factories import make_user
from tests.servers import database_url, server_kinds
from tests.services.consent_fixtures import LINKS, PROFILE, T0, file_request, load_demo_dataset

SHOP = """\
systems:
  shop:
    kind: sql
    name: Shop
    url: ${SHOP_URL}
    tables:
      people:
        identity: {email: email, phone: phone}
        purpose: service
        erasure: null
        fields:
          id: {category: identifier}
          email: {category: contact}
          phone: {category: contact}
          news_opt_in: {category: consent, purpose: marketing, consent: marketing_email}
          no_marketing: {category: consent, purpose: marketing, restriction: marketing}
  partner:
    kind: webhook
    name: Partner
    url: https://partner.example/dsr
    secret: ${PARTNER_SECRET}
    consent: all
    restriction: [marketing]
"""
EMAIL, OTHER = "asha.verma@example.com", "someone.else@example.com"


class Partner:
    """Stands in for the webhook system: keeps what it was sent, or fails when told to."""

    def __init__(self) -> None:
        self.jobs: list[dict] = []
        self.down = False

    def __call__(self, job) -> None:
        if self.down:
            raise SourceError("partner: the webhook answered 503 Service Unavailable.")
        stamp = job.headers[TIMESTAMP_HEADER]
        sent = datetime.fromtimestamp(int(stamp), UTC)
        assert verify(b"s3cret", job.body, stamp, job.headers[SIGNATURE_HEADER], sent)
        self.jobs.append(json.loads(job.body))


HOUR = timedelta(hours=1)


@pytest.fixture
def shop(tmp_path, session):
    path = tmp_path / "shop.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, phone TEXT,"
            " news_opt_in BOOLEAN, no_marketing BOOLEAN)"
        )
        db.executemany(
            "INSERT INTO people (email, phone, no_marketing) VALUES (?, ?, 0)", [(EMAIL, None), (OTHER, None)]
        )
    spec = tmp_path / "shop.yaml"
    spec.write_text(SHOP)
    environ = {"SHOP_URL": f"sqlite:///{path}", "PARTNER_SECRET": "s3cret"}
    setup = ConsentSetup(PROFILE, load_demo_dataset(environ, spec), SubjectKeys(b"k" * 32, current_cipher()))
    return path, environ, setup


def columns(path, email: str) -> tuple:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT news_opt_in, no_marketing FROM people WHERE email = ?", (email,)).fetchone()


def completed_restriction(session, setup, staff):
    request = file_request(session, RequestType.RESTRICTION, EMAIL, {"purposes": ["marketing", "product_analytics"]})
    record_factor(session, actor_for(staff), T0, request, Factor.MANUAL)
    casework.complete(session, actor_for(staff), T0, request, "Done", "Restricted.", LINKS, BundlePolicy(), setup)
    session.commit()
    return request


def test_staff_completing_a_restriction_flags_each_purpose_and_the_systems_are_told(session, shop):
    path, environ, setup = shop
    staff, partner = make_user(session, role=Role.STAFF), Partner()
    request = completed_restriction(session, setup, staff)
    flags = flags_of(session, request_subject(session, setup))
    assert {(f.kind, f.purpose, f.request_id, f.set_by_id) for f in flags} == {
        (FlagKind.RESTRICTION, "marketing", request.id, staff.id),
        (FlagKind.RESTRICTION, "product_analytics", request.id, staff.id),
    }
    assert run_due(session, T0 + HOUR, setup, post=partner, environ=environ).done == 2  # shop and partner: marketing
    assert columns(path, EMAIL) == (None, 1) and columns(path, OTHER) == (None, 0)
    (job,) = partner.jobs
    assert (job["type"], job["purpose"], job["state"], job["subject"]) == (
        "restriction",
        "marketing",
        "restricted",
        {"email": [EMAIL], "phone": []},
    )
    limits = {
        limit.purpose.key: limit.restricted for limit in processing_limits_for(session, setup.keys, PROFILE, EMAIL)
    }
    assert limits["marketing"] and limits["product_analytics"] and not limits["billing"]


def request_subject(session, setup):
    return consent.subject_for(session, Actor.system("tests"), T0, setup, SubjectIdentities.of(email=EMAIL))


def test_lifting_needs_a_reason_is_audited_and_is_told_to_the_systems(session, shop):
    path, environ, setup = shop
    staff, partner = make_user(session, role=Role.STAFF), Partner()
    completed_restriction(session, setup, staff)
    run_due(session, T0, setup, post=partner, environ=environ)
    flag = next(f for f in flags_of(session, request_subject(session, setup)) if f.purpose == "marketing")
    with pytest.raises(DomainError, match="Say why"):
        processing.lift_flag(session, actor_for(staff), T0 + HOUR, setup, flag, "ok")
    with pytest.raises(DomainError, match="Only staff"):
        processing.lift_flag(session, Actor.requester(), T0 + HOUR, setup, flag, "The accuracy check is finished.")
    processing.lift_flag(session, actor_for(staff), T0 + HOUR, setup, flag, "The accuracy check is finished.")
    session.commit()
    assert flag.lifted_at == T0 + HOUR and flag.lifted_by_id == staff.id
    assert session.scalar(select(func.count()).where(AuditEvent.action == "processing.flag_lifted")) == 1
    run_due(session, T0 + HOUR, setup, post=partner, environ=environ)
    assert columns(path, EMAIL) == (None, 0)
    assert [j["state"] for j in partner.jobs] == ["restricted", "lifted"]
    with pytest.raises(DomainError, match="already lifted"):
        processing.lift_flag(session, actor_for(staff), T0 + HOUR, setup, flag, "The accuracy check is finished.")


def test_a_boolean_opt_in_column_follows_the_current_state_not_the_last_arrival(session, shop):
    path, environ, setup = shop
    subject = request_subject(session, setup)
    consent.record_consent(session, Actor.requester(), T0, setup, subject, "marketing_email", True, ConsentSource.FORM)
    run_due(session, T0, setup, post=Partner(), environ=environ)
    assert columns(path, EMAIL) == (1, 0)
    later = T0 + timedelta(days=2)
    consent.record_consent(
        session, Actor.requester(), later, setup, subject, "marketing_email", False, ConsentSource.FORM
    )
    # A grant dated before the withdrawal arrives last: the column must stay withdrawn.
    consent.record_consent(
        session, Actor.system("api"), later, setup, subject, "marketing_email", True, ConsentSource.API, T0 + HOUR, "c1"
    )
    run_due(session, later, setup, post=Partner(), environ=environ)
    assert columns(path, EMAIL) == (0, 0) and columns(path, OTHER) == (None, 0)


def test_a_failing_webhook_is_retried_later_then_given_up(session, shop):
    _, environ, setup = shop
    partner = Partner()
    partner.down = True
    consent.record_consent(
        session, Actor.requester(), T0, setup, request_subject(session, setup), "sale_sharing", False, ConsentSource.GPC
    )
    report = run_due(session, T0, setup, post=partner, environ=environ, max_attempts=2)
    assert report.retried == 1  # the shop has no sale_sharing column: only the partner is told
    job = session.scalar(select(PropagationJob))
    assert job.status is PropagationStatus.PENDING and job.run_after == T0 + timedelta(minutes=1)
    assert "503" in job.last_error
    assert run_due(session, T0 + timedelta(seconds=59), setup, post=partner, environ=environ).retried == 0  # not yet
    assert run_due(session, T0 + timedelta(minutes=1), setup, post=partner, environ=environ, max_attempts=2).failed == 1
    assert job.status is PropagationStatus.FAILED
    assert session.scalar(select(func.count()).where(AuditEvent.action == "propagation.failed")) == 1


def test_an_unreachable_database_leaves_the_job_waiting(session, shop, tmp_path):
    _, environ, setup = shop
    consent.unsubscribe(session, T0, setup, EMAIL, "marketing_email", "<m@acme.example>")
    gone = {**environ, "SHOP_URL": f"sqlite:///{tmp_path / 'missing.sqlite3'}"}
    report = run_due(session, T0, setup, post=Partner(), environ=gone)
    assert (report.done, report.retried) == (1, 1)  # the partner heard; the shop will be tried again
    waiting = session.scalar(select(PropagationJob).where(PropagationJob.status == PropagationStatus.PENDING))
    assert waiting.system_key == "shop" and "does not exist" in waiting.last_error


@pytest.mark.parametrize("kind", server_kinds())
def test_the_columns_are_written_the_same_on_postgresql_and_mariadb(session, tmp_path, kind):
    """A server database stands in for an organisation's own (tests/servers.py picks the servers)."""
    engine = create_engine(database_url(kind, "dsr_consent_test"))
    probe = Table(
        "consent_probe_people",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("email", String(254)),
        Column("phone", String(32)),
        Column("news_opt_in", Boolean),
        Column("no_marketing", Boolean, nullable=False),
    )
    probe.drop(engine, checkfirst=True)
    probe.create(engine)
    try:
        with engine.begin() as connection:
            rows = [
                {"email": " Asha.Verma@Example.com", "news_opt_in": None, "no_marketing": False},
                {"email": OTHER, "news_opt_in": True, "no_marketing": False},
            ]
            connection.execute(probe.insert(), rows)
        spec = tmp_path / "server.yaml"
        spec.write_text(SHOP.replace("      people:", "      consent_probe_people:"))
        environ = {"SHOP_URL": engine.url.render_as_string(hide_password=False), "PARTNER_SECRET": "s3cret"}
        system = load_demo_dataset(environ, spec).system("shop")
        people = [SubjectIdentities.of(email=EMAIL)]
        assert write_columns(system, "consent", "marketing_email", False, people, environ) == 1
        assert write_columns(system, "consent", "marketing_email", False, people, environ) == 0  # already so
        assert write_columns(system, "restriction", "marketing", True, people, environ) == 1
        with engine.connect() as connection:
            rows = connection.execute(select(probe.c.news_opt_in, probe.c.no_marketing).order_by(probe.c.id)).all()
        assert [tuple(row) for row in rows] == [(False, True), (True, False)]
    finally:
        probe.drop(engine)
        engine.dispose()
