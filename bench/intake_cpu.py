"""Where the CPU goes under the intake load: CPU time per POST of the gunicorn workers, the database
server's processes, wrk and everything else on the machine, for the form and for the floor.

A diagnostic beside intake_throughput.py, not a target: on a 2-CPU machine the intake is CPU-bound,
so requests per second is the two CPUs divided by what one POST costs in all of these together.

    .venv/bin/python bench/intake_cpu.py [--backends sqlite postgresql] [--seconds 10]

CPU times come from /proc (Linux only), read just before and just after a wrk run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from intake_throughput import ROOT, WORKERS, post_script, prepared, serve, wrk
from loopback import child_pids, free_port

TICK = os.sysconf("SC_CLK_TCK")
APPS = {"form": "app:app", "floor": "bench.floor_app:app"}


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds (user + system) so far."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(pid)] = (name, (int(fields[11]) + int(fields[12])) / TICK)
    return found


def busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (idle and iowait excluded)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def group(pid: int, name: str, workers: set[int]) -> str | None:
    if pid in workers:
        return "gunicorn workers"
    if name.startswith("postgres"):
        return "PostgreSQL"
    return "wrk" if name.startswith("wrk") else None  # counted in "everything else"


def measure(backend: str, app: str, seconds: int) -> tuple[float, dict[str, float]]:
    """Requests per second and CPU milliseconds per request, by group."""
    scratch = Path(tempfile.mkdtemp())
    env = prepared(backend, scratch)
    port = free_port()
    server = serve(app, env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        headers, script = post_script(base, scratch)
        wrk(base + "/request", 2, script, headers)  # warm up
        workers = set(child_pids(server.pid))
        rate = {}
        load = threading.Thread(target=lambda: rate.update(rps=wrk(base + "/request", seconds, script, headers)))
        before, busy_before = cpu_by_process(), busy_seconds()
        load.start()
        time.sleep(seconds - 0.5)  # inside the run: wrk's own start and end are not counted
        after, busy_after = cpu_by_process(), busy_seconds()
        load.join()
        requests = rate["rps"] * (seconds - 0.5)
        spent: dict[str, float] = {}
        for pid, (name, cpu) in after.items():
            used = cpu - before.get(pid, (name, 0.0))[1]
            key = group(pid, name, workers)
            if used > 0 and key:
                spent[key] = spent.get(key, 0.0) + used
        spent["everything else"] = max(0.0, (busy_after - busy_before) - sum(spent.values()))  # the kernel too
        spent["whole machine"] = busy_after - busy_before
        return rate["rps"], {key: used / requests * 1000 for key, used in spent.items()}
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    columns = ["gunicorn workers", "PostgreSQL", "wrk", "everything else", "whole machine"]
    lines = [
        f"Intake CPU per POST — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; gunicorn {WORKERS} sync workers, {args.seconds} s of wrk; "
        "milliseconds of CPU per request",
        "",
        "| backend | app | req/s | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for backend in args.backends:
        for name, app in APPS.items():
            rps, spent = measure(backend, app, args.seconds)
            cells = " | ".join(f"{spent[c]:.2f}" if c in spent else "–" for c in columns)
            lines.append(f"| {backend} | {name} | {rps:.0f} | {cells} |")
    report = "\n".join(lines) + "\n"
    print(report)
    (ROOT / "bench" / "results" / "intake_cpu.md").write_text(report)


if __name__ == "__main__":
    main()
