"""The requester downloads their bundle with a fresh emailed code, a limited number of times, for a limited time."""

import io
import zipfile

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.models import AuditEvent, Bundle, Role
from dsr.services import fulfilment
from dsr.services.bundles import BundlePolicy, release_for_completion
from dsr.services.requests import transition
from dsr.sources.demo_crm import DEMO_PEOPLE
from dsr.web.sessions import bundle_context
from tests.factories import code_in, link_in, make_user, outbox_texts
from tests.web.conftest import post_form
from tests.web.test_status_page import relative
from tests.web.test_verification_flow import enter_code, file

ASHA = DEMO_PEOPLE[0]


@pytest.fixture
def ready(app, client, session, clock):
    """Asha's access request, verified through the form, built, tasks confirmed and completed."""
    clock.set(clock())
    path = file(client, email=ASHA.email, phone=ASHA.phone)
    enter_code(client, path, code_in(outbox_texts(session, template="verification")[0]))
    enter_code(client, path, code_in(outbox_texts(session, to=ASHA.phone.replace(" ", ""))[0]), channel="sms")
    request = session.scalar(select(fulfilment.DataSubjectRequest))
    assert request.status is Status.VERIFIED
    with app.test_request_context():
        context = bundle_context()
    staff = make_user(session, "sam@acme-crm.example", Role.STAFF)
    fulfilment.queue_bundle(session, Actor.system("t"), clock(), request, context.dataset)
    for task in fulfilment.tasks_of(session, request):
        fulfilment.complete_task(session, Actor.system("t"), clock(), task, staff, "Nothing there.")
    job = fulfilment.claim_job(session, clock())
    session.commit()
    fulfilment.run_bundle_job(session, clock, job, context)
    transition(session, Actor.system("t"), clock(), request, Action.COMPLETE)
    release_for_completion(session, Actor.system("t"), clock(), request, BundlePolicy(days=7, max_downloads=2))
    session.commit()
    return f"/my-request/{request.reference}"


def ask_code(client, page, session) -> str:
    post_form(client, page + "/download-code", {}, token_from=page)
    return code_in(outbox_texts(session, template="download_code")[-1])


def download(client, page, code):
    return post_form(client, page + "/download", {"code": code}, token_from=page)


def test_download_needs_a_fresh_code_and_yields_the_zip(client, session, clock, ready):
    html = client.get(ready).get_data(as_text=True)
    assert "Your file is ready" in html and "at most 2 times" in html
    refused = download(client, ready, "123456")
    assert refused.status_code == 400 and "There is no code waiting" in refused.get_data(as_text=True)
    clock.advance(seconds=61)
    response = download(client, ready, ask_code(client, ready, session))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert ASHA.email in archive.read("data.json").decode()
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "bundle.downloaded")) is not None


def test_a_code_works_for_one_download_only(client, session, clock, ready):
    clock.advance(seconds=61)
    code = ask_code(client, ready, session)
    assert download(client, ready, code).status_code == 200
    again = download(client, ready, code)
    assert again.status_code == 400 and "There is no code waiting" in again.get_data(as_text=True)


def test_download_limit(client, session, clock, ready):
    for _ in range(2):
        clock.advance(seconds=61)
        assert download(client, ready, ask_code(client, ready, session)).status_code == 200
    clock.advance(seconds=61)
    page = client.get(ready).get_data(as_text=True)
    assert "downloaded 2 times, the most we allow" in page
    refused = post_form(client, ready + "/download", {"code": "000000"}, token_from="/status")
    assert refused.status_code == 302  # back to the page, which says why


def test_download_period_ends(client, session, clock, ready):
    clock.advance(days=7, seconds=1)
    reference = ready.rsplit("/", 1)[1]
    post_form(client, "/status", {"reference": reference, "email": ASHA.email})  # a fresh status link
    client.get(relative(link_in(outbox_texts(session, template="status_link")[-1], "/status/")))
    assert "The download period has ended" in client.get(ready).get_data(as_text=True)
    post_form(client, ready + "/download-code", {}, token_from="/status")
    assert outbox_texts(session, template="download_code") == []
    bundle = session.scalar(select(Bundle))
    assert bundle.downloads == 0


def test_someone_without_the_status_link_cannot_download(app, session, ready):
    stranger = app.test_client()
    assert stranger.post(ready + "/download", data={"code": "123456"}).status_code in (302, 400)
    assert stranger.get(ready).headers["Location"] == "/status"
