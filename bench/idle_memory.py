"""Idle memory of one DSR Desk process, against TARGETS.md (≤ 120 MB; the peer: 371 MB).

Two shapes, each on a fresh migrated SQLite database with the demo organisation loaded:

- `flask dsr serve`: what `make run` starts, the web app with the scheduler inside the same process;
- one gunicorn sync worker (the production shape's web process; the master only forks).

Each process first serves every public page and the staff sign-in page a few times (so templates,
forms and the database pool are loaded, as on a live system), then sits idle for a few seconds; the
figure is its resident set size (VmRSS from /proc) after that, median of --repeat runs.

    .venv/bin/python bench/idle_memory.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from loopback import child_pids, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 120
PAGES = ["/", "/request", "/status", "/auth/login", "/healthz"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def exercise(port: int) -> int:
    served = 0
    for _ in range(5):
        for page in PAGES:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=20) as response:  # noqa: S310
                    response.read()
                    served += 1
            except urllib.error.HTTPError as error:  # a page this profile does not offer still costs its imports
                error.read()
    return served


def prepared_env(scratch: Path) -> dict:
    env = {
        **os.environ,
        "DSR_DATABASE_URL": f"sqlite:///{scratch}/dsr.sqlite3",
        "DSR_SECRET_KEY": "m" * 40,
        "DSR_BUNDLE_DIR": str(scratch / "bundles"),
        "DSR_DEMO_CRM_URL": f"sqlite:///{scratch}/demo_crm.sqlite3",
        "DSR_LOG_LEVEL": "WARNING",
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([*flask, "dsr", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    return env


def measure(shape: str, idle_seconds: float) -> float:
    scratch = Path(tempfile.mkdtemp())
    env = prepared_env(scratch)
    port = free_port()
    if shape == "serve":
        command = [sys.executable, "-m", "flask", "--app", "app", "dsr", "serve", "--port", str(port)]
    else:
        env = {**env, "DSR_ENV": "production", "DSR_SECURE_COOKIES": "false"}
        command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_for_port(port, shape)
        exercise(port)
        time.sleep(idle_seconds)
        if shape == "serve":
            return rss_mb(process.pid)
        return rss_mb(child_pids(process.pid)[0])
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=5)
    args = parser.parse_args()
    lines = [
        f"Idle memory — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; RSS after serving {len(PAGES)} pages 5 times and {args.idle_seconds:g} s "
        f"idle, median of {args.repeat}",
        "",
        "| process | RSS | target | peer (Fides 2.78.2) |",
        "|---|---|---|---|",
    ]
    shapes = (("serve", "`flask dsr serve` (web + scheduler, `make run`)"), ("gunicorn", "one gunicorn worker"))
    for shape, label in shapes:
        mb = statistics.median(measure(shape, args.idle_seconds) for _ in range(args.repeat))
        verdict = "meets" if mb <= TARGET_MB else "MISSES"
        lines.append(f"| {label} | {mb:.0f} MB | ≤ {TARGET_MB} MB ({verdict}) | 371 MB |")
    report = "\n".join(lines) + "\n"
    print(report)
    (ROOT / "bench" / "results" / "idle_memory.md").write_text(report)


if __name__ == "__main__":
    main()
