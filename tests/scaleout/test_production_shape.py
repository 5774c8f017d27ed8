"""The production shape on loopback: gunicorn with several workers, one `flask dsr scheduler`,
PostgreSQL, Redis for rate-limit counters. Requests driven through the workers while the
scheduler delivers mail: every request stored once, every verification email sent once, and
every job run recorded by the one scheduler process (web workers never schedule).

Needs PostgreSQL (tests/servers.py: DSR_SERVER_TESTS=all in CI) and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from tests.conftest import Mailbox, free_port
from tests.servers import database_url, exclusive, header, server_kinds

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 40
WORKERS = 3


@pytest.fixture
def shape(tmp_path):
    if "postgresql" not in server_kinds():
        pytest.skip(f"the production shape needs PostgreSQL ({header()})")
    url = database_url("postgresql", "dsr_scaleout_test")
    with exclusive(url):  # another test run may want the same database
        yield from _running(url, tmp_path)


def _running(url: str, tmp_path: Path):
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    env = {
        **os.environ,
        "DSR_ENV": "production",
        "DSR_DATABASE_URL": url,
        "DSR_SECRET_KEY": "s" * 40,
        "DSR_SECURE_COOKIES": "false",
        "DSR_HSTS": "false",
        "DSR_BASE_URL": f"http://127.0.0.1:{port}",
        "DSR_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "DSR_INTAKE_RATE_LIMIT": "10000 per minute",
        "DSR_SMTP_HOST": "127.0.0.1",
        "DSR_SMTP_PORT": str(smtp.port),
        "DSR_SMTP_SECURITY": "none",
        "DSR_MAIL_FROM": "privacy@acme-crm.example",
        "DSR_SMS_BACKEND": "console",
        "DSR_OUTBOX_INTERVAL_SECONDS": "1",
        "DSR_BUNDLE_DIR": str(tmp_path / "bundles"),
    }
    env.pop("DSR_NOW", None)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    stack = ExitStack()
    web_log, scheduler_log = (stack.enter_context(open(logs / name, "w")) for name in ("web.log", "scheduler.log"))  # noqa: SIM115
    web = subprocess.Popen(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    scheduler = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "app", "dsr", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=scheduler_log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(base + "/healthz", timeout=2).status == 200:  # noqa: S310
                    break
            except OSError:
                time.sleep(0.2)
        yield base, mailbox, url, logs, f"{socket.gethostname()}:{scheduler.pid}"  # as job_run.worker names it
    finally:
        for process in (scheduler, web):
            process.terminate()
            process.wait(timeout=20)
        smtp.stop()
        stack.close()


def file_request(base: str, n: int) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/request", timeout=20).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {
        "csrf_token": token,
        "request_type": "objection",
        "purposes": "marketing",
        "jurisdiction": "eu_gdpr",
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "privacy_ack": "y",
    }
    data = urllib.parse.urlencode(form).encode()
    response = opener.open(urllib.request.Request(base + "/request", data=data, method="POST"), timeout=30)  # noqa: S310
    return response.status


def test_web_workers_and_a_scheduler_lose_nothing_and_send_nothing_twice(shape):
    base, mailbox, url, logs, scheduler = shape
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda n=n: statuses.append(file_request(base, n))) for n in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses.count(200) == PEOPLE, (Counter(statuses), (logs / "web.log").read_text()[-2000:])

    deadline = time.monotonic() + 60
    while len(mailbox.messages) < PEOPLE and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(3)  # a few more scheduler ticks: nothing else may arrive
    recipients = Counter(m["To"] for m in mailbox.messages)
    assert recipients == Counter({f"person{n}@example.org": 1 for n in range(PEOPLE)}), (
        logs / "scheduler.log"
    ).read_text()[-2000:]
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT count(*) FROM dsr_request"))
        unsent = connection.scalar(text("SELECT count(*) FROM outbox_message WHERE status <> 'sent'"))
        workers = connection.scalars(text("SELECT DISTINCT worker FROM job_run")).all()
        delivered = connection.scalar(text("SELECT count(*) FROM job_run WHERE job_id = 'deliver_outbox'"))
    engine.dispose()
    assert stored == PEOPLE and unsent == 0
    # job_run.worker is "<host>:<pid>" of the process that ran the job (dsr.jobs.runs.worker_name): only the
    # scheduler's pid, so no gunicorn worker ran a job, and the scheduler did deliver the outbox.
    assert workers == [scheduler] and delivered > 0
