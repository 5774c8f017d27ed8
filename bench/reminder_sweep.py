"""The deadline-reminder sweep over 100,000 and 1,000,000 requests of which the same 1,000 are due.

Target (issue 8): the sweep costs what the due count costs, not the table, so the 1,000,000 sweep
takes under twice the 100,000 one. The register is realistic in shape: one request in ten open
(open ones due over the next year), the rest closed with their due dates behind them; the 1,000
due requests fall from today to a week ahead, assigned across twenty staff, so each gets exactly
one reminder. Each size is seeded once per backend, then measured --repeat times (median quoted):

- first sweep: the `deadline_reminders` job from nothing sent: 1,000 reminder keys recorded and
  1,000 messages rendered, encrypted and queued in the outbox (the real 09:00 work);
- repeat sweep: the same job again, with every key already recorded (what each 5-minute run costs
  for the rest of the day), sampled AGAIN_SAMPLES times per repetition;
- bare range query: the sweep's candidate query as one bare SQL statement (the floor).

    .venv/bin/python bench/reminder_sweep.py
    .venv/bin/python bench/reminder_sweep.py --sizes 100000 --backends sqlite --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from loopback import fresh_postgres_database  # noqa: E402
from sqlalchemy import MetaData, delete, func, insert, select, text  # noqa: E402

from dsr import create_app  # noqa: E402
from dsr.domain.lifecycle import Status  # noqa: E402
from dsr.domain.requests import RequestType  # noqa: E402
from dsr.extensions import db  # noqa: E402
from dsr.jobs.reminders import deadline_reminders  # noqa: E402
from dsr.models import DataSubjectRequest, OutboxMessage, Role, SentReminder, StaffUser  # noqa: E402
from dsr.models.request import REFERENCE_ALPHABET  # noqa: E402

TARGET_RATIO = 2.0
AGAIN_SAMPLES = 5
DUE = 1_000
LOCAL = ZoneInfo("Asia/Kolkata")  # profiles/demo.yaml
TODAY = date(2026, 11, 23)  # a Monday
NOW = datetime.combine(TODAY, clock_time(9, 30), LOCAL).astimezone(UTC)


def reference(i: int) -> str:
    n, body = (i * 2654435761) % (32**8), ""
    for _ in range(8):
        n, digit = divmod(n, 32)
        body += REFERENCE_ALPHABET[digit]
    return f"DSR-2026-{body[:4]}-{body[4:]}"


def rows(count: int, staff_ids: list[int], rng: random.Random):
    for i in range(count):
        due_now = i < DUE
        is_open = due_now or rng.random() < 0.10
        if due_now:
            due_on = TODAY + timedelta(days=i % 8)
        elif is_open:
            due_on = TODAY + timedelta(days=rng.randrange(30, 365))  # open, not due for weeks
        else:
            due_on = TODAY - timedelta(days=rng.randrange(1, 730))
        received = datetime.combine(due_on - timedelta(days=30), clock_time(10), UTC)
        yield {
            "reference": reference(i + 1),
            "request_type": rng.choice(list(RequestType)),
            "status": Status.IN_PROGRESS if is_open else Status.COMPLETED,
            "is_open": is_open,
            "jurisdiction": "br_lgpd",
            "requester_name": "Test Person",
            "search_name": "test person",
            "requester_email": f"person{i}@example.org",
            "details": "",
            "form_data": {},
            "is_agent": False,
            "gpc": False,
            "received_at": received,
            "created_at": received,
            "updated_at": received,
            "verified_at": received,
            "acknowledged_at": received,
            "due_on": due_on,
            "version": 1,
            "assignee_id": staff_ids[i % len(staff_ids)],
            "confidential": False,
            "factors_done": "email",
            "closed_at": None if is_open else received + timedelta(days=20),
        }


def build(url: str, count: int):
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "DSR_NOW": lambda: NOW})
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        metadata.drop_all(bind=db.engine)
        flask_migrate.upgrade()
        staff = [
            StaffUser(email=f"staff{i}@acme-crm.example", name=f"Staff {i:02d}", role=Role.STAFF, password_hash="x")
            for i in range(20)
        ]
        db.session.add_all(staff)
        db.session.commit()
        ids = [s.id for s in staff]
        rng, batch, started = random.Random(7), [], time.perf_counter()
        table = DataSubjectRequest.__table__
        for row in rows(count, ids, rng):
            batch.append(row)
            if len(batch) == 10_000:
                db.session.execute(insert(table), batch)
                batch.clear()
        if batch:
            db.session.execute(insert(table), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return app, time.perf_counter() - started


def timed(function) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_range_query(app) -> None:
    """The sweep's candidate query, as one statement through the raw DB-API cursor."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            true = "1" if db.engine.dialect.name == "sqlite" else "true"
            cursor.execute(
                f"SELECT * FROM dsr_request WHERE is_open = {true} AND due_on >= '{TODAY}' "
                f"AND due_on <= '{TODAY + timedelta(days=14)}' ORDER BY due_on, id"
            )
            assert len(cursor.fetchall()) == DUE
        finally:
            connection.close()


