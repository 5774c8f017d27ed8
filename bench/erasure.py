"""Benchmark: erasing one person with N rows, in batches, against one bare SQL statement per table.

The shape of TARGETS.md: one subject whose rows are half invoices, a quarter call logs and a quarter
support tickets, among 10,000 other customers, in the demo CRM schema (datasets/demo.yaml, built by
create_bulk_crm). So that every one of the person's rows is changed, the invoices keep their tax
fields (retain) but have billing name and address redacted: half the rows are updated, half deleted.

    .venv/bin/python bench/erasure.py                      # 100k and 1M rows, SQLite and PostgreSQL, 3 runs
    .venv/bin/python bench/erasure.py --rows 100000 --backends sqlite --repeat 1

Each run erases a fresh copy of the CRM (a file copy; a PostgreSQL database created from a template)
in a fresh process: the plan (dry run) and the execution are timed apart, peak RSS is the whole
process's (getrusage). The bare baseline is what the database must do at least: for each table, the
single UPDATE or DELETE of the person's rows (the same WHERE clauses and values), all in one
transaction, through the raw DB-API cursor. Results go to stdout and bench/results/erasure.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {100_000: (5.0, 150.0), 1_000_000: (60.0, 150.0)}  # rows → (seconds, peak RSS MB), TARGETS.md
RATIO_TARGET = 3.0
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"
PG_TEMPLATE, PG_RUN = "crm_bench_erasure_template", "crm_bench_erasure_run"
SECRET = b"bench-erasure-secret"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _setup(url: str):
    """The demo dataset with invoices' billing name and address redacted, and the bulk subject's identities."""
    from dsr.domain.dataset import Erasure, SubjectIdentities
    from dsr.services.inventory import load_dataset
    from dsr.sources.demo_crm_bulk import SUBJECT

    environ = {"DSR_DEMO_CRM_URL": url}
    dataset = load_dataset(ROOT / "datasets" / "demo.yaml", environ=environ)
    crm = dataset.system("crm")
    invoices = crm.table("invoices")
    redacted = tuple(
        replace(f, erasure=Erasure.REDACT, legal_basis="", retention=None)
        if f.name in ("billing_name", "billing_address")
        else f
        for f in invoices.fields
    )
    tables = tuple(replace(t, fields=redacted) if t.name == "invoices" else t for t in crm.tables)
    dataset = replace(dataset, systems=tuple(replace(s, tables=tables) if s is crm else s for s in dataset.systems))
    # The person verified both their email and their phone, as for an access request.
    return environ, dataset, SubjectIdentities.of(email=SUBJECT[1], phone=SUBJECT[2])


def child_erase(url: str, batch_size: str) -> dict:
    """One erasure, as the background job runs it: the plan, then its execution."""
    import dsr  # noqa: F401  (the app package, as loaded in the job process)
    from dsr.fulfilment.erasure import MemoryCheckpoint, execute_erasure
    from dsr.fulfilment.erasure_plan import plan_erasure

    environ, dataset, identities = _setup(url)
    started = time.perf_counter()
    plan = plan_erasure(dataset, identities, environ)
    planned = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = execute_erasure(
        plan, dataset, identities, MemoryCheckpoint(), secret=SECRET, batch_size=int(batch_size), environ=environ
    )
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    batches = sum(t.batches for t in result.tables)
    return {"seconds": seconds, "cpu": cpu, "plan": planned, "peak_rss_mb": _peak_rss_mb(), "batches": batches,
            **result.totals()}  # fmt: skip


def child_baseline(url: str) -> dict:
    """One bare UPDATE or DELETE per table for all the person's rows, one transaction, raw DB-API cursor."""
    from sqlalchemy import create_engine, delete, update

    from dsr.fulfilment.erasure_rules import Operation, erasure_rules
    from dsr.fulfilment.erasure_sql import ErasureStatements
    from dsr.fulfilment.erasure_values import keyed_hash
    from dsr.sources.sql_writes import column_specs

    environ, dataset, identities = _setup(url)
    system = dataset.system("crm")
    rules, _ = erasure_rules(system)
    engine = create_engine(url)
    with engine.connect() as connection:
        statements = ErasureStatements(system, identities, column_specs(connection, system), rules)
    bare = []
    for rule in rules:
        condition = statements.matching(rule)
        if condition is None or rule.operation is Operation.KEEP_ROWS:
            continue
        if rule.operation is Operation.DELETE_ROWS:
            bare.append(delete(statements.clause(rule)).where(condition))
            continue
        values = statements.fixed_values(rule, kept=False)
        for column in statements.hash_columns(rule):  # the person's own values, hashed once
            digits = statements.replacements[(rule.table.name, False)][column].hash_digits
            values[column] = keyed_hash(SECRET, None, "value", digits)
        bare.append(update(statements.clause(rule)).where(condition).values(values))
    compiled = [statement.compile(dialect=engine.dialect) for statement in bare]
    raw = engine.raw_connection()
    try:
        started, rows = time.perf_counter(), 0
        cursor = raw.cursor()
        for statement in compiled:
            positional = statement.positiontup is not None
            cursor.execute(str(statement), [statement.params[k] for k in statement.positiontup] if positional
                           else statement.params)  # fmt: skip
            rows += cursor.rowcount
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
    return {"seconds": seconds, "rows": rows}


