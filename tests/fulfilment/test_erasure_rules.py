"""What an erasure does to each table, decided from the dataset alone (no database)."""

import yaml

from dsr.domain.dataset import Erasure
from dsr.domain.dataset_parser import parse_dataset
from dsr.fulfilment.erasure_rules import Operation, children_first, erasure_rules

SHOP = """
systems:
  shop:
    kind: sql
    name: Shop
    url: sqlite:///shop.db
    tables:
      customers:
        identity: {email: email}
        purpose: service
        erasure: delete_row
        fields: {id: {category: identifier}, email: {category: contact}, name: {category: identity}}
        references:
          - {table: orders, join: {id: customer_id}}
          - {table: newsletter, join: {id: customer_id}}
          - {table: sessions, join: {email: email}}
      orders:
        purpose: billing
        erasure: delete_row
        fields: {id: {category: identifier}, customer_id: {category: identifier}, total: {category: financial}}
        references:
          - {table: order_lines, join: {id: order_id}}
      order_lines:
        purpose: billing
        erasure: retain
        legal_basis: legal_obligation
        retention: 8 years
        fields: {id: {category: identifier}, order_id: {category: identifier}, item: {category: financial}}
      newsletter:
        purpose: service
        fields:
          id: {category: identifier, erasure: redact}
          customer_id: {category: identifier, erasure: null}
          topic: {category: consent, erasure: retain, legal_basis: legal_obligation, retention: 3 years}
      sessions:
        purpose: service
        erasure: delete_row
        fields: {id: {category: identifier}, email: {category: contact}}
"""


def shop():
    return parse_dataset(yaml.safe_load(SHOP), "shop.yaml", purposes={"service", "billing"}).system("shop")


def test_tables_run_children_first():
    order = [t.name for t in children_first(shop())]
    assert order.index("order_lines") < order.index("orders") < order.index("customers")
    assert order.index("newsletter") < order.index("customers") and order.index("sessions") < order.index("customers")


def test_rows_that_retained_rows_refer_to_are_kept_all_the_way_up():
    rules, conflicts = erasure_rules(shop())
    by_name = {r.table.name: r for r in rules}
    orders, customers = by_name["orders"], by_name["customers"]
    assert orders.operation is Operation.DELETE_ROWS and [r.table for r in orders.kept_by] == ["order_lines"]
    assert {c.column: c.action for c in orders.kept_columns} == {
        "id": Erasure.RETAIN, "customer_id": Erasure.RETAIN, "total": Erasure.REDACT,
    }  # fmt: skip
    # Kept orders keep their customer; the newsletter row lets go (customer_id is nulled), sessions are deleted.
    assert [r.table for r in customers.kept_by] == ["orders"]
    assert {c.column: c.action for c in customers.kept_columns} == {
        "id": Erasure.RETAIN, "email": Erasure.REDACT, "name": Erasure.REDACT,
    }  # fmt: skip
    assert [(c.table, c.column) for c in conflicts] == [("orders", None), ("newsletter", "id"), ("customers", None)]


def test_a_primary_key_is_never_erased_and_the_conflict_says_why():
    rules, conflicts = erasure_rules(shop())
    newsletter = next(r for r in rules if r.table.name == "newsletter")
    assert newsletter.operation is Operation.UPDATE_ROWS
    assert [(c.column, c.action) for c in newsletter.columns] == [
        ("id", Erasure.RETAIN), ("customer_id", Erasure.NULL), ("topic", Erasure.RETAIN),
    ]  # fmt: skip
    assert "primary key" in next(c.message for c in conflicts if c.table == "newsletter")


def test_the_demo_dataset_deletes_children_updates_customers_and_keeps_invoices(demo_dataset):
    rules, conflicts = erasure_rules(demo_dataset.system("crm"))
    operations = {r.table.name: r.operation for r in rules}
    assert operations == {
        "contacts": Operation.DELETE_ROWS, "call_logs": Operation.DELETE_ROWS, "ticket_replies": Operation.DELETE_ROWS,
        "support_tickets": Operation.DELETE_ROWS, "invoices": Operation.KEEP_ROWS,
        "marketing_consents": Operation.UPDATE_ROWS, "usage_events": Operation.DELETE_ROWS,
        "customers": Operation.UPDATE_ROWS,
    }  # fmt: skip
    assert list(operations).index("ticket_replies") < list(operations).index("support_tickets")
    customers = rules[-1]
    assert [r.table for r in customers.kept_by] == ["invoices"]  # consents let go: their customer_id is nulled
    assert conflicts == ()
