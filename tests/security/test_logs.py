"""No personal data in logs: a whole requester and staff flow over real HTTP (so the access log is
written too), logging captured at DEBUG, then the captured text is searched for everything personal
the flow used: email, phone, name, account number, message text, file name, codes and tokens."""

from __future__ import annotations

import http.cookiejar
import logging
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from sqlalchemy import select

from dsr.jobs.tasks import deliver_outbox, run_fulfilment
from dsr.models import DataSubjectRequest, RequestAttachment, Role
from dsr.web.public.requester import read_verify_page_token
from dsr.web.public.unsubscribe import unsubscribe_url
from tests.factories import code_in, link_in, make_user, outbox_texts
from tests.security.conftest import CSRF_INPUT, make_admin
from tests.web.test_attachments import PDF

NAME = "Zebedee Quinlan-Marchetti"
EMAIL = "zq.private@example.net"
PHONE = "+44 7700 900461"
ACCOUNT = "CUST-99812"
DETAILS = "my grandmother's maiden name is Featherstonehaugh"
REPLY = "my passport number is 533380006"
FILE_NAME = "zebedee-passport.pdf"


@dataclass
class Answer:
    status: int
    location: str
    text: str


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class LiveClient:
    """A browser's worth of HTTP against the live server: cookies kept, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects()
        )

    def open(self, path: str, data: dict | None = None, files: list[tuple[str, bytes]] = ()) -> Answer:
        body, headers = None, {}
        if files:
            body, headers["Content-Type"] = multipart(data or {}, files)
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 (loopback)
        try:
            with self.opener.open(request) as response:
                return Answer(response.status, response.headers.get("Location", ""), response.read().decode())
        except urllib.error.HTTPError as answer:
            return Answer(answer.code, answer.headers.get("Location", ""), answer.read().decode(errors="replace"))

    def form(self, path: str, data: dict, page: str | None = None, **kwargs) -> Answer:
        token = CSRF_INPUT.search(self.open(page or path).text).group(1)
        return self.open(path, {**data, "csrf_token": token}, **kwargs)


def multipart(fields: dict, files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    for name, content in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{name}"\r\n'
        parts.append((head + "Content-Type: application/pdf\r\n\r\n").encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def same_request(verify_page: str, other: str) -> bool:
    """Two code-page addresses for one request (each token carries the second it was signed in)."""
    first, second = (read_verify_page_token(page.split("/")[2]) for page in (verify_page, other))
    return first is not None and first == second


def relative(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_whole_flow_leaves_no_personal_data_in_the_logs(app, live_server, session, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_BASE_URL", live_server)
    caplog.set_level(logging.DEBUG)
    secrets_seen: set[str] = set()
    requester = LiveClient(live_server)

    # The requester files an access request, confirms by the emailed link and the texted code.
    filed = requester.form(
        "/request",
        {"request_type": "access", "jurisdiction": "uk_gdpr", "name": NAME, "email": EMAIL, "phone": PHONE,
         "data_point": ACCOUNT, "details": DETAILS, "privacy_ack": "y"},
    )  # fmt: skip
    verify_page = filed.location
    assert filed.status == 302 and verify_page.endswith("/verify"), filed.status
    secrets_seen.add(verify_page.split("/")[2])
    email = outbox_texts(session, template="verification")[0]
    link = relative(link_in(email, "/verify/"))
    secrets_seen |= {code_in(email), link.split("/")[2]}
    requester.open(link, {})  # a POST without its CSRF token: refused, and logged without the token
    confirmed = requester.form(link, {}).location  # back to the code page: the same request, freshly signed
    assert confirmed.endswith("/verify") and same_request(confirmed, verify_page)
    sms = outbox_texts(session, template="code")[0]
    secrets_seen.add(code_in(sms))
    assert requester.form(verify_page, {"code": code_in(sms), "channel": "sms"}).status == 302
    reference = session.scalar(select(DataSubjectRequest.reference))

    # A status link by email, opened in another browser.
    other_browser = LiveClient(live_server)
    other_browser.form("/status", {"reference": reference, "email": EMAIL})
    status_link = relative(link_in(outbox_texts(session, template="status_link")[0], "/status/"))
    secrets_seen.add(status_link.split("/")[2])
    assert other_browser.open(status_link).location == f"/my-request/{reference}"

    # Staff find it by email and by name, write a note and ask for more information.
    make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    staff = LiveClient(live_server)
    staff.form("/auth/login", {"email": "sam@acme-crm.example", "password": "correct horse battery staple"})
    for query in (EMAIL, NAME.split()[0], PHONE):
        assert reference in staff.open("/staff/?" + urllib.parse.urlencode({"q": query})).text or query == PHONE
    page = f"/staff/requests/{reference}"
    staff.form(page + "/note", {"note-body": f"Called {NAME} on {PHONE}"}, page=page)
    staff.form(page + "/request-info", {"subject": "More please", "body": f"Dear {NAME}, send your passport."})

    # The requester replies with a file; staff download it, build the bundle, complete.
    mine = f"/my-request/{reference}"
    replied = other_browser.form(mine + "/reply", {"body": REPLY}, page=mine, files=[(FILE_NAME, PDF)])
    assert replied.status == 302, replied.text[-500:]
    attachment = session.scalar(select(RequestAttachment.public_id))
    assert staff.open(f"{page}/attachments/{attachment}").status == 200
    staff.form(page + "/bundle", {}, page=page)
    run_fulfilment(app)
    deliver_outbox(app)

    # An admin signs in with the second factor and searches the systems by the email address.
    admin, totp = make_admin(session)
    admin_browser = LiveClient(live_server)
    admin_browser.form("/auth/login", {"email": admin.email, "password": "correct horse battery staple"})
    assert admin_browser.form("/auth/totp", {"code": totp.now()}).location == "/admin/"
    admin_browser.form("/admin/export", {"email": EMAIL})

    # A marketing email's unsubscribe link, opened and clicked.
    with app.test_request_context():
        unsubscribe = relative(unsubscribe_url(EMAIL))
    secrets_seen.add(unsubscribe.split("/")[2])
    assert other_browser.open(unsubscribe).status == 200
    assert other_browser.open(unsubscribe, {"List-Unsubscribe": "One-Click"}).status == 200

    secrets_seen |= set(re.findall(r"(?<![\d-])\d{6}(?![\d-])", "\n".join(outbox_texts(session))))  # every code sent
    logged = re.sub(r"\x1b\[[0-9;]*m", "", caplog.text)  # Werkzeug colours some access lines
    assert '"GET /status/[redacted] HTTP/1.1" 302' in logged  # the access log was captured, and redacted
    assert "CSRF check refused POST /verify/<token>" in logged
    personal = {
        EMAIL, EMAIL.replace("@", "%40"), NAME, *NAME.split(), PHONE, PHONE.replace(" ", ""), PHONE.replace(" ", "+"),
        "7700900461", ACCOUNT, DETAILS, REPLY, FILE_NAME, "Featherstonehaugh",
    }  # fmt: skip
    found = sorted(value for value in personal | secrets_seen if value and value.lower() in logged.lower())
    assert found == [], f"personal data or credentials in the logs: {found}"
