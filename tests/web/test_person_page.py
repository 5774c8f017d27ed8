"""Staff see a person's consents, restrictions and objections from the request page, and lift a flag with a reason."""

import re

from sqlalchemy import func, select

from dsr.domain.actors import Actor
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.models import AuditEvent, DataSubject, ProcessingFlag
from dsr.services.verification import record_factor
from tests.factories import code_in, outbox_texts
from tests.services.consent_fixtures import file_request
from tests.web.conftest import post_form
from tests.web.test_verification_flow import enter_code, file


def completed_objection(session, staff_client) -> str:
    """An objection to product analytics, verified and completed by staff through the compose page."""
    request = file_request(
        session, RequestType.OBJECTION, "asha.verma@example.com", {"purposes": ["product_analytics"]}
    )
    record_factor(session, Actor.system("tests"), request.received_at, request, Factor.EMAIL)
    session.commit()
    path = f"/staff/requests/{request.reference}/complete"
    post_form(staff_client, path, {"subject": "Your objection", "body": "We have stopped it."})
    return request.reference


def person_link(staff_client, reference: str) -> str:
    page = staff_client.get(f"/staff/requests/{reference}").get_data(as_text=True)
    match = re.search(r'href="(/staff/people/[^"]+)">Consents, restrictions and objections', page)
    assert match, "no link to the person from the request page"
    return match.group(1)


def test_completing_an_objection_flags_the_purpose_on_the_persons_page(staff_client, session):
    reference = completed_objection(session, staff_client)
    (flag,) = session.scalars(select(ProcessingFlag)).all()
    assert (flag.kind.value, flag.purpose, flag.in_force) == ("objection", "product_analytics", True)
    page = staff_client.get(person_link(staff_client, reference)).get_data(as_text=True)
    assert "asha.verma@example.com" in page
    assert "Objection</strong>: Product analytics and improvement" in page
    assert "Lift this objection" in page and reference in page


def test_staff_lift_a_flag_with_a_reason_and_it_is_audited(staff_client, session):
    path = person_link(staff_client, completed_objection(session, staff_client))
    flag = session.scalar(select(ProcessingFlag))
    lift = f"{path}/flags/{flag.public_id}/lift"
    short = post_form(staff_client, lift, {"lift-reason": "no"}, token_from=path, follow=True)
    assert "Say why it is lifted" in short.get_data(as_text=True)
    done = post_form(
        staff_client,
        lift,
        {"lift-reason": "Compelling legitimate grounds: fraud review."},
        token_from=path,
        follow=True,
    )
    page = done.get_data(as_text=True)
    assert "Lifted. Other systems are being told." in page and "None in force." in page
    assert "lifted" in page and "Compelling legitimate grounds: fraud review." in page
    session.refresh(flag)
    assert flag.lifted_at is not None and flag.lift_reason == "Compelling legitimate grounds: fraud review."
    assert session.scalar(select(func.count()).where(AuditEvent.action == "processing.flag_lifted")) == 1
    assert staff_client.post(f"{path}/flags/no-such-flag/lift").status_code in (400, 404)


def test_the_persons_page_shows_each_consent_with_its_source_and_history(client, staff_client, session):
    path = file(client, request_type="consent_withdrawal", consent_topics=["marketing_email", "sale_sharing"])
    enter_code(client, path, code_in(outbox_texts(session, template="verification")[0]))
    subject = session.scalar(select(DataSubject))
    page = staff_client.get(f"/staff/people/{subject.public_id}").get_data(as_text=True)
    assert page.count("Withdrawn</span>") == 2 and page.count("No record") == 5
    assert "Withdrew: Marketing emails" in page and "Withdrew: Sale or sharing of personal information" in page
    assert "form" in page


def test_an_unknown_person_is_404(staff_client):
    assert staff_client.get("/staff/people/nobody-here").status_code == 404
