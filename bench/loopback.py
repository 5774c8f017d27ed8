"""Servers the benchmarks start on 127.0.0.1: a free port, and waiting until one answers."""

from __future__ import annotations

import socket
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (a gunicorn master's workers), oldest first."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"


def fresh_postgres_database(name: str) -> str:
    """Drop and recreate a benchmark's own database on the local PostgreSQL; returns its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_SERVER.format("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return PG_SERVER.format(name)
