"""Staff queue page latency at 100,000 and 1,000,000 requests, on SQLite and PostgreSQL.

Seeds a realistic register (one in ten requests still open, twenty staff, two years of history),
then times full page renders through the app (routing, queries, template) for the default view
and two filters, plus a keyset page. The header's counts are shared for DSR_QUEUE_COUNTS_SECONDS
(10 s) per process; the last row recomputes them on every request to show their cold cost.
Prints a Markdown table next to the target and writes it to bench/results/queue_latency.md.

    .venv/bin/python bench/queue_latency.py
    .venv/bin/python bench/queue_latency.py --sizes 100000 --backends sqlite --samples 50
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from loopback import fresh_postgres_database  # noqa: E402
from sqlalchemy import MetaData, insert, text  # noqa: E402

from dsr import create_app  # noqa: E402
from dsr.domain.lifecycle import OPEN_STATUSES, Status  # noqa: E402
from dsr.domain.requests import RequestType  # noqa: E402
from dsr.extensions import db  # noqa: E402
from dsr.models import DataSubjectRequest, Role, StaffUser  # noqa: E402
from dsr.models.request import REFERENCE_ALPHABET  # noqa: E402

TARGET_P95_MS = 40
FIRST = ["Ada", "Grace", "Alan", "Priya", "Arjun", "Maria", "João", "Wei", "Fatima", "Liam", "Sofia", "Kenji"]
LAST = ["Lovelace", "Hopper", "Turing", "Raman", "Mehta", "Silva", "Santos", "Zhang", "Khan", "Murphy", "Rossi"]
CLOSED = [Status.COMPLETED, Status.COMPLETED, Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN, Status.EXPIRED]
OPEN = sorted(OPEN_STATUSES)
JURISDICTIONS = ["eu_gdpr", "uk_gdpr", "us_ca_ccpa", "in_dpdp", "br_lgpd", "default"]
TODAY = date(2026, 11, 23)


def reference(i: int) -> str:
    """Unique and scrambled like the real ones (a bijection of i, so no collisions to retry)."""
    n, body = (i * 2654435761) % (32**8), ""
    for _ in range(8):
        n, digit = divmod(n, 32)
        body += REFERENCE_ALPHABET[digit]
    return f"DSR-2026-{body[:4]}-{body[4:]}"


def rows(count: int, staff_ids: list[int], rng: random.Random):
    start = datetime(2024, 11, 23, tzinfo=UTC)
    for i in range(count):
        received = start + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        is_open = rng.random() < 0.10
        status = rng.choice(OPEN) if is_open else rng.choice(CLOSED)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        yield {
            "reference": reference(i + 1),
            "request_type": rng.choice(list(RequestType)),
            "status": status,
            "is_open": is_open,
            "jurisdiction": rng.choice(JURISDICTIONS),
            "requester_name": name,
            "search_name": name.lower(),
            "requester_email": f"person{i}@example.org",
            "details": "",
            "form_data": {},
            "is_agent": False,
            "gpc": False,
            "received_at": received,
            "created_at": received,
            "updated_at": received,
            "due_on": received.date() + timedelta(days=30),
            "version": 1,
            "assignee_id": rng.choice(staff_ids) if rng.random() < 0.7 else None,
            "confidential": False,
            "factors_done": "email",
            "verified_at": received if status is not Status.SUBMITTED else None,
            "closed_at": None if is_open else received + timedelta(days=20),
        }


def build(url: str, count: int) -> tuple:
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "DSR_NOW": lambda: datetime(2026, 11, 23, 12, tzinfo=UTC),
        },
    )
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
        db.session.commit()
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that
        # lets PostgreSQL answer counts from the index alone.
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE dsr_request"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        seeded = time.perf_counter() - started
        viewer = staff[0].get_id()
    return app, viewer, seeded


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(app, viewer: str, samples: int) -> dict[str, tuple[float, float]]:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = viewer, True
    first = client.get("/staff/").get_data(as_text=True)
    assert "Request queue" in first, first[:500]
    after = first.split("after=")[1].split('"')[0] if "after=" in first else ""
    views = {
        "default (open, by due date)": "/staff/",
        "filter: mine": "/staff/?assignee=mine",
        "filter: type + name search": "/staff/?request_type=deletion&q=grace",
        "page 2 (keyset)": f"/staff/?after={after}",
    }
    results = {}
    views["default, counts recomputed every time"] = "/staff/?cold=1"
    for label, path in views.items():
        app.config["DSR_QUEUE_COUNTS_SECONDS"] = 0 if "cold=1" in path else 10
        for _ in range(5):
            client.get(path)  # warm caches
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        results[label] = (statistics.median(timings), percentile(timings, 95))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    table = {}
    for backend in args.backends:
        for size in args.sizes:
            if backend == "sqlite":
                scratch = tempfile.mkdtemp()
                url = f"sqlite:///{scratch}/queue.sqlite3"
            else:
                url = fresh_postgres_database("dsr_queue_bench")
            app, viewer, seeded = build(url, size)
            print(f"{backend} {size:,}: seeded in {seeded:.0f} s", file=sys.stderr)
            table[(backend, size)] = measure(app, viewer, args.samples)
            with app.app_context():
                db.engine.dispose()
            if backend == "sqlite":
                shutil.rmtree(scratch, ignore_errors=True)
    lines = [
        f"Queue page latency — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}, {args.samples} samples per view",
        "",
        "| backend | requests | view | p50 ms | p95 ms | target p95 | ratio p95 to smallest size |",
        "|---|---|---|---|---|---|---|",
    ]
    for (backend, size), views in table.items():
        smallest = table.get((backend, min(args.sizes)))
        for label, (p50, p95) in views.items():
            ratio = p95 / smallest[label][1] if smallest else 1.0
            verdict = "meets" if p95 <= TARGET_P95_MS else "MISSES"
            lines.append(
                f"| {backend} | {size:,} | {label} | {p50:.1f} | {p95:.1f} "
                f"| ≤ {TARGET_P95_MS} ({verdict}) | {ratio:.2f} |"
            )
    report = "\n".join(lines) + "\n"
    print(report)
    out = Path(__file__).resolve().parent / "results" / "queue_latency.md"
    out.write_text(report)


if __name__ == "__main__":
    main()
