"""Tables of the demo CRM (a separate database, not the app's): what datasets/demo.yaml describes."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table, Text

metadata = MetaData()


def _customer_id(nullable: bool = False) -> Column:
    return Column("customer_id", Integer, ForeignKey("customers.id"), nullable=nullable, index=True)


customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_number", String(20), nullable=False, unique=True),
    Column("full_name", String(120), nullable=False),
    Column("email", String(254), nullable=False, index=True),
    Column("phone", String(32), index=True),
    Column("company", String(120)),
    Column("city", String(80)),
    Column("country", String(2)),
    Column("plan", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_id(),
    Column("label", String(20), nullable=False),
    Column("email", String(254), index=True),
    Column("phone", String(32), index=True),
    Column("postal_address", Text),
    Column("is_primary", Boolean, nullable=False),
)

call_logs = Table(
    "call_logs",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_id(),
    Column("called_at", DateTime, nullable=False),
    Column("direction", String(10), nullable=False),
    Column("phone_number", String(32)),
    Column("duration_seconds", Integer, nullable=False),
    Column("agent", String(80)),
    Column("notes", Text),
)

support_tickets = Table(
    "support_tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_id(),
    Column("opened_at", DateTime, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text),
    Column("status", String(20), nullable=False),
    Column("priority", String(10), nullable=False),
)

ticket_replies = Table(
    "ticket_replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("support_tickets.id"), nullable=False, index=True),
    Column("sent_at", DateTime, nullable=False),
    Column("author", String(80), nullable=False),
    Column("body", Text, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_id(),
    Column("invoice_number", String(20), nullable=False, unique=True),
    Column("issued_at", DateTime, nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("billing_name", String(120), nullable=False),
    Column("billing_address", Text),
    Column("status", String(10), nullable=False),
)

marketing_consents = Table(
    "marketing_consents",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_id(nullable=True),  # newsletter sign-ups need not be customers
    Column("email", String(254), index=True),
    Column("phone", String(32), index=True),
    Column("channel", String(12), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("source", String(40), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_id(),
    Column("occurred_at", DateTime, nullable=False),
    Column("event", String(40), nullable=False),
    Column("ip_address", String(45)),
    Column("user_agent", String(200)),
)
