"""The demo organisation's CRM: a separate SQLite database full of made-up people.

`create_demo_crm` writes it (deterministic for a seed); DEMO_PEOPLE are the well-known people that
the demo and the tests look up. datasets/demo.yaml describes these tables.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine

from dsr.sources import demo_crm_schema as schema
from dsr.sources.demo_people import (
    AGENTS,
    CALL_NOTES,
    CONSENT_TOPICS,
    EVENTS,
    REPLIES,
    TICKET_BODIES,
    TICKET_SUBJECTS,
    USER_AGENTS,
    FakePerson,
    fake_person,
)

DEFAULT_PATH = Path("instance") / "demo_crm.sqlite3"
EPOCH = datetime(2023, 1, 2, 9, 0)
CHILD_TABLES = (
    "contacts",
    "call_logs",
    "support_tickets",
    "ticket_replies",
    "invoices",
    "marketing_consents",
    "usage_events",
)


@dataclass(frozen=True)
class DemoPerson:
    """A made-up person with a fixed number of rows per table, for demos and tests."""

    full_name: str
    email: str  # as the person types it when asking for their data
    phone: str
    account_number: str | None  # None: not a customer (a newsletter sign-up only)
    rows: dict[str, int] = field(default_factory=dict)
    place: tuple[str, str] = ("Bengaluru", "IN")  # city, country
    stored_email: str = ""  # how the CRM holds it, when staff typed it differently

    def __post_init__(self) -> None:
        if not self.stored_email:
            object.__setattr__(self, "stored_email", self.email)


ASHA = DemoPerson(
    "Asha Verma",
    "asha.verma@example.com",
    "+91 98450 12345",
    "AC-100001",
    {"customers": 1, "contacts": 3, "call_logs": 12, "support_tickets": 5, "ticket_replies": 10,
     "invoices": 8, "marketing_consents": 4, "usage_events": 30},
)  # fmt: skip
TOMAS = DemoPerson(
    "Tomás Oliveira",
    "tomas.oliveira@example.net",
    "+55 11 91234 5678",
    "AC-100002",
    {"customers": 1, "contacts": 1, "call_logs": 2, "support_tickets": 1, "ticket_replies": 2,
     "invoices": 3, "marketing_consents": 1, "usage_events": 5},
    place=("São Paulo", "BR"),
)  # fmt: skip
CHLOE = DemoPerson(
    "Chloé Dubois",
    "chloe.dubois@example.org",
    "+33 6 12 34 56 78",
    "AC-100003",
    {"customers": 1, "contacts": 1, "call_logs": 1, "support_tickets": 0, "ticket_replies": 0,
     "invoices": 1, "marketing_consents": 2, "usage_events": 3},
    place=("Lyon", "FR"),
    stored_email="  Chloe.Dubois@Example.ORG ",
)  # fmt: skip
LENA = DemoPerson(
    "Lena Fischer", "lena.fischer@example.org", "+49 151 2345 6789", None, {"marketing_consents": 2}, ("Berlin", "DE")
)
DEMO_PEOPLE = (ASHA, TOMAS, CHLOE, LENA)


class _Rows:
    """Rows per table with explicit ids, so children can point at parents before anything is inserted."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tables: dict[str, list[dict]] = defaultdict(list)

    def add(self, table: str, **values: object) -> int:
        rows = self.tables[table]
        rows.append({"id": len(rows) + 1, **values})
        return len(rows)

    def moment(self, days: int = 600) -> datetime:
        return EPOCH + timedelta(days=self.rng.randrange(days), minutes=self.rng.randrange(24 * 60))

    def customer(self, person: FakePerson, account: str, counts: dict[str, int]) -> None:
        rng = self.rng
        customer_id = self.add(
            "customers", account_number=account, full_name=person.full_name, email=person.email,
            phone=person.phone, company=person.company, city=person.city, country=person.country,
            plan=rng.choice(("free", "starter", "business")), created_at=self.moment(),
        )  # fmt: skip
        for n in range(counts.get("contacts", 0)):
            label = ("Work", "Home", "Billing")[n % 3]
            self.add(
                "contacts", customer_id=customer_id, label=label, email=person.email if n == 0 else None,
                phone=person.phone, postal_address=person.street, is_primary=n == 0,
            )  # fmt: skip
        for _ in range(counts.get("call_logs", 0)):
            self.add(
                "call_logs", customer_id=customer_id, called_at=self.moment(),
                direction=rng.choice(("inbound", "outbound")), phone_number=person.phone,
                duration_seconds=rng.randrange(20, 1800), agent=rng.choice(AGENTS), notes=rng.choice(CALL_NOTES),
            )  # fmt: skip
        replies = counts.get("ticket_replies", 0)
        tickets = counts.get("support_tickets", 0)
        for n in range(tickets):
            opened = self.moment()
            ticket_id = self.add(
                "support_tickets", customer_id=customer_id, opened_at=opened, subject=rng.choice(TICKET_SUBJECTS),
                body=rng.choice(TICKET_BODIES), status=rng.choice(("open", "solved")),
                priority=rng.choice(("low", "normal")),
            )  # fmt: skip
            for r in range(replies // tickets + (1 if n < replies % tickets else 0)):
                author = person.full_name if r % 2 else rng.choice(AGENTS)
                self.add(
                    "ticket_replies", ticket_id=ticket_id, sent_at=opened + timedelta(hours=r + 1),
                    author=author, body=REPLIES[r % len(REPLIES)],
                )  # fmt: skip
        for _ in range(counts.get("invoices", 0)):
            number = len(self.tables["invoices"]) + 1
            self.add(
                "invoices", customer_id=customer_id, invoice_number=f"INV-{number:07d}", issued_at=self.moment(),
                amount=round(rng.uniform(9, 900), 2), currency=rng.choice(("INR", "EUR", "USD")),
                billing_name=person.full_name, billing_address=person.street, status=rng.choice(("paid", "due")),
            )  # fmt: skip
        self.consents(person, counts.get("marketing_consents", 0), customer_id)
        for _ in range(counts.get("usage_events", 0)):
            self.add(
                "usage_events", customer_id=customer_id, occurred_at=self.moment(), event=self.rng.choice(EVENTS),
                ip_address=f"203.0.113.{self.rng.randrange(1, 255)}", user_agent=self.rng.choice(USER_AGENTS),
            )  # fmt: skip

    def consents(self, person: FakePerson, count: int, customer_id: int | None) -> None:
        for n in range(count):
            channel, topic = CONSENT_TOPICS[n % len(CONSENT_TOPICS)]
            self.add(
                "marketing_consents", customer_id=customer_id,
                email=person.email if channel == "email" else None, phone=None if channel == "email" else person.phone,
                channel=channel, topic=topic, status=self.rng.choice(("granted", "granted", "withdrawn")),
                source=self.rng.choice(("signup form", "webinar", "trade show")), recorded_at=self.moment(),
            )  # fmt: skip


def _as_fake(person: DemoPerson, rng: random.Random) -> FakePerson:
    template = fake_person(rng, 0)
    city, country = person.place
    street = f"{template.street.split(',')[0]}, {city}"
    return FakePerson(person.full_name, person.stored_email, person.phone, city, country, template.company, street)


def create_demo_crm(path: str | Path = DEFAULT_PATH, people: int = 200, seed: int = 7) -> Path:
    """(Re)create the demo CRM at `path`: DEMO_PEOPLE plus `people` made-up customers; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    populate_demo_crm(f"sqlite:///{partial}", people, seed)
    partial.replace(path)
    return path


def populate_demo_crm(url: str, people: int = 200, seed: int = 7) -> None:
    """Drop and recreate the demo CRM tables in any database (SQLite, PostgreSQL, MariaDB) and fill them."""
    rng = random.Random(seed)  # noqa: S311 (made-up people, not secrets)
    rows = _Rows(rng)
    for person in DEMO_PEOPLE:
        if person.account_number:
            rows.customer(_as_fake(person, rng), person.account_number, person.rows)
        else:
            rows.consents(_as_fake(person, rng), person.rows["marketing_consents"], None)
    for number in range(1, people + 1):
        counts = {table: rng.randrange(0, 4) for table in CHILD_TABLES}
        counts["ticket_replies"] = counts["support_tickets"] * 2
        rows.customer(fake_person(rng, number), f"AC-{200000 + number}", counts)
    engine = create_engine(url)
    try:
        schema.metadata.drop_all(engine)
        schema.metadata.create_all(engine)
        with engine.begin() as connection:
            for table in schema.metadata.sorted_tables:
                if rows.tables[table.name]:
                    connection.execute(table.insert(), rows.tables[table.name])
    finally:
        engine.dispose()
