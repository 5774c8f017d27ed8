"""`flask dsr audit verify` over 100,000 and 1,000,000 events; Admin → Reports over 100,000 requests.

Aims (ours; TARGETS.md names none): verifying streams (bounded memory), about a minute at most for
a million events; every report query renders well under a second on 100,000 requests. Each backend gets a fresh
database built by the migrations, filled with bulk inserts (events already chained), then:

- verify: `verify_chain` over the whole chain (wall time and peak RSS of this process);
- reports: each Admin → Reports query over the last 26 weeks and a 12-month range, and the CCPA year.

    .venv/bin/python bench/audit_and_reports.py
    .venv/bin/python bench/audit_and_reports.py --events 100000 --backends sqlite
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import MetaData, insert, update  # noqa: E402

from dsr import create_app  # noqa: E402
from dsr.domain.audit_chain import GENESIS, LinkFields, link_hash  # noqa: E402
from dsr.domain.lifecycle import Status  # noqa: E402
from dsr.domain.requests import RequestType  # noqa: E402
from dsr.extensions import db  # noqa: E402
from dsr.models import AuditEvent, DataSubjectRequest  # noqa: E402
from dsr.models.audit import AuditHead  # noqa: E402
from dsr.services import ccpa_metrics, reports  # noqa: E402
from dsr.services.audit_verify import verify_chain  # noqa: E402
from dsr.services.queue import open_counts  # noqa: E402
from tests.servers import database_url  # noqa: E402

LOCAL = ZoneInfo("Asia/Kolkata")
TODAY = date(2026, 11, 23)
T0 = datetime(2024, 1, 1, tzinfo=UTC)
REQUESTS = 100_000


def fresh(url: str):
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        metadata.drop_all(bind=db.engine)
        flask_migrate.upgrade()
    return app


def fill_events(count: int) -> None:
    prev, batch = GENESIS, []
    for seq in range(1, count + 1):
        fields = LinkFields(
            seq,
            T0 + timedelta(seconds=seq),
            "staff",
            None,
            "Ada Admin",
            None,
            "request.note_added",
            {"n": seq, "note": "checked the inventory"},
        )
        digest = link_hash(fields, prev)
        batch.append(
            {
                "occurred_at": fields.occurred_at,
                "actor_kind": "staff",
                "actor_label": fields.actor_label,
                "action": fields.action,
                "details": fields.details,
                "chain_seq": seq,
                "prev_hash": prev,
                "entry_hash": digest,
            }
        )
        prev = digest
        if len(batch) == 10_000 or seq == count:
            db.session.execute(insert(AuditEvent.__table__), batch)
            batch = []
    db.session.execute(update(AuditHead.__table__).values(seq=count, entry_hash=prev))
    db.session.commit()


def fill_requests(count: int) -> None:
    rng, types, batch = random.Random(9), list(RequestType), []
    for i in range(count):
        received = T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 1050))
        closed = received + timedelta(days=rng.randrange(0, 60)) if rng.random() < 0.9 else None
        status = (Status.COMPLETED if rng.random() < 0.9 else Status.REJECTED) if closed else Status.IN_PROGRESS
        batch.append(
            {
                "reference": f"DSR-B-{i:09d}",
                "request_type": rng.choice(types),
                "status": status,
                "is_open": closed is None,
                "jurisdiction": rng.choice(["eu_gdpr", "us_ca_ccpa", "in_dpdp"]),
                "requester_name": "x",
                "search_name": "x",
                "requester_email": f"p{i}@example.org",
                "details": "",
                "form_data": {},
                "received_at": received,
                "closed_at": closed,
                "due_on": (received + timedelta(days=30)).date(),
                "factors_done": "",
                "source": "web",
                "created_at": received,
                "updated_at": received,
                "version": 1,
            }
        )
        if len(batch) == 10_000 or i == count - 1:
            db.session.execute(insert(DataSubjectRequest.__table__), batch)
            batch = []
    db.session.commit()


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run(backend: str, url: str, events: list[int]) -> list[str]:
    lines = []
    for count in events:
        app = fresh(url)
        with app.app_context():
            fill_events(count)
            report = None

            def check():
                nonlocal report
                report = verify_chain(db.session)

            seconds = timed(check)
            assert report.ok and report.checked == count, report.describe()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            lines.append(f"| {backend} | verify {count:,} events | {seconds:.2f} s | peak RSS {rss:.0f} MB |")
            db.engine.dispose()
    app = fresh(url)
    with app.app_context():
        fill_requests(REQUESTS)
        recent = reports.Window(TODAY - timedelta(weeks=26), TODAY, LOCAL)
        year = reports.Window(TODAY - timedelta(days=365), TODAY, LOCAL)
        for name, work in [
            ("requests per week (26 weeks)", lambda: reports.received_per_week(db.session, recent)),
            ("requests per week (12 months)", lambda: reports.received_per_week(db.session, year)),
            ("open by status", lambda: open_counts(db.session, TODAY)),
            ("on-time per month (12 months)", lambda: reports.on_time_per_month(db.session, year)),
            ("days to close (12 months)", lambda: reports.days_to_close(db.session, year)),
            ("overdue list", lambda: reports.overdue(db.session, TODAY)),
            (
                "CCPA metrics 2025",
                lambda: ccpa_metrics.annual_metrics(db.session, 2025, LOCAL, frozenset({"sale_sharing"})),
            ),
        ]:
            seconds = min(timed(work) for _ in range(3))
            lines.append(f"| {backend} | {name}, {REQUESTS:,} requests | {seconds * 1000:.0f} ms | |")
        db.engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    events = [int(n) for n in args.events.split(",")]
    lines = [
        f"{datetime.now(UTC):%Y-%m-%d} · {platform.node()} · load {Path('/proc/loadavg').read_text().split()[0]}",
        "",
        "| backend | work | time | |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url = f"sqlite:///{tmp}/bench.sqlite3" if backend == "sqlite" else database_url(backend, "dsr_audit_bench")
            lines += run(backend, url, events)
    table = "\n".join(lines)
    print(table)
    out = Path(__file__).parent / "results" / "audit_and_reports.md"
    out.write_text("# Audit verification and reports\n\n" + table + "\n")


if __name__ == "__main__":
    main()
