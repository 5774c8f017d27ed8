"""Admin → Outbox: the list, a message's page (with its body where allowed) and "retry now"."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from dsr.models import AuditEvent, OutboxStatus
from dsr.notify.outbox import queue_email, queue_sms
from tests.web.conftest import csrf_token, post_form

NOTICE = {"heading": "Your export is ready", "paragraphs": ["Passphrase: tangerine-umbrella."]}


@pytest.fixture
def failed(session, clock):
    message = queue_email(session, clock(), to="nobody@example.org", template="notice", context=NOTICE)
    message.status, message.attempts, message.last_error = OutboxStatus.FAILED, 1, "550 5.1.1 No such user here"
    session.commit()
    return message


@pytest.fixture
def texted(session, clock):
    message = queue_sms(session, clock(), to="+353861234567", template="code", context={"code": "482913"})
    session.commit()
    return message


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>.*?</tr>", html, re.S)


def test_staff_cannot_see_the_outbox(staff_client, failed):
    assert staff_client.get("/admin/outbox").status_code == 403
    assert staff_client.get(f"/admin/outbox/{failed.public_id}").status_code == 403


def test_admin_sees_messages_newest_first_and_can_filter_by_status(admin_client, failed, texted):
    html = admin_client.get("/admin/outbox").get_data(as_text=True)
    listed = rows(html)
    assert len(listed) == 2
    assert "+353861234567" in listed[0] and "code" in listed[0] and "pending" in listed[0]
    assert "nobody@example.org" in listed[1] and "550 5.1.1 No such user here" in listed[1]
    assert "tangerine" not in html and "482913" not in html  # bodies only on a message's own page

    only_failed = rows(admin_client.get("/admin/outbox?status=failed").get_data(as_text=True))
    assert len(only_failed) == 1 and "nobody@example.org" in only_failed[0]


def test_pages_continue_from_the_last_message_shown(admin_client, session, clock):
    for number in range(53):
        queue_email(session, clock(), to=f"person{number}@example.org", template="notice", context=NOTICE)
    session.commit()
    first = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert len(rows(first)) == 50 and "person52@" in rows(first)[0]
    older = re.search(r'href="(/admin/outbox\?before=\d+)">Older messages', first).group(1)
    second = admin_client.get(older).get_data(as_text=True)
    assert [re.search(r"person\d+@", row).group(0) for row in rows(second)] == ["person2@", "person1@", "person0@"]
    assert "Older messages" not in second and "Newest messages" in second


def test_the_body_is_shown_when_the_setting_allows_it(admin_client, texted, app, monkeypatch):
    page = admin_client.get(f"/admin/outbox/{texted.public_id}").get_data(as_text=True)
    assert "your verification code is 482913" in page

    monkeypatch.setitem(app.config, "DSR_OUTBOX_SHOW_BODIES", False)
    page = admin_client.get(f"/admin/outbox/{texted.public_id}").get_data(as_text=True)
    assert "482913" not in page and "bodies are not shown" in page
    assert "+353861234567" in page and str(escape(texted.message_id)) in page


def test_retry_now_queues_a_failed_message_again(admin_client, session, failed, clock):
    path = f"/admin/outbox/{failed.public_id}"
    assert "Retry now" in admin_client.get(path).get_data(as_text=True)
    response = post_form(admin_client, path, {}, follow=True)
    assert "goes out on the next delivery run" in response.get_data(as_text=True)
    session.rollback()  # end this test's read snapshot (repeatable read on MariaDB) to see the app's commit
    assert (failed.status, failed.attempts, failed.next_attempt_at) == (OutboxStatus.PENDING, 0, clock())
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retried"))
    assert event.actor_label == "Ada Admin" and event.details == {"message": failed.public_id}
    assert "Retry now" not in admin_client.get(path).get_data(as_text=True)


def test_retry_now_needs_the_csrf_token(admin_client, session, failed):
    response = admin_client.post(f"/admin/outbox/{failed.public_id}", data={})
    assert response.status_code == 400
    session.rollback()
    assert failed.status is OutboxStatus.FAILED


def test_only_failed_messages_can_be_retried(admin_client, session, texted):
    path = f"/admin/outbox/{texted.public_id}"
    response = admin_client.post(path, data={"csrf_token": csrf_token(admin_client, path)}, follow_redirects=True)
    assert "Only failed messages can be retried." in response.get_data(as_text=True)
    session.rollback()
    assert texted.status is OutboxStatus.PENDING


def test_an_unknown_message_is_404(admin_client):
    assert admin_client.get("/admin/outbox/no-such-message").status_code == 404
