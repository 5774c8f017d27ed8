"""The security suite's shared set-up: one cast of users and requests per module, signed-in clients
for each role, and the checks every page must pass (strict CSP, no executable markup).

Modules that only read (the access matrix, CSRF) share one `cast` built once; modules that change
things use the function-scoped fixtures of tests/conftest.py and tests/web/conftest.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import MapAdapter

from dsr.domain.actors import Actor
from dsr.domain.consent import FlagKind
from dsr.domain.lifecycle import Action
from dsr.domain.uploads import FileKind
from dsr.encrypted_files import EncryptingWriter
from dsr.encryption import current_cipher
from dsr.extensions import db, limiter
from dsr.models import (
    Bundle,
    DataSubject,
    FulfilmentTask,
    JobKind,
    MessageKind,
    ProcessingFlag,
    RequestAttachment,
    RequestMessage,
    Role,
    StaffUser,
)
from dsr.notify.outbox import queue_email
from dsr.services import users
from dsr.services.requests import transition
from dsr.web.public.requester import status_token
from tests.conftest import empty_database
from tests.factories import PASSWORD, make_request, make_user
from tests.web.conftest import (  # noqa: F401  (fixtures for this package's tests)
    admin_client,
    admin_user,
    staff_client,
    staff_user,
)

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_of(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client, path: str, data: dict, token_from: str | None = None, **kwargs):
    response = client.post(path, data={**data, "csrf_token": csrf_token_of(client, token_from or path)}, **kwargs)
    assert response.status_code < 500, f"{path}: {response.status_code}"
    return response


def sign_in_staff(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_token_of(client, "/auth/login")
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and not response.headers["Location"].startswith("/auth"), response.status
    return client


def make_admin(session, email: str = "ada.admin@acme-crm.example") -> tuple[StaffUser, pyotp.TOTP]:
    """An admin whose authenticator is enrolled, with the step before now already used."""
    user = make_user(session, email, Role.ADMIN, "Ada Admin")
    cipher = current_cipher()
    totp = pyotp.TOTP(users.start_totp_enrolment(user, cipher))
    earlier = datetime.now(UTC) - timedelta(seconds=30)
    assert users.check_totp(session, user, totp.at(earlier), earlier, cipher)
    session.commit()
    return user, totp


def sign_in_admin(app: Flask, email: str, totp: pyotp.TOTP) -> FlaskClient:
    client = app.test_client()
    token = csrf_token_of(client, "/auth/login")
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/auth/totp"
    token = csrf_token_of(client, "/auth/totp")
    response = client.post("/auth/totp", data={"code": totp.now(), "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/", response.status
    return client


def write_encrypted(folder: str, name: str, data: bytes) -> None:
    with open(Path(folder) / name, "wb") as file:
        writer = EncryptingWriter(file, current_cipher().file_keys()[0])
        writer.write(data)
        writer.close()


@dataclass(frozen=True)
class Ref:
    """A request as the tests need it once its database session is gone."""

    reference: str
    id: int


@dataclass
class Cast:
    """Who and what the read-only modules play with. `mine` is the requester's own request, `other`
    someone else's, `confidential` a colleague's confidential one that plain staff may not see."""

    anonymous: FlaskClient
    requester: FlaskClient
    staff: FlaskClient
    admin: FlaskClient
    mine: Ref
    other: Ref
    confidential: Ref
    samples: dict[str, str]
    urls: MapAdapter
    ids: dict[str, int] = field(default_factory=dict)  # sequential primary keys of real rows
    tokens: dict[str, str] = field(default_factory=dict)  # one CSRF token per client

    def client(self, role: str) -> FlaskClient:
        return getattr(self, role)


ROLES = ("anonymous", "requester", "staff", "admin")


@pytest.fixture(scope="module")
def cast(app) -> Cast:
    with app.app_context():
        empty_database()
        limiter.reset()
        session = db.session
        now = datetime.now(UTC)
        sam = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
        olga = make_user(session, "olga@acme-crm.example", Role.STAFF, "Olga Other")
        admin, totp = make_admin(session)
        mine, other = make_request(session, now, email="ada@example.org"), make_request(session, now, email="bob@x.org")
        confidential = make_request(session, now, email="carol@example.org")
        for request in (mine, other, confidential):
            transition(session, Actor.system("tests"), now, request, Action.VERIFY)
        confidential.confidential, confidential.assignee = True, olga
        reply = RequestMessage(request_id=mine.id, kind=MessageKind.FROM_REQUESTER, body="My ID", created_at=now)
        task = FulfilmentTask(request_id=mine.id, system_key="sheet", title="Look", instructions="Search the sheet")
        bundle = Bundle(request_id=mine.id, kind=JobKind.ACCESS_BUNDLE, file_name="cast.bundle")
        person = DataSubject()
        notice = {"heading": "Hi", "paragraphs": []}
        message = queue_email(session, now, to="ada@example.org", template="notice", context=notice)
        session.add_all([reply, task, bundle, person])
        session.flush()
        attachment = RequestAttachment(
            request_id=mine.id,
            message=reply,
            file_name="cast.enc",
            display_name="id.pdf",
            kind=FileKind.PDF,
            size=9,
            sha256="0" * 64,
        )
        flag = ProcessingFlag(subject_id=person.id, kind=FlagKind.RESTRICTION, purpose="marketing")
        session.add_all([attachment, flag])
        session.commit()
        write_encrypted(app.config["DSR_BUNDLE_DIR"], bundle.file_name, b"PK sample")
        write_encrypted(app.config["DSR_UPLOAD_DIR"], attachment.file_name, b"%PDF-1.4 ")
        samples = {
            "reference": mine.reference,
            "public_id": message.public_id,
            "task_id": task.public_id,
            "bundle_id": bundle.public_id,
            "attachment_id": attachment.public_id,
            "subject_id": person.public_id,
            "flag_id": flag.public_id,
            "plan_id": "no-such-plan",
            "item_id": "no-such-item",
            "key": "extension",
            "jurisdiction": "eu_gdpr",
            "request_type": "*",
            "action": "message",
            "system_key": "crm",
            "job_id": "purge_bundles",
            "job_ref": "no-such-job",
        }
        ids = {
            "reference": mine.id,
            "public_id": message.id,
            "task_id": task.id,
            "bundle_id": bundle.id,
            "attachment_id": attachment.id,
            "subject_id": person.id,
            "flag_id": flag.id,
        }
        requester = app.test_client()
        assert requester.get(f"/status/{status_token(mine)}").headers["Location"] == f"/my-request/{mine.reference}"
        found = Cast(
            anonymous=app.test_client(),
            requester=requester,
            staff=sign_in_staff(app, sam.email),
            admin=sign_in_admin(app, admin.email, totp),
            mine=Ref(mine.reference, mine.id),
            other=Ref(other.reference, other.id),
            confidential=Ref(confidential.reference, confidential.id),
            samples=samples,
            urls=app.url_map.bind("localhost"),
            ids=ids,
        )
        for role, page in (("anonymous", "/status"), ("requester", "/status"), ("staff", "/staff/"), ("admin", "/")):
            found.tokens[role] = csrf_token_of(found.client(role), page)
    yield found
    with app.app_context():
        empty_database()
    limiter.reset()


@pytest.fixture
def limiter_reset():
    """Each case starts with fresh rate-limit counters (the matrix sends hundreds of requests)."""
    limiter.reset()


def payload(tag: str) -> str:
    """What an attacker types: markup, an attribute break-out, a javascript: URL and template syntax."""
    return f'{tag}<script>alert(1)</script>"><img src=x onerror=alert(1)>javascript:alert(1) {{{{7*7}}}}'


def short(tag: str) -> str:
    """The same within 64 characters, for shorter fields."""
    return f"{tag}<script>alert(1)</script><img src=x onerror=alert(1)>{{{{7*7}}}}"


class _Markup(HTMLParser):
    """Collects what in a page could run script, and the text and attribute values a reader sees."""

    DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "base", "frame", "applet"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "background"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.executable: list[str] = []
        self.shown: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.DANGEROUS_TAGS:
            self.executable.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            self.shown.append(value)
            if name.startswith("on"):
                self.executable.append(f"<{tag} {name}=…>")
            squashed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
            if name in self.URL_ATTRIBUTES and squashed.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.executable.append(f"<{tag} {name}={value[:30]}>")
            if tag == "meta" and name == "content" and "javascript:" in squashed:
                self.executable.append("<meta refresh to javascript:>")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.shown.append(data)


def read_html(html: str) -> tuple[list[str], str]:
    """(anything executable found, everything a reader sees as one string)."""
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser.executable, "\n".join(parser.shown)


def assert_strict_csp(response) -> None:
    """Every HTML page forbids inline script: script only from our origin, nothing inline or eval'd."""
    if response.mimetype != "text/html":
        return
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src") or directives.get("default-src", "")
    assert script, f"no script-src in {csp!r}"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "data:" not in script, csp
    assert directives.get("object-src") == "object-src 'none'" and "base-uri" in directives, csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
