"""A big demo CRM for benchmarks: ONE person with N child rows among many other customers.

The shape of TARGETS.md: half the person's rows are invoices, a quarter call logs, a quarter support
tickets; every other customer has a few rows of each. Works on SQLite (executemany) and PostgreSQL
(COPY) and MariaDB, in chunks, so even a million rows never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import Engine, create_engine, text

from dsr.sources import demo_crm_schema as schema
from dsr.sources.demo_people import AGENTS, CALL_NOTES, TICKET_BODIES, TICKET_SUBJECTS

CHUNK = 50_000
START = datetime(2020, 1, 1, 8, 0)


@dataclass(frozen=True)
class BulkSubject:
    email: str
    phone: str
    account_number: str
    counts: dict[str, int]  # table → the person's rows


SUBJECT = ("Bina Kulkarni", "bina.kulkarni@example.com", "+91 99000 00001", "AC-000001")


def _moment(n: int) -> str:
    return f"{START + timedelta(minutes=7 * n):%Y-%m-%d %H:%M:%S}"


def _customers(others: int) -> Iterator[tuple]:
    name, email, phone, account = SUBJECT
    yield (1, account, name, email, phone, "Kite Logistics", "Pune", "IN", "business", _moment(0))
    for n in range(2, others + 2):
        yield (n, f"AC-{n:06d}", f"Customer {n}", f"customer.{n}@example.net", f"+91 80{n:08d}",
               "Nimbus Traders", "Mumbai", "IN", "starter", _moment(n))  # fmt: skip


def _owners(subject_rows: int, others: int, per_other: int) -> Iterator[int]:
    """customer_id of each row: the person's rows first, then `per_other` for every other customer."""
    yield from (1 for _ in range(subject_rows))
    for customer in range(2, others + 2):
        yield from (customer for _ in range(per_other))


def _invoices(owners: Iterable[int]) -> Iterator[tuple]:
    for n, customer in enumerate(owners, start=1):
        amount = f"{(n * 37) % 90000 / 100 + 9:.2f}"
        yield (n, customer, f"INV-{n:08d}", _moment(n), amount, "INR", f"Customer {customer}",
               "12 MG Road, Pune", "paid" if n % 5 else "due")  # fmt: skip


def _calls(owners: Iterable[int]) -> Iterator[tuple]:
    for n, customer in enumerate(owners, start=1):
        yield (n, customer, _moment(n), "inbound" if n % 2 else "outbound", f"+91 80{customer:08d}",
               30 + n % 1700, AGENTS[n % len(AGENTS)], CALL_NOTES[n % len(CALL_NOTES)])  # fmt: skip


def _tickets(owners: Iterable[int]) -> Iterator[tuple]:
    for n, customer in enumerate(owners, start=1):
        yield (n, customer, _moment(n), TICKET_SUBJECTS[n % len(TICKET_SUBJECTS)],
               TICKET_BODIES[n % len(TICKET_BODIES)], "solved" if n % 3 else "open", "normal")  # fmt: skip


def _load(engine: Engine, table: str, rows: Iterable[tuple]) -> None:
    columns = [c.name for c in schema.metadata.tables[table].columns]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        iterator = iter(rows)
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in iterator:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" if engine.dialect.paramstyle == "qmark" else "%s" for _ in columns)
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (our own names)
            while chunk := list(islice(iterator, CHUNK)):
                cursor.executemany(statement, chunk)
        raw.commit()
    finally:
        raw.close()


def create_bulk_crm(url: str, child_rows: int, other_customers: int = 10_000, per_other: int = 1) -> BulkSubject:
    """Drop and recreate the demo CRM tables at `url`, holding one person with `child_rows` rows."""
    invoices = child_rows // 2
    calls = child_rows // 4
    tickets = child_rows - invoices - calls
    engine = create_engine(url)
    try:
        schema.metadata.drop_all(engine)
        schema.metadata.create_all(engine)
        _load(engine, "customers", _customers(other_customers))
        _load(engine, "invoices", _invoices(_owners(invoices, other_customers, per_other)))
        _load(engine, "call_logs", _calls(_owners(calls, other_customers, per_other)))
        _load(engine, "support_tickets", _tickets(_owners(tickets, other_customers, per_other)))
        with engine.begin() as connection:  # fresh statistics, so the planner sees the skew
            is_mysql = engine.dialect.name in ("mysql", "mariadb")
            connection.execute(
                text("ANALYZE TABLE customers, invoices, call_logs, support_tickets" if is_mysql else "ANALYZE")
            )
    finally:
        engine.dispose()
    counts = {"customers": 1, "invoices": invoices, "call_logs": calls, "support_tickets": tickets}
    return BulkSubject(SUBJECT[1], SUBJECT[2], SUBJECT[3], counts)
