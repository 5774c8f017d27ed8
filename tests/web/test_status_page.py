"""The requester's status page: signed links only, withdraw, reply to a request for information."""

from datetime import UTC, datetime

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.models import DataSubjectRequest, MessageKind, RequestMessage
from dsr.services.requests import transition
from tests.factories import code_in, link_in, outbox_texts
from tests.web.conftest import csrf_token, post_form
from tests.web.test_verification_flow import enter_code, file


def verified(client, session) -> DataSubjectRequest:
    path = file(client, request_type="objection", purposes=["marketing"])
    enter_code(client, path, code_in(outbox_texts(session)[0]))
    return session.scalar(select(DataSubjectRequest))


def relative(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_status_page_needs_the_emailed_link(app, client, session):
    filed = verified(client, session)
    stranger = app.test_client()
    response = stranger.get(f"/my-request/{filed.reference}")
    assert response.headers["Location"] == "/status"


def test_check_my_request_answers_the_same_whether_or_not_details_match(app, client, session):
    filed = verified(client, session)
    stranger = app.test_client()
    right = post_form(stranger, "/status", {"reference": filed.reference, "email": "ada@example.org"})
    wrong = post_form(stranger, "/status", {"reference": filed.reference, "email": "eve@example.org"})
    assert right.status_code == wrong.status_code == 200
    assert right.get_data(as_text=True).replace(csrf_token(stranger, "/status"), "") == wrong.get_data(
        as_text=True
    ).replace(csrf_token(stranger, "/status"), "")
    (mail,) = outbox_texts(session, template="status_link")
    opened = stranger.get(relative(link_in(mail, "/status/")))
    assert opened.headers["Location"] == f"/my-request/{filed.reference}"
    page = stranger.get(opened.headers["Location"]).get_data(as_text=True)
    assert filed.reference in page and "Your identity is confirmed" in page


def test_expired_or_tampered_status_link_is_refused(app, client, session, clock):
    filed = verified(client, session)
    link = relative(link_in(outbox_texts(session, template="letter")[0], "/status/"))
    stranger = app.test_client()
    assert stranger.get(link[:-3] + "abc").headers["Location"] == "/status"
    clock.set(datetime.now(UTC))
    clock.advance(days=7, minutes=1)
    assert stranger.get(link).headers["Location"] == "/status"
    assert stranger.get(f"/my-request/{filed.reference}").headers["Location"] == "/status"


def test_requester_withdraws_and_gets_a_confirmation(client, session):
    filed = verified(client, session)
    page = f"/my-request/{filed.reference}"
    refused = post_form(client, page + "/withdraw", {}, token_from=page)
    assert refused.status_code == 400 and "Tick the box to confirm." in refused.get_data(as_text=True)
    done = post_form(client, page + "/withdraw", {"confirm": "y"}, token_from=page)
    assert done.headers["Location"] == page
    assert "You withdrew this request." in client.get(page).get_data(as_text=True)
    session.expire_all()
    assert session.get(DataSubjectRequest, filed.id).status is Status.WITHDRAWN
    assert outbox_texts(session, template="request_withdrawn")


def test_requester_replies_to_a_request_for_information(client, session):
    filed = verified(client, session)
    now = datetime.now(UTC)
    transition(session, Actor.system("tests"), now, filed, Action.REQUEST_INFO)
    session.add(
        RequestMessage(request_id=filed.id, kind=MessageKind.TO_REQUESTER, body="Which account?", created_at=now)
    )
    session.add(RequestMessage(request_id=filed.id, kind=MessageKind.NOTE, body="internal: looks fine", created_at=now))
    session.commit()
    page = f"/my-request/{filed.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "Which account?" in html and "internal: looks fine" not in html
    empty = post_form(client, page + "/reply", {"body": ""}, token_from=page)
    assert empty.status_code == 400 and "Write your message." in empty.get_data(as_text=True)
    post_form(client, page + "/reply", {"body": "The <b>business</b> one"}, token_from=page)
    html = client.get(page).get_data(as_text=True)
    assert "The &lt;b&gt;business&lt;/b&gt; one" in html
    session.expire_all()
    assert session.get(DataSubjectRequest, filed.id).status is Status.IN_PROGRESS


def test_requester_can_write_while_the_request_is_open_but_not_after(client, session):
    filed = verified(client, session)
    page = f"/my-request/{filed.reference}"
    post_form(client, page + "/reply", {"body": "Also my old address, please."}, token_from=page)
    session.expire_all()
    assert session.get(DataSubjectRequest, filed.id).status is Status.VERIFIED  # a message changes no state
    assert "Also my old address, please." in client.get(page).get_data(as_text=True)
    transition(
        session, Actor.system("tests"), datetime.now(UTC), session.get(DataSubjectRequest, filed.id), Action.REJECT
    )
    session.commit()
    assert "Write to us" not in client.get(page).get_data(as_text=True)
    refused = post_form(client, page + "/withdraw", {"confirm": "y"}, token_from="/status")
    assert refused.status_code == 302