def run_child(*args: str) -> dict:
    command = [sys.executable, __file__, "--child", *args]  # our own script, our own arguments
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout  # noqa: S603
    return json.loads(output.strip().splitlines()[-1])


class Copies:
    """Fresh copies of one loaded CRM: one per run, since an erasure changes its database."""

    def __init__(self, backend: str, rows: int, scratch: Path) -> None:
        from dsr.sources.demo_crm_bulk import create_bulk_crm

        self.backend, self.scratch = backend, scratch
        if backend == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}"', f'CREATE DATABASE "{PG_TEMPLATE}"')
            template = PG_SERVER.format(PG_TEMPLATE)
        else:
            self.template = scratch / f"crm_{rows}.sqlite3"
            template = f"sqlite:///{self.template}"
        started = time.perf_counter()
        self.subject = create_bulk_crm(template, rows)
        print(f"  {backend} {rows:,} rows loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    def _admin(self, *statements: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_SERVER.format("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            engine.dispose()

    def fresh(self) -> str:
        if self.backend == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{PG_RUN}"', f'CREATE DATABASE "{PG_RUN}" TEMPLATE "{PG_TEMPLATE}"')
            return PG_SERVER.format(PG_RUN)
        run = self.scratch / "run.sqlite3"
        shutil.copyfile(self.template, run)
        return f"sqlite:///{run}"

    def drop(self) -> None:
        if self.backend == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{PG_RUN}"', f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}"')


def measure(backend: str, rows: int, repeat: int, batch_size: int, scratch: Path) -> dict:
    copies = Copies(backend, rows, scratch)
    try:
        runs = [run_child("erase", copies.fresh(), str(batch_size)) for _ in range(repeat)]
        baselines = [run_child("baseline", copies.fresh()) for _ in range(repeat)]
    finally:
        copies.drop()
    counts = copies.subject.counts
    expected = {"deleted": counts["call_logs"] + counts["support_tickets"], "updated": counts["invoices"] + 1}
    assert all({k: r[k] for k in expected} == expected for r in runs), (runs, expected)
    assert all(b["rows"] == sum(expected.values()) for b in baselines), (baselines, expected)
    return {
        "backend": backend,
        "rows": rows,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "all_seconds": [round(r["seconds"], 2) for r in runs],
        "cpu": statistics.median(r["cpu"] for r in runs),
        "plan": statistics.median(r["plan"] for r in runs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "batches": runs[0]["batches"],
        "baseline": statistics.median(b["seconds"] for b in baselines),
        "all_baselines": [round(b["seconds"], 2) for b in baselines],
    }


def table(results: list[dict], repeat: int, batch_size: int) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}"
    lines = [
        f"Erasure (plan, then batches of {batch_size:,} rows, each its own transaction), median of {repeat}; "
        f"{datetime.now(UTC):%Y-%m-%d}, {machine}.",
        "",
        "| backend | rows erased | wall time | target | peak RSS | target | runs (s) | CPU time | batches | plan "
        "| bare SQL (runs) | ratio | target |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        seconds_target, rss_target = TARGETS.get(r["rows"], (None, 150.0))
        ratio = r["seconds"] / r["baseline"]
        time_ok = seconds_target is None or r["seconds"] <= seconds_target
        missed = " **missed**"
        time_target = f"≤ {seconds_target:.0f} s{'' if time_ok else missed}" if seconds_target else "—"
        rss_note = "" if r["peak_rss_mb"] <= rss_target else missed
        ratio_note = "" if ratio <= RATIO_TARGET else missed
        lines.append(
            f"| {r['backend']} | {r['rows']:,} | {r['seconds']:.2f} s | {time_target} | {r['peak_rss_mb']:.0f} MB "
            f"| ≤ {rss_target:.0f} MB{rss_note} | {', '.join(map(str, r['all_seconds']))} | {r['cpu']:.2f} s "
            f"| {r['batches']} | {r['plan']:.2f} s | {r['baseline']:.2f} s ({', '.join(map(str, r['all_baselines']))}) "
            f"| {ratio:.1f}× | ≤ {RATIO_TARGET:.0f}×{ratio_note} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    from dsr.fulfilment.erasure import BATCH_SIZE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "erasure.md")
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        print(json.dumps(child_erase(*rest) if mode == "erase" else child_baseline(*rest)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="dsr-bench-") as scratch:
        for backend in args.backends:
            for rows in args.rows:
                results.append(measure(backend, rows, args.repeat, args.batch_size, Path(scratch)))
    report = table(results, args.repeat, args.batch_size)
    print(report)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(report)


if __name__ == "__main__":
    main()
