"""Stored (and reflected) XSS: script payloads in every free-text field a requester, a staff member or
an admin can fill, then every page and email that shows them. Each must come out as text: no script
element, no event handler, no javascript: link, no template evaluated ({{7*7}} stays {{7*7}}).

The flow runs once through the real forms (module-scoped); each test then reads the pages it made.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from dsr.domain.consent import FlagKind
from dsr.encryption import current_cipher
from dsr.extensions import db, limiter
from dsr.models import (
    CorrectionItem,
    DataSubject,
    DataSubjectRequest,
    FulfilmentTask,
    OutboxMessage,
    ProcessingFlag,
    Role,
)
from dsr.notify.outbox import decrypt_bodies
from tests.conftest import empty_database
from tests.factories import code_in, make_user, outbox_texts
from tests.security.conftest import (
    assert_strict_csp,
    make_admin,
    payload,
    post,
    read_html,
    short,
    sign_in_admin,
    sign_in_staff,
)
from tests.security.routes import ROUTES

PDF = b"%PDF-1.4\n%%EOF\n"


EMAIL = "o'neil{{7*7}}@example.org"  # quotes and braces are legal in an address


@dataclass
class Rendered:
    pages: dict[str, str] = field(default_factory=dict)  # name -> HTML
    emails: dict[str, str] = field(default_factory=dict)  # outbox subject -> HTML body
    texts: list[str] = field(default_factory=list)  # plain-text email bodies
    responses: list = field(default_factory=list)


@pytest.fixture(scope="module")
def rendered(app) -> Rendered:
    with app.app_context():
        empty_database()
        limiter.reset()
        done = Rendered()
        try:
            fill_every_field(app, done)
        finally:
            db.session.rollback()
    yield done
    with app.app_context():
        empty_database()
    limiter.reset()


def fill_every_field(app, done: Rendered) -> None:
    session = db.session
    requester = app.test_client()
    intake = {
        "request_type": "correction",
        "jurisdiction": "eu_gdpr",
        "name": payload("NAME"),
        "email": EMAIL,
        "data_point": payload("POINT"),
        "details": payload("DETAILS"),
        "corrections-0-field_name": payload("FIELD"),
        "corrections-0-new_value": payload("VALUE"),
        "corrections-1-field_name": "Postcode",
        "corrections-1-new_value": payload("SECOND"),
        "is_agent": "y",
        "subject_name": payload("SUBJECT"),
        "agent_authority": payload("AUTHORITY"),
        "privacy_ack": "y",
    }
    # Reflected: the form comes back with its errors and every value typed.
    refused = post(requester, "/request", {**intake, "privacy_ack": ""})
    done.pages["intake form, re-rendered"] = refused.get_data(as_text=True)
    verify = post(requester, "/request", intake).headers["Location"]
    code = code_in(outbox_texts(session, template="verification")[0])
    post(requester, verify, {"code": code, "channel": "email"})
    filed = session.scalar(select(DataSubjectRequest))
    reference, page = filed.reference, f"/staff/requests/{filed.reference}"
    lookup = post(requester, "/status", {"reference": short("REF"), "email": payload("LOOKUP")})
    done.pages["status lookup, re-rendered"] = lookup.get_data(as_text=True)

    staff_client = sign_in_staff(app, make_staff(session))
    admin_user, totp = make_admin(session)
    admin = sign_in_admin(app, admin_user.email, totp)
    login = post(app.test_client(), "/auth/login", {"email": payload("LOGIN"), "password": "x"})
    done.pages["sign-in, re-rendered"] = login.get_data(as_text=True)

    post(staff_client, page + "/verify-identity", {"verify-note": payload("VERIFY")}, token_from=page)
    post(staff_client, page + "/note", {"note-body": payload("NOTE")}, token_from=page)
    html = staff_client.get(page).get_data(as_text=True)  # creates the correction items
    items = session.scalars(select(CorrectionItem).order_by(CorrectionItem.id)).all()
    first_field = r'-target"[^>]*>\s*<option[^>]*>[^<]*</option>\s*<option value="([^"]+)"'
    target = re.search(rf'name="c{items[1].public_id}' + first_field, html)
    assert target, "no field to approve the correction against"
    decide = page + "/corrections/"
    post(staff_client, decide + items[0].public_id, {f"c{items[0].public_id}-decision": "reject",
         f"c{items[0].public_id}-reason": payload("REJECTION")}, token_from=page)  # fmt: skip
    post(staff_client, decide + items[1].public_id, {f"c{items[1].public_id}-decision": "approve",
         f"c{items[1].public_id}-target": target.group(1), f"c{items[1].public_id}-value": payload("APPROVED"),
         f"c{items[1].public_id}-reason": payload("APPROVAL")}, token_from=page)  # fmt: skip
    session.add(FulfilmentTask(request_id=filed.id, system_key="sheet", title="Look", instructions="Search"))
    session.commit()
    task = session.scalar(select(FulfilmentTask))
    post(staff_client, f"{page}/tasks/{task.public_id}", {"task-note": payload("TASK")}, token_from=page)
    letter = {"subject": payload("LETTERSUBJECT"), "body": payload("LETTERBODY")}
    post(staff_client, page + "/message", letter)
    extend = {"reason": payload("EXTENSION"), "subject": payload("EXTSUBJECT"), "body": "Because {reason}. " * 2}
    post(staff_client, page + "/extend", extend)
    ask = {"subject": payload("ASKSUBJECT"), "body": payload("ASKBODY")}
    post(staff_client, page + "/request-info", ask)

    own = f"/my-request/{reference}"
    files = [(io.BytesIO(PDF), "x'><img src=x onerror=alert(1)>{{7*7}}.pdf")]
    data = {"body": payload("REPLY"), "attachments": files}
    assert post(requester, own + "/reply", data, token_from=own, content_type="multipart/form-data").status_code == 302

    person = DataSubject()
    session.add(person)
    session.flush()
    flag = ProcessingFlag(subject_id=person.id, kind=FlagKind.RESTRICTION, purpose="marketing")
    session.add(flag)
    session.commit()
    people = f"/staff/people/{person.public_id}"
    post(staff_client, f"{people}/flags/{flag.public_id}/lift", {"lift-reason": payload("LIFT")}, token_from=people)

    rule = "/admin/rules/eu_gdpr/*"
    post(admin, rule, {"respond_within": "1 month", "extension": "2 months", "holiday_calendar": "",
                       "reference": payload("RULEREF"), "notes": payload("RULENOTES")})  # fmt: skip
    post(admin, "/admin/letters/message", {"subject": payload("TEMPLATESUBJECT"), "body": payload("TEMPLATEBODY")})
    export = post(admin, "/admin/export", {"email": EMAIL, "customer_id": short("CUSTOMER")})
    done.pages["admin export preview"] = export.get_data(as_text=True)

    for name, client, path in [
        ("requester status page", requester, own),
        ("staff request page", staff_client, page),
        ("staff queue", staff_client, "/staff/"),
        ("staff queue search", staff_client, "/staff/?q=" + short("SEARCH").replace("&", "%26")),
        ("staff letter from the edited template", staff_client, page + "/message"),
        ("staff person page", staff_client, people),
        ("admin rules", admin, "/admin/rules"),
        ("admin rule page", admin, rule),
        ("admin letters", admin, "/admin/letters"),
        ("admin letter page", admin, "/admin/letters/message"),
        ("admin outbox", admin, "/admin/outbox"),
        ("admin view of the request", admin, page),
    ]:
        response = client.get(path)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        done.pages[name] = response.get_data(as_text=True)
        done.responses.append(response)
    # And every other staff and admin page there is (audit log, reports… whatever has been added since).
    for route in ROUTES:
        if route.area in ("staff", "admin") and route.method == "GET" and not route.arguments:
            response = admin.get(route.rule)
            if response.mimetype == "text/html":
                done.pages.setdefault(f"page {route.rule}", response.get_data(as_text=True))
                done.responses.append(response)
    outbox_pages = []
    for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        response = admin.get(f"/admin/outbox/{message.public_id}")
        outbox_pages.append(response.get_data(as_text=True))
        done.responses.append(response)
        text, html = decrypt_bodies(message, current_cipher())
        done.texts.append(text)
        if html is not None:
            done.emails[f"{message.template} email {message.public_id}"] = html
    done.pages["admin outbox messages"] = "\n".join(outbox_pages)  # each a whole page; parsed as one


def make_staff(session) -> str:
    return make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff").email


# Where each payload must be visible, as text. Together they cover every field filled above.
SHOWN = {
    "intake form, re-rendered": ["NAME", "POINT", "DETAILS", "FIELD", "VALUE", "SECOND", "SUBJECT", "AUTHORITY"],
    "status lookup, re-rendered": ["LOOKUP"],
    "sign-in, re-rendered": ["LOGIN"],
    "requester status page": ["NAME", "LETTERBODY", "ASKBODY", "EXTENSION", "REPLY"],
    "staff request page": [
        "NAME",
        "POINT",
        "DETAILS",
        "FIELD",
        "VALUE",
        "SECOND",
        "SUBJECT",
        "AUTHORITY",
        "VERIFY",
        "NOTE",
        "REJECTION",
        "APPROVED",
        "APPROVAL",
        "TASK",
        "LETTERBODY",
        "EXTENSION",
        "ASKBODY",
        "REPLY",
    ],  # fmt: skip
    "staff queue": ["NAME"],
    "staff letter from the edited template": ["TEMPLATEBODY"],
    "staff person page": ["LIFT"],
    "admin rules": ["RULEREF"],
    "admin rule page": ["RULEREF", "RULENOTES"],
    "admin letters": [],
    "admin letter page": ["TEMPLATESUBJECT", "TEMPLATEBODY"],
    "admin outbox": [],
    "admin outbox messages": ["LETTERSUBJECT", "LETTERBODY", "ASKSUBJECT", "ASKBODY", "EXTSUBJECT", "EXTENSION"],
    "admin view of the request": ["NAME", "REPLY"],
}
SHOWN_SHORT = {
    "admin export preview": ["CUSTOMER"],
    "staff queue search": ["SEARCH"],
    "status lookup, re-rendered": ["REF"],
}


def test_every_page_renders_the_payloads_as_text(rendered):
    problems = []
    for name, html in rendered.pages.items():
        executable, shown = read_html(html)
        problems += [f"{name}: {found}" for found in executable]
        expected = [payload(tag) for tag in SHOWN.get(name, [])] + [short(tag) for tag in SHOWN_SHORT.get(name, [])]
        # Shown exactly as typed: escaped, not stripped, and {{7*7}} not evaluated to 49.
        problems += [f"{name}: {text[:12]}… not shown as typed" for text in expected if text not in shown]
    assert problems == []


def test_every_field_filled_is_looked_for_on_some_page():
    source = Path(__file__).read_text()
    assert set(re.findall(r'payload\("([A-Z]+)"\)', source)) <= {tag for tags in SHOWN.values() for tag in tags}
    assert set(re.findall(r'short\("([A-Z]+)"\)', source)) <= {tag for tags in SHOWN_SHORT.values() for tag in tags}


def test_the_email_address_with_quotes_and_braces_stays_text(rendered):
    for name in ("staff request page", "staff queue", "admin export preview"):
        executable, shown = read_html(rendered.pages[name])
        assert executable == [] and EMAIL in shown, name


def test_the_uploaded_file_name_is_cleaned_and_shown_as_text(rendered):
    executable, shown = read_html(rendered.pages["staff request page"])
    assert executable == [] and "x_img src_x onerror_alert(1)_7_7.pdf" in shown


def test_html_emails_escape_what_people_typed(rendered):
    assert len(rendered.emails) >= 5  # verification, acknowledgement and the staff's letters
    letters = []
    for name, html in rendered.emails.items():
        executable, shown = read_html(html)
        assert executable == [], f"{name}: {executable}"
        letters.append(shown)
    for tag in ("NAME", "LETTERBODY", "ASKBODY", "EXTENSION"):
        assert any(payload(tag) in text for text in letters), tag


def test_every_html_page_forbids_inline_script(rendered):
    assert len(rendered.responses) > 15
    for response in rendered.responses:
        assert_strict_csp(response)
