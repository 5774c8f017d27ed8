"""Corrections as staff handle them: match each proposal to a field, decide, write, tell recipients."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.fulfilment.correction import FieldRef
from dsr.models import Decision, FulfilmentTask, Role
from dsr.notify.links import Links
from dsr.services import casework, corrections, fulfilment
from dsr.services.bundles import BundlePolicy
from dsr.services.requests import transition
from dsr.services.users import actor_for
from dsr.sources.demo_crm import DEMO_PEOPLE, create_demo_crm
from dsr.web.sessions import dataset, organisation
from tests.factories import make_request, make_user, outbox_texts

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ASHA = DEMO_PEOPLE[0]
CITY = FieldRef("crm", "customers", "city")
LINKS = Links(verify_link=lambda t: t, status_link=lambda r: "https://dsr.example/s")


@pytest.fixture
def setup(app, session, tmp_path, monkeypatch):
    path = create_demo_crm(tmp_path / "crm.sqlite3", people=10)
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{path}")  # the writes go to this private copy
    with app.app_context():
        inventory, profile = dataset(), organisation()
    request = make_request(session, T0, RequestType.CORRECTION, email=ASHA.email)
    request.form_data = {"corrections": [{"field": "Town", "value": "Mysuru"}, {"field": "Shoe size", "value": "42"}]}
    request.add_factor(Factor.EMAIL)
    transition(session, Actor.system("t"), T0, request, Action.VERIFY)
    session.commit()
    staff = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam")
    return request, inventory, profile, staff, path


def city(path) -> str:
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        value = connection.scalar(
            text("select city from customers where account_number = :a"), {"a": ASHA.account_number}
        )
    engine.dispose()
    return value


def test_proposals_are_decided_written_and_reported(session, setup):
    request, inventory, profile, staff, path = setup
    town, shoes = corrections.items_of(session, request)
    assert (town.asked_field, town.new_value, town.decision) == ("Town", "Mysuru", Decision.PENDING)
    assert CITY in corrections.field_choices(inventory)
    with pytest.raises(DomainError, match="Choose which field"):
        corrections.decide(session, actor_for(staff), T0, town, True, "", None, "Mysuru")
    with pytest.raises(DomainError, match="Say why"):
        corrections.decide(session, actor_for(staff), T0, shoes, False, "", None, "")
    corrections.decide(session, actor_for(staff), T0, town, True, "", CITY, "Mysuru")
    corrections.decide(session, actor_for(staff), T0, shoes, False, "We do not hold shoe sizes.", None, "")
    with pytest.raises(DomainError, match="Write the approved changes"):
        corrections.ensure_done(session, request)
    assert corrections.apply_approved(session, actor_for(staff), T0, request, inventory, profile) == 1
    assert city(path) == "Mysuru"
    recipient_tasks = [t for t in fulfilment.tasks_of(session, request) if t.system_key.startswith("recipient:")]
    assert recipient_tasks and all("Tell" in t.title for t in recipient_tasks)
    with pytest.raises(DomainError, match="Confirm these first"):
        corrections.ensure_done(session, request)
    for task in recipient_tasks:
        fulfilment.complete_task(session, actor_for(staff), T0, task, staff, "Emailed them the new town.")
    transition(session, actor_for(staff), T0, request, Action.START)
    casework.complete(session, actor_for(staff), T0, request, "Done", "Corrected.", LINKS, BundlePolicy())
    session.commit()
    assert request.status is Status.COMPLETED
    outcome = outbox_texts(session, template="letter")[-1]
    assert "Town: corrected to “Mysuru”" in outcome and "Shoe size: not changed. We do not hold shoe sizes." in outcome


def test_a_bad_value_writes_nothing(session, setup):
    request, inventory, profile, staff, path = setup
    town, _ = corrections.items_of(session, request)
    corrections.decide(
        session, actor_for(staff), T0, town, True, "", FieldRef("crm", "customers", "created_at"), "not a date"
    )
    with pytest.raises(DomainError, match="Nothing was written"):
        corrections.apply_approved(session, actor_for(staff), T0, request, inventory, profile)
    assert city(path) != "Mysuru"
    assert session.scalar(select(FulfilmentTask.id)) is None
