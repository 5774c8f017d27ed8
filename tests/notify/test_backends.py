"""Choosing backends from the configuration, the console backend's log, and `flask dsr deliver-outbox`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from config import ConfigurationError
from dsr.models import OutboxStatus
from dsr.notify.delivery import DeliveryReport, deliver_due
from dsr.notify.mailers import ConsoleMailer, SmtpMailer, mailer_from_config
from dsr.notify.outbox import queue_email, queue_sms
from dsr.notify.sms import ConsoleSms, sms_from_config
from tests.notify.conftest import MAIL_FROM, T0

SECRET = {"heading": "Your code", "paragraphs": ["Use 774411 to continue."]}


def test_the_console_backends_log_a_count_and_no_personal_data(session, caplog):
    email = queue_email(session, T0, to="ada@example.org", template="notice", context=SECRET)
    text = queue_sms(session, T0, to="+353861234567", template="code", context={"code": "774411"})
    session.commit()
    with caplog.at_level(logging.INFO):
        report = deliver_due(session, T0, ConsoleMailer(), ConsoleSms())
    assert report == DeliveryReport(sent=2)
    assert (email.status, text.status) == (OutboxStatus.SENT, OutboxStatus.SENT)
    assert "delivered 1 message(s) to the console backend; read them on Admin → Outbox" in caplog.text
    assert "delivered 1 text message(s) to the console backend" in caplog.text
    for personal in ("ada@example.org", "+353861234567", "774411", "Your code"):
        assert personal not in caplog.text


def test_production_without_a_mail_server_keeps_messages_waiting_instead_of_dropping_them(session):
    message = queue_email(session, T0, to="ada@example.org", template="notice", context=SECRET)
    production = {"ENV_NAME": "production"}
    report = deliver_due(session, T0, mailer_from_config(production), sms_from_config(production))
    assert report == DeliveryReport(retried=1)
    assert message.status is OutboxStatus.PENDING and "DSR_SMTP_HOST" in message.last_error


def test_smtp_settings():
    assert isinstance(mailer_from_config({"ENV_NAME": "development"}), ConsoleMailer)
    mailer = mailer_from_config({"DSR_SMTP_HOST": "smtp.example", "DSR_MAIL_FROM": MAIL_FROM})
    assert isinstance(mailer, SmtpMailer) and (mailer.port, mailer.security) == (587, "starttls")
    ssl = mailer_from_config({"DSR_SMTP_HOST": "smtp.example", "DSR_MAIL_FROM": MAIL_FROM, "DSR_SMTP_SECURITY": "ssl"})
    assert ssl.port == 465
    with pytest.raises(ConfigurationError, match="DSR_MAIL_FROM"):
        mailer_from_config({"DSR_SMTP_HOST": "smtp.example"})
    with pytest.raises(ConfigurationError, match="DSR_SMTP_SECURITY"):
        mailer_from_config({"DSR_SMTP_HOST": "smtp.example", "DSR_MAIL_FROM": MAIL_FROM, "DSR_SMTP_SECURITY": "tls"})


def test_the_deliver_outbox_command_sends_through_the_configured_server(app, session, smtp, monkeypatch):
    for key, value in {
        "DSR_SMTP_HOST": smtp.host,
        "DSR_SMTP_PORT": smtp.port,
        "DSR_SMTP_SECURITY": "none",
        "DSR_MAIL_FROM": MAIL_FROM,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    message = queue_email(session, datetime.now(UTC), to="ada@example.org", template="notice", context=SECRET)
    session.commit()

    result = app.test_cli_runner().invoke(args=["dsr", "deliver-outbox"])
    assert result.exit_code == 0, result.output
    assert "Outbox: 1 sent, 0 to retry, 0 failed." in result.output
    session.rollback()  # see what the command committed (repeatable read on MariaDB)
    assert [m["Message-ID"] for m in smtp.mailbox.messages] == [message.message_id]
    assert message.status is OutboxStatus.SENT


def test_the_deliver_outbox_command_explains_bad_settings(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_SMTP_HOST", "smtp.example")
    monkeypatch.setitem(app.config, "DSR_MAIL_FROM", None)
    result = app.test_cli_runner().invoke(args=["dsr", "deliver-outbox"])
    assert result.exit_code == 1 and "DSR_MAIL_FROM is required" in result.output
