"""Role × endpoint matrix over every staff and admin route the app registers (GET and POST)."""

from pathlib import Path

import pytest

from dsr import create_app
from dsr.domain.consent import FlagKind
from dsr.domain.uploads import FileKind
from dsr.encrypted_files import EncryptingWriter
from dsr.encryption import current_cipher
from dsr.models import (
    Bundle,
    DataSubject,
    FulfilmentTask,
    JobKind,
    MessageKind,
    ProcessingFlag,
    RequestAttachment,
    RequestMessage,
)
from dsr.models.api import ApiKey, WebhookSubscriber
from dsr.notify.outbox import queue_email
from tests.factories import make_request
from tests.web.conftest import csrf_token

SAMPLE_ARGS = {
    "key": "extension",
    "jurisdiction": "eu_gdpr",
    "request_type": "*",
    "public_id": "sample-outbox-message",
    "reference": "DSR-2026-SAMP-LE00",
    "action": "message",
    "plan_id": "sample-plan",
    "item_id": "sample-item",
    "system_key": "crm",  # a system of datasets/demo.yaml
    "task_id": "sample-task",
    "bundle_id": "sample-bundle",
    "job_id": "purge_bundles",  # a job of dsr.jobs.tasks.JOBS
    "subject_id": "sample-person",
    "flag_id": "sample-flag",
    "key_id": "sample-api-key",
    "subscriber_id": "sample-subscriber",
    "attachment_id": "sample-attachment",
}


def protected_routes():
    app = create_app("test")
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        area = rule.endpoint.split(".")[0]
        if area in ("staff", "admin"):
            missing = set(rule.arguments) - set(SAMPLE_ARGS)
            assert not missing, f"add sample values for {missing} used by {rule.rule}"
            path = adapter.build(rule.endpoint, {name: SAMPLE_ARGS[name] for name in rule.arguments})
            routes.extend((area, method, path) for method in ("GET", "POST") if method in rule.methods)
    assert routes, "no protected routes found"
    return routes


ROUTES = protected_routes()
GETS = [(area, path) for area, method, path in ROUTES if method == "GET"]
POSTS = [(area, path) for area, method, path in ROUTES if method == "POST"]


@pytest.fixture(autouse=True)
def sample_rows(app, session, clock):
    """The rows SAMPLE_ARGS name, so each page has something real to show."""
    message = queue_email(
        session, clock(), to="ada@example.org", template="notice", context={"heading": "Hello", "paragraphs": []}
    )
    message.public_id = SAMPLE_ARGS["public_id"]
    request = make_request(session)
    request.reference = SAMPLE_ARGS["reference"]
    session.add(
        FulfilmentTask(
            request=request,
            public_id=SAMPLE_ARGS["task_id"],
            system_key="sheet",
            title="Look",
            instructions="Search the sheet",
        )
    )
    bundle = Bundle(
        request=request, public_id=SAMPLE_ARGS["bundle_id"], kind=JobKind.ACCESS_BUNDLE, file_name="sample.bundle"
    )
    session.add(bundle)
    person = DataSubject(public_id=SAMPLE_ARGS["subject_id"])
    session.add(person)
    session.flush()
    flag = ProcessingFlag(subject_id=person.id, public_id=SAMPLE_ARGS["flag_id"], kind=FlagKind.RESTRICTION)
    session.add(flag)
    flag.purpose = "marketing"
    session.add(ApiKey(public_id=SAMPLE_ARGS["key_id"], name="Desk", prefix="0123456789", secret_hash="0" * 64,
                       scopes_granted="requests:read"))  # fmt: skip
    session.add(
        WebhookSubscriber(
            public_id=SAMPLE_ARGS["subscriber_id"], name="CRM", url="https://crm.example/hooks",
            secret_encrypted=current_cipher().encrypt_text("whsec_sample-secret"), events_wanted="consent.changed",
        )
    )  # fmt: skip
    reply = RequestMessage(request=request, kind=MessageKind.FROM_REQUESTER, body="My ID")
    session.add(reply)
    session.add(
        RequestAttachment(
            request_id=request.id,
            message=reply,
            public_id=SAMPLE_ARGS["attachment_id"],
            file_name="sample.enc",
            display_name="id.pdf",
            kind=FileKind.PDF,
            size=9,
            sha256="0" * 64,
        )
    )
    session.commit()
    with open(Path(app.config["DSR_UPLOAD_DIR"]) / "sample.enc", "wb") as file:
        writer = EncryptingWriter(file, current_cipher().file_keys()[0])
        writer.write(b"%PDF-1.4 ")
        writer.close()
    with open(Path(app.config["DSR_BUNDLE_DIR"]) / bundle.file_name, "wb") as file:
        writer = EncryptingWriter(file, current_cipher().file_keys()[0])
        writer.write(b"PK sample")
        writer.close()


@pytest.mark.parametrize(("area", "path"), GETS)
def test_anonymous_is_sent_to_sign_in(client, area, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize(("area", "path"), POSTS)
def test_anonymous_posts_are_sent_to_sign_in(client, area, path):
    response = client.post(path, data={"csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(("area", "path"), GETS)
def test_staff_may_use_staff_pages_and_are_refused_admin_pages(staff_client, area, path):
    response = staff_client.get(path)
    assert response.status_code == (200 if area == "staff" else 403)
    if area == "admin":
        assert "Not allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize(("area", "path"), [p for p in POSTS if p[0] == "admin"])
def test_staff_posts_to_admin_routes_are_refused(staff_client, area, path):
    assert staff_client.post(path, data={"csrf_token": csrf_token(staff_client, "/staff/")}).status_code == 403


@pytest.mark.parametrize(("area", "path"), POSTS)
def test_every_post_needs_csrf(admin_client, area, path):
    assert admin_client.post(path).status_code == 400


@pytest.mark.parametrize(("area", "path"), GETS)
def test_admin_may_use_every_page(admin_client, area, path):
    assert admin_client.get(path).status_code == 200
