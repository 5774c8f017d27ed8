"""Run every benchmark, one after another, and collect their tables into bench/results/latest.md and
the README's "Latest benchmark results" section. This is what `make bench` runs (about 45 minutes on
a 2-CPU machine; pass --quick for one run of each at the smaller sizes, a few minutes).

Each benchmark also keeps its own table in bench/results/<name>.md; they are never timed assertions
in the test suite (TARGETS.md figures are compared here, with the machine and load noted).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCHMARKS = [
    ("Intake throughput (form POST under gunicorn)", "intake_throughput.py", [], ["--repeat", "1", "--seconds", "5"]),
    ("Queue page latency", "queue_latency.py", [], ["--sizes", "100000", "--samples", "50"]),
    ("Access bundle", "access_bundle.py", [], ["--rows", "100000", "--repeat", "1"]),
    ("Erasure", "erasure.py", [], ["--rows", "100000", "--repeat", "1"]),
    ("Reminder sweep", "reminder_sweep.py", [], ["--sizes", "100000", "--repeat", "1"]),
    ("Audit verification and reports", "audit_and_reports.py", [], ["--events", "100000"]),
    ("Idle memory", "idle_memory.py", [], ["--repeat", "1"]),
]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def result_file(script: str) -> Path:
    return RESULTS / script.replace(".py", ".md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each, smaller sizes (a smoke check)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="SCRIPT",
        help="run only these (e.g. intake_throughput.py); the others' tables are taken from their last results",
    )
    parser.add_argument("--collect", action="store_true", help="run nothing: rebuild latest.md and the README table")
    args = parser.parse_args()
    if args.collect:
        args.only = ["(none)"]
    verb = "Collected" if args.only else "Run"  # with --only, each table below carries its own run's date
    sections = [
        f"{verb} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}){' — quick mode' if args.quick else ''}. "
        "Targets from TARGETS.md.",
    ]
    failed = []
    for title, script, full, quick in BENCHMARKS:
        if args.only and script not in args.only:
            kept = result_file(script)
            sections.append(f"### {title}\n\n{kept.read_text().strip() if kept.exists() else 'Not run yet.'}")
            continue
        print(f"== {title}", flush=True)
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / script), *(quick if args.quick else full)],  # noqa: S603
            cwd=ROOT,
        )
        if done.returncode != 0:
            failed.append(script)
            sections.append(f"### {title}\n\nFAILED (exit {done.returncode}); see the command's output.")
            continue
        table = result_file(script).read_text().strip()
        sections.append(f"### {title}\n\n{table}")
    latest = "\n\n".join(sections) + "\n"
    (RESULTS / "latest.md").write_text(latest)
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = f"{START}\n{latest}{END}"
    text = (
        re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S) if START in text else text
    )
    readme.write_text(text)
    print(latest)
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