def measure(app, repeat: int) -> dict[str, tuple[float, float]]:
    """Medians of (wall, CPU): the first sweep once per repetition, the repeat sweep and the bare
    query AGAIN_SAMPLES times per repetition (they take milliseconds, where a busy neighbour shows)."""
    first, again, bare = [], [], []
    for _ in range(repeat):
        with app.app_context():
            db.session.execute(delete(SentReminder))
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
        first.append(timed(lambda: deadline_reminders(app)))
        with app.app_context():
            sent = db.session.scalar(select(func.count()).select_from(SentReminder))
            assert sent == DUE, f"expected {DUE} reminders, got {sent}"
        for _ in range(AGAIN_SAMPLES):
            again.append(timed(lambda: deadline_reminders(app)))
            bare.append(timed(lambda: bare_range_query(app)))

    def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)

    return {"first": median(first), "again": median(again), "bare": median(bare)}


def run_one(backend: str, size: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Seed one register and measure it (in a process of its own: see main)."""
    scratch = None
    if backend == "sqlite":
        scratch = tempfile.mkdtemp()
        url = f"sqlite:///{scratch}/reminders.sqlite3"
    else:
        url = fresh_postgres_database("dsr_reminder_bench")
    try:
        app, seeded = build(url, size)
        print(f"{backend} {size:,}: seeded in {seeded:.0f} s", file=sys.stderr)
        figures = measure(app, repeat)
        with app.app_context():
            db.engine.dispose()
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child: one register, figures as JSON on stdout
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.repeat)))
        return
    results = {}
    for backend in args.backends:
        for size in args.sizes:
            # A fresh process per register, so one size's leftovers (heap, caches) never tax the next.
            child = subprocess.run(  # noqa: S603 - this script, this interpreter
                [sys.executable, __file__, "--one", backend, str(size), "--repeat", str(args.repeat)],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
            results[(backend, size)] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{backend} {size:,}: {results[(backend, size)]}", file=sys.stderr)
    lines = [
        f"Reminder sweep — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; {DUE:,} requests due in every register; first sweep median of "
        f"{args.repeat}, repeat sweep and bare query median of {args.repeat * AGAIN_SAMPLES}. "
        "Wall time, with this process's CPU time in brackets; ratios are to the smallest register.",
        "",
        "| backend | requests | first sweep (1,000 reminders queued) | repeat sweep (all sent) | bare range query "
        "| ratio, first sweep | ratio, repeat sweep | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (backend, size), figures in results.items():
        smallest = results[(backend, min(args.sizes))]
        first = figures["first"][0] / smallest["first"][0], figures["first"][1] / smallest["first"][1]
        again = figures["again"][0] / smallest["again"][0], figures["again"][1] / smallest["again"][1]
        verdict = "meets" if max(first[0], again[0]) < TARGET_RATIO else "MISSES"

        def ms(pair: tuple[float, float]) -> str:
            return f"{pair[0] * 1000:.0f} ms ({pair[1] * 1000:.0f} ms CPU)"

        lines.append(
            f"| {backend} | {size:,} | {ms(figures['first'])} | {ms(figures['again'])} "
            f"| {figures['bare'][0] * 1000:.1f} ms | {first[0]:.2f} ({first[1]:.2f} CPU) "
            f"| {again[0]:.2f} ({again[1]:.2f} CPU) | ratio < {TARGET_RATIO:g} ({verdict}) |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    out = Path(__file__).resolve().parent / "results" / "reminder_sweep.md"
    out.write_text(report)


if __name__ == "__main__":
    main()
