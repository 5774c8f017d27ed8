"""Withdrawing consent as a person meets it: the request form, one-click unsubscribe links, the browser's
Global Privacy Control signal, and the privacy-choices page."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dsr.domain.consent import ConsentSource
from dsr.models import ConsentEvent, DataSubjectRequest
from dsr.services import consent
from dsr.sources.demo_crm import ASHA
from dsr.web.consent import consent_setup
from dsr.web.public.unsubscribe import list_unsubscribe_headers, unsubscribe_url
from tests.factories import code_in, link_in, outbox_texts
from tests.services.consent_fixtures import crm_statuses, make_crm
from tests.web.conftest import post_form
from tests.web.test_intake import submit
from tests.web.test_verification_flow import enter_code, file

T = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def fresh_crm(tmp_path, monkeypatch):
    """The app's dataset reaches this fresh copy of the demo CRM (every marketing consent granted)."""
    crm = make_crm(tmp_path)
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm}")
    return crm


def events(session) -> list[ConsentEvent]:
    return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def relative(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def verify(client, session, **fields) -> DataSubjectRequest:
    path = file(client, **fields)
    enter_code(client, path, code_in(outbox_texts(session, template="verification")[-1]))
    return session.scalar(select(DataSubjectRequest).order_by(DataSubjectRequest.id.desc()))


def test_a_withdrawal_through_the_form_reaches_the_crm_at_once_and_the_ledger_shows_source_and_time(
    client, session, clock, fresh_crm
):
    clock.set(T)
    path = file(client, request_type="consent_withdrawal", consent_topics=["marketing_email"], email=ASHA.email)
    clock.advance(minutes=5)
    response = enter_code(client, path, code_in(outbox_texts(session, template="verification")[0]))
    assert crm_statuses(fresh_crm, ASHA.email, ASHA.phone) == {
        "email": "withdrawn",
        "sms": "granted",
        "whatsapp": "granted",
        "phone": "granted",
    }
    (event,) = events(session)
    assert (event.topic, event.granted, event.source) == ("marketing_email", False, ConsentSource.FORM)
    assert event.occurred_at == T and event.recorded_at == T + timedelta(minutes=5)
    status_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "your withdrawal has taken effect" in status_page and "privacy choices" in status_page


@pytest.fixture
def link(session, clock) -> str:
    clock.set(T)
    return relative(unsubscribe_url(ASHA.email, "marketing_email", "<m1@acme-crm.example>"))


def test_an_unsubscribe_link_asks_on_get_and_a_one_click_post_withdraws_without_login(app, session, fresh_crm, link):
    mail_client = app.test_client()  # no session, no CSRF token: what a mailbox provider sends
    page = mail_client.get(link)
    assert page.status_code == 200 and "Unsubscribe from marketing emails" in page.get_data(as_text=True)
    assert events(session) == []  # a GET (a mail scanner) changes nothing
    for _ in range(2):  # twice is harmless
        response = mail_client.post(
            link, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    (event,) = events(session)
    assert (event.topic, event.source, event.evidence_ref) == (
        "marketing_email",
        ConsentSource.UNSUBSCRIBE_LINK,
        "<m1@acme-crm.example>",
    )
    assert event.occurred_at == T and event.evidence == {"message_id": "<m1@acme-crm.example>"}
    assert crm_statuses(fresh_crm, ASHA.email, ASHA.phone)["email"] == "withdrawn"


def test_the_page_button_works_the_same_way(client, session, fresh_crm, link):
    html = client.get(link).get_data(as_text=True)
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert len(events(session)) == 1


def test_a_tampered_or_expired_link_gets_a_clear_page_and_changes_nothing(client, session, clock, link):
    token = link.rsplit("/", 1)[1]
    tampered = f"/unsubscribe/{token[:-3]}{'A' if token[-3] != 'A' else 'B'}{token[-2:]}"
    for path in (tampered, "/unsubscribe/not-a-real-token-at-all"):
        for response in (client.get(path), client.post(path, data={"List-Unsubscribe": "One-Click"})):
            assert response.status_code == 400
            assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
    clock.advance(days=366)
    expired = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert expired.status_code == 410 and "This unsubscribe link has expired" in expired.get_data(as_text=True)
    assert events(session) == []


def test_the_organisations_mail_systems_get_the_rfc_8058_headers(app, session):
    headers = list_unsubscribe_headers("Asha.Verma@Example.com", "marketing_email")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/unsubscribe/")
    assert "asha" not in headers["List-Unsubscribe"].lower()  # the address travels encrypted
    result = app.test_cli_runner().invoke(args=["dsr", "unsubscribe-link", "--email", ASHA.email])
    assert result.exit_code == 0 and "List-Unsubscribe: <http://127.0.0.1:5000/unsubscribe/" in result.output
    refused = app.test_cli_runner().invoke(args=["dsr", "unsubscribe-link", "--email", ASHA.email, "--topic", "x"])
    assert refused.exit_code != 0 and "not a consent topic" in refused.output


def test_gpc_sent_with_the_form_is_recorded_once_the_person_is_identified(client, session, fresh_crm):
    response = submit(client, headers={"Sec-GPC": "1"}, request_type="objection", purposes=["marketing"])
    assert events(session) == []
    enter_code(client, response.headers["Location"], code_in(outbox_texts(session)[0]))
    (event,) = events(session)
    assert (event.topic, event.granted, event.source) == ("sale_sharing", False, ConsentSource.GPC)
    assert event.evidence == {"header": "Sec-GPC: 1"}


def test_the_privacy_choices_page_shows_and_changes_each_consent(client, session, fresh_crm):
    filed = verify(client, session, request_type="objection", purposes=["marketing"], email=ASHA.email)
    path = f"/my-request/{filed.reference}/preferences"
    page = client.get(path).get_data(as_text=True)
    assert "Your privacy choices" in page and page.count("You have not told us yet.") == 7
    assert '<label for="topic_marketing_email-0">Allow</label>' in page
    response = post_form(
        client, path, {"topic_marketing_email": "granted", "topic_marketing_sms": "withdrawn"}, follow=True
    )
    assert "Saved. 2 choices changed." in response.get_data(as_text=True)
    assert {(e.topic, e.granted, e.source, e.request_id) for e in events(session)} == {
        ("marketing_email", True, ConsentSource.FORM, filed.id),
        ("marketing_sms", False, ConsentSource.FORM, filed.id),
    }
    assert crm_statuses(fresh_crm, ASHA.email, ASHA.phone)["sms"] == "withdrawn"
    again = post_form(
        client, path, {"topic_marketing_email": "granted", "topic_marketing_sms": "withdrawn"}, follow=True
    )
    assert "Nothing changed." in again.get_data(as_text=True) and len(events(session)) == 2
    page = client.get(path).get_data(as_text=True)
    assert "Not allowed since" in page and "Allowed since" in page


def test_gpc_on_the_privacy_choices_page_opts_out_of_sale_and_sharing_without_asking(client, session):
    filed = verify(client, session, request_type="objection", purposes=["marketing"])
    path = f"/my-request/{filed.reference}/preferences"
    for _ in range(2):
        page = client.get(path, headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "Your browser sends the Global Privacy Control signal" in page
    (event,) = events(session)
    assert (event.topic, event.granted, event.source) == ("sale_sharing", False, ConsentSource.GPC)


def test_the_privacy_choices_page_needs_the_status_link_and_a_confirmed_identity(app, client, session):
    filed = verify(client, session, request_type="objection", purposes=["marketing"])
    assert app.test_client().get(f"/my-request/{filed.reference}/preferences").headers["Location"] == "/status"
    unconfirmed = file(client, request_type="access", email="grace@example.org")
    assert unconfirmed  # filed but not confirmed: the status link grants the page, which waits for the check
    pending = session.scalar(
        select(DataSubjectRequest).where(DataSubjectRequest.requester_email == "grace@example.org")
    )
    post_form(client, "/status", {"reference": pending.reference, "email": "grace@example.org"})
    client.get(relative(link_in(outbox_texts(session, template="status_link")[0], "/status/")))
    page = client.get(f"/my-request/{pending.reference}/preferences").get_data(as_text=True)
    assert "once you have confirmed your identity" in page
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_a_broken_dataset_file_does_not_stand_in_the_way_of_other_requests(app, client, session, tmp_path, monkeypatch):
    broken = tmp_path / "broken.yaml"
    broken.write_text("systems: {crm: {kind: sql}}\n")
    monkeypatch.setitem(app.config, "DSR_DATASET", str(broken))
    monkeypatch.delitem(app.extensions.setdefault("dsr_profile", {}), "dataset", raising=False)
    filed = verify(client, session, request_type="objection", purposes=["marketing"])
    assert filed.verified_at is not None and events(session) == []


def test_the_propagation_command_runs_what_is_waiting(app, session, clock, fresh_crm):
    consent.unsubscribe(session, clock(), consent_setup(), ASHA.email, "marketing_email", "<m2@acme-crm.example>")
    session.commit()
    assert crm_statuses(fresh_crm, ASHA.email, ASHA.phone)["email"] == "granted"  # not yet: nothing ran
    result = app.test_cli_runner().invoke(args=["dsr", "propagate-consent"])
    assert result.exit_code == 0 and result.output.strip() == "1 done, 0 to retry, 0 failed."
    assert crm_statuses(fresh_crm, ASHA.email, ASHA.phone)["email"] == "withdrawn"
