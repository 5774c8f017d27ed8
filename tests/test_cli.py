import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from dsr.cli import DEMO_ADMIN_EMAIL
from dsr.models import Role, StaffUser
from dsr.services.users import LoginOutcome, authenticate


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["dsr", *args], input=input)


def test_create_user_then_duplicate_is_refused(app, session):
    result = run(
        app,
        "create-user",
        "--email",
        "Nia@Acme-CRM.example",
        "--name",
        "Nia",
        "--role",
        "admin",
        "--password",
        "a long enough passphrase",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin account nia@acme-crm.example" in result.output
    user = session.scalar(select(StaffUser).where(StaffUser.email == "nia@acme-crm.example"))
    assert user.role is Role.ADMIN
    again = run(
        app, "create-user", "--email", "nia@acme-crm.example", "--name", "Nia", "--password", "a long enough passphrase"
    )
    assert again.exit_code == 1 and "already exists" in again.output


def test_create_user_prompts_for_password_and_refuses_weak_ones(app, session):
    result = run(app, "create-user", "--email", "x@acme-crm.example", "--name", "X", input="short\nshort\n")
    assert result.exit_code == 1 and "12 characters" in result.output


def test_demo_prints_a_working_password_once(app, session):
    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)\s+\(shown once", first.output).group(1)
    from datetime import UTC, datetime, timedelta

    assert (
        authenticate(session, DEMO_ADMIN_EMAIL, password, datetime.now(UTC), 5, timedelta(minutes=1)).outcome
        is LoginOutcome.OK
    )
    second = run(app, "demo")
    assert password not in second.output and "--reset-password" in second.output
    reset = run(app, "demo", "--reset-password")
    assert re.search(r"password: (\S+)\s+\(shown once", reset.output).group(1) != password


def test_demo_files_a_sample_register_in_every_state_once(app, session):
    from collections import Counter

    from dsr.domain.lifecycle import Status
    from dsr.models import DataSubjectRequest
    from dsr.services.audit_verify import verify_chain

    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    assert "Demo register: 9 sample requests" in first.output
    statuses = Counter(session.scalars(select(DataSubjectRequest.status)))
    assert statuses == {
        Status.SUBMITTED: 1,
        Status.VERIFIED: 1,
        Status.IN_PROGRESS: 3,
        Status.AWAITING_REQUESTER: 1,
        Status.COMPLETED: 2,  # the consent withdrawal took effect on verification; an objection was completed
        Status.REJECTED: 1,
    }
    overdue = session.scalars(select(DataSubjectRequest).where(DataSubjectRequest.is_open.is_(True))).all()
    assert any(r.due_on < datetime.now(UTC).date() for r in overdue)  # the queue shows an overdue badge
    assert verify_chain(session).ok  # filed and worked through the services: a whole audit trail
    again = run(app, "demo")
    assert again.exit_code == 0 and "sample requests" not in again.output
    assert session.scalar(select(func.count()).select_from(DataSubjectRequest)) == 9


def test_run_jobs_once_delivers_the_outbox_and_expires_stale_requests(app, session, clock):
    from datetime import UTC, datetime

    from dsr.domain.lifecycle import Status
    from dsr.models import OutboxMessage, OutboxStatus
    from tests.factories import make_request
    from tests.web.test_intake import submit

    stale = make_request(session, datetime(2020, 1, 1, tzinfo=UTC))
    submit(app.test_client())
    result = run(app, "run-jobs", "--once")
    assert result.exit_code == 0, result.output
    assert "ran deliver_outbox" in result.output and "ran expire_requests" in result.output
    session.expire_all()
    assert session.get(type(stale), stale.id).status is Status.EXPIRED
    assert {m.status for m in session.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}
