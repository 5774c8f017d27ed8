"""Benchmark: an access request (lookup + bundle ZIP + encryption) for one person with N child rows.

The shape of TARGETS.md: one subject whose rows are half invoices, a quarter call logs and a quarter
support tickets, among 10,000 other customers, in the demo CRM schema (datasets/demo.yaml).

    .venv/bin/python bench/access_bundle.py                      # 100k and 1M rows, SQLite and PostgreSQL
    .venv/bin/python bench/access_bundle.py --rows 100000 --backends sqlite --repeat 1

Each run is a fresh subprocess (wall time of the request, peak RSS of the whole process via
getrusage); the median of --repeat runs is reported. The baseline is the bare minimum: the same SQL
statements through the raw DB-API cursor into the standard library's CSV writer, discarding output.
Results go to stdout and bench/results/access_bundle.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loopback import fresh_postgres_database  # noqa: E402

TARGETS = {100_000: (2.0, 150.0), 1_000_000: (20.0, 150.0)}  # rows → (seconds, peak RSS MB), TARGETS.md
PG_DATABASE = "crm_bench"  # dropped and created afresh for each PostgreSQL run


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _lookup_setup(url: str):
    from dsr.domain.dataset import SubjectIdentities
    from dsr.services.inventory import load_dataset
    from dsr.services.organisation import load_profile
    from dsr.sources.demo_crm_bulk import SUBJECT

    environ = {"DSR_DEMO_CRM_URL": url}
    profile = load_profile(ROOT / "profiles" / "demo.yaml")
    dataset = load_dataset(ROOT / "datasets" / "demo.yaml", environ=environ, purposes={p.key for p in profile.purposes})
    # The person verified both their email and their phone, as for an access request.
    identities = SubjectIdentities.of(email=SUBJECT[1], phone=SUBJECT[2])
    return environ, profile, dataset, identities


def child_bundle(url: str, workdir: str) -> dict:
    """One access request, as the background job runs it."""
    import dsr  # noqa: F401  (the app package, as loaded in the job process)
    from dsr.fulfilment.bundle import BundleKind, BundleRequest, build_bundle

    environ, profile, dataset, identities = _lookup_setup(url)
    request = BundleRequest("BENCH-1", BundleKind.ACCESS, datetime.now(UTC), identities)
    path = Path(workdir) / "bundle.zip.enc"
    started, cpu = time.perf_counter(), _cpu_seconds()
    summary = build_bundle(path, dataset, profile, request, [os.urandom(32)], environ)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    rows = sum(summary.row_counts.values())
    size = path.stat().st_size
    path.unlink()
    return {"seconds": seconds, "cpu": cpu, "peak_rss_mb": _peak_rss_mb(), "rows": rows, "bytes": size}


def child_baseline(url: str) -> dict:
    """The same SELECTs through the bare DB-API cursor into csv.writer, output discarded."""
    from sqlalchemy import create_engine

    from dsr.sources.sql import _Statements, column_types

    environ, _, dataset, identities = _lookup_setup(url)
    system = dataset.system("crm")
    engine = create_engine(url)

    class Discard:
        def write(self, text: str) -> int:
            return len(text)

    started, rows = time.perf_counter(), 0
    with engine.connect() as connection:
        statements = _Statements(system, identities, column_types(connection, system))
        raw = connection.connection.driver_connection
        for table in system.tables:
            compiled = statements.rows(table.name).compile(dialect=engine.dialect)
            if engine.dialect.name == "postgresql":
                cursor = raw.cursor(name=f"bench_{table.name}")
                cursor.execute(str(compiled), compiled.params)
            else:
                cursor = raw.cursor()
                cursor.execute(str(compiled), [compiled.params[k] for k in compiled.positiontup])
            writer = csv.writer(Discard())
            while batch := cursor.fetchmany(5000):
                writer.writerows(batch)
                rows += len(batch)
            cursor.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def run_child(*args: str) -> dict:
    command = [sys.executable, __file__, "--child", *args]  # our own script, our own arguments
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout  # noqa: S603
    return json.loads(output.strip().splitlines()[-1])


def measure(backend: str, rows: int, repeat: int, scratch: Path) -> dict:
    from dsr.sources.demo_crm_bulk import create_bulk_crm

    url = (
        fresh_postgres_database(PG_DATABASE)
        if backend == "postgresql"
        else f"sqlite:///{scratch / f'crm_{rows}.sqlite3'}"
    )
    started = time.perf_counter()
    subject = create_bulk_crm(url, rows)
    print(f"  {backend} {rows:,} rows loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    runs = [run_child("bundle", url, str(scratch)) for _ in range(repeat)]
    baselines = [run_child("baseline", url)["seconds"] for _ in range(repeat)]
    expected = sum(subject.counts.values())
    assert all(r["rows"] == expected for r in runs), (runs, expected)
    return {
        "backend": backend,
        "rows": rows,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "all_seconds": [round(r["seconds"], 2) for r in runs],
        "cpu": statistics.median(r["cpu"] for r in runs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "baseline": statistics.median(baselines),
        "bytes": runs[0]["bytes"],
    }


def table(results: list[dict], repeat: int) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}"
    lines = [
        f"Access request (lookup + streamed ZIP + encryption), median of {repeat}; {datetime.now(UTC):%Y-%m-%d}, "
        f"{machine}.",
        "",
        "| backend | child rows | wall time | target | peak RSS | target | runs (s) | CPU time | bare SQL + csv "
        "| ratio | bundle |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        seconds_target, rss_target = TARGETS.get(r["rows"], (None, 150.0))
        time_ok = seconds_target is None or r["seconds"] <= seconds_target
        time_target = f"≤ {seconds_target:.0f} s{'' if time_ok else ' **missed**'}" if seconds_target else "—"
        rss_note = "" if r["peak_rss_mb"] <= rss_target else " **missed**"
        runs = ", ".join(map(str, r["all_seconds"]))
        lines.append(
            f"| {r['backend']} | {r['rows']:,} | {r['seconds']:.2f} s | {time_target} | {r['peak_rss_mb']:.0f} MB "
            f"| ≤ {rss_target:.0f} MB{rss_note} | {runs} | {r['cpu']:.2f} s | {r['baseline']:.2f} s "
            f"| {r['seconds'] / r['baseline']:.1f}× | {r['bytes'] / 1e6:.1f} MB |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        print(json.dumps(child_bundle(*rest) if mode == "bundle" else child_baseline(*rest)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="dsr-bench-") as scratch:
        for backend in args.backends:
            for rows in args.rows:
                results.append(measure(backend, rows, args.repeat, Path(scratch)))
    report = table(results, args.repeat)
    print(report)
    out = ROOT / "bench" / "results" / "access_bundle.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)


if __name__ == "__main__":
    main()
