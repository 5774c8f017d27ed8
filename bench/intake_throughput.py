"""Intake throughput: requests per second for the request-form POST under gunicorn, as a ratio to a
bare Flask endpoint measured in the same run, on SQLite and PostgreSQL. Load comes from wrk.

A second baseline, measured in the same run, is the floor (`floor_app.py`): a CSRF-checked form that
commits one row to the same database. No intake can be faster than it, so its own ratio to the bare
endpoint bounds what the form's ratio can reach, and the form's ratio to it is DSR Desk's overhead.

    .venv/bin/python bench/intake_throughput.py [--backends sqlite postgresql] [--seconds 10] [--repeat 5]

Each POST is the real thing: CSRF check, form validation, the request row, its deadline, the audit
event, a verification challenge and an encrypted outbox message, committed. Rate limits are off.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from loopback import free_port, fresh_postgres_database, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 4  # two per core on this 2-CPU machine
TARGET_RPS, TARGET_RATIO = 300, 0.30


# wrk: POST the form with the session cookie and CSRF token fetched above, a new requester each time.
LUA = """
local counter = 0
request = function()
  counter = counter + 1
  local body = string.gsub([[BODY]], "EMAIL", "p" .. counter .. "x" .. math.random(1, 1000000) .. "%%40example.org")
  return wrk.format("POST", "/request", nil, body)
end
"""


def serve(app: str, env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, app, seconds=15)
    return process


def wrk(url: str, seconds: int, script: Path, headers: dict) -> float:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def form_session(base: str) -> tuple[str, str]:
    """A session cookie and its CSRF token, as a browser would have after opening the form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/request", timeout=20).read().decode()  # noqa: S310
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token


def database(backend: str, scratch: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{scratch}/intake.sqlite3"
    return fresh_postgres_database("dsr_intake_bench")


def prepared(backend: str, scratch: Path) -> dict[str, str]:
    """The servers' environment, with the database on `backend` migrated and the floor's table made."""
    env = {
        **os.environ,
        "DSR_ENV": "production",
        "DSR_SECRET_KEY": "b" * 40,
        "DSR_DATABASE_URL": database(backend, scratch),
        "DSR_SECURE_COOKIES": "false",
        "DSR_RATELIMIT_ENABLED": "false",
        "DSR_BUNDLE_DIR": str(scratch),
        "DSR_LOG_LEVEL": "WARNING",
    }
    upgrade = [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"]
    subprocess.run(upgrade, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    floor_table = [sys.executable, "-c", "import floor_app; floor_app.create_table()"]
    subprocess.run(floor_table, cwd=ROOT / "bench", env=env, check=True, capture_output=True)  # noqa: S603
    return env


def measure(backend: str, seconds: int) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp())
    env = prepared(backend, scratch)
    ports = {"intake": free_port(), "bare": free_port(), "floor": free_port()}
    apps = {"intake": "app:app", "bare": "bench.bare_app:app", "floor": "bench.floor_app:app"}
    servers = [serve(apps[name], env, port) for name, port in ports.items()]
    try:
        figures = {}
        for name, port in ports.items():
            base = f"http://127.0.0.1:{port}"
            # Its own session and CSRF token (the bare endpoint ignores them and is sent the intake's).
            headers, script = post_script(base if name != "bare" else f"http://127.0.0.1:{ports['intake']}", scratch)
            if name == "intake":
                wrk(base + "/request", 2, script, headers)  # warm up
            figures[name] = wrk(base + "/request", seconds, script, headers)  # the same POSTs to each
        return figures
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)


def post_script(base: str, scratch: Path) -> tuple[dict, Path]:
    """wrk's headers and Lua script: the form POST with this server's session cookie and CSRF token."""
    cookie, token = form_session(base)
    body = urllib.parse.urlencode(
        {
            "csrf_token": token,
            "request_type": "objection",
            "purposes": "marketing",
            "jurisdiction": "eu_gdpr",
            "name": "Bench Person",
            "email": "EMAIL",
            "privacy_ack": "y",
        }
    )
    script = Path(tempfile.mkstemp(suffix=".lua", dir=scratch)[1])
    script.write_text(LUA.replace("BODY", body))
    return {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)  # runs of the same code differ by up to a third here
    args = parser.parse_args()
    lines = [
        f"Intake throughput — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; gunicorn {WORKERS} sync workers, wrk 2 threads × 16 connections, "
        f"{args.seconds} s, median of {args.repeat} (the form's slowest and fastest run in brackets)",
        "",
        "| backend | form POST req/s | target | bare Flask req/s | ratio | target ratio "
        "| floor req/s | floor's ratio to bare | form's ratio to floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for backend in args.backends:
        runs = [measure(backend, args.seconds) for _ in range(args.repeat)]

        def median(figure, runs=runs):
            return statistics.median(figure(r) for r in runs)

        intake, bare, floor = median(lambda r: r["intake"]), median(lambda r: r["bare"]), median(lambda r: r["floor"])
        ratio = median(lambda r: r["intake"] / r["bare"])
        spread = f"{min(r['intake'] for r in runs):.0f}–{max(r['intake'] for r in runs):.0f}"
        lines.append(
            f"| {backend} | {intake:.0f} ({spread}) | ≥ {TARGET_RPS} ({'meets' if intake >= TARGET_RPS else 'MISSES'}) "
            f"| {bare:.0f} | {ratio:.2f} | ≥ {TARGET_RATIO} ({'meets' if ratio >= TARGET_RATIO else 'MISSES'}) "
            f"| {floor:.0f} | {median(lambda r: r['floor'] / r['bare']):.2f} "
            f"| {median(lambda r: r['intake'] / r['floor']):.2f} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    (ROOT / "bench" / "results" / "intake_throughput.md").write_text(report)


if __name__ == "__main__":
    main()
