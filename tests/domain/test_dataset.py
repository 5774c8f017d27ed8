"""The dataset file: what an admin sees when it is right, and when it is wrong."""

from pathlib import Path

import pytest

from dsr.domain.dataset import DatasetError, Erasure, IdentityKind, SubjectIdentities, SystemKind, expand
from dsr.domain.errors import DomainError
from dsr.services.inventory import load_dataset
from dsr.services.organisation import load_profile

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
systems:
  shop:
    kind: sql
    name: Shop database
    url: ${SHOP_URL}
    tables:
      customers:
        identity: {email: email, customer_id: id}
        purpose: service
        fields:
          id: {category: identifier, erasure: retain, legal_basis: legal_obligation, retention: 8 years}
          email: {category: contact, erasure: hash}
          nickname: {category: identity, erasure: null}
        references:
          - {table: orders, join: {id: customer_id}}
      orders:
        purpose: billing
        erasure: delete_row
        fields:
          id: {category: identifier}
          customer_id: {category: identifier}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "systems.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path, environ: dict | None = None, purposes=None) -> list[str]:
    with pytest.raises(DatasetError) as raised:
        load_dataset(path, environ={"SHOP_URL": "sqlite://"} if environ is None else environ, purposes=purposes)
    return raised.value.problems


def test_a_valid_file_loads_with_defaults_from_the_table(tmp_path):
    dataset = load_dataset(write(tmp_path, VALID), environ={"SHOP_URL": "sqlite:///shop.db"})
    shop = dataset.system("shop")
    assert shop.kind is SystemKind.SQL
    assert shop.url == "${SHOP_URL}"  # secrets stay in the environment until a connector connects
    customers = shop.table("customers")
    assert dict(customers.identity) == {IdentityKind.EMAIL: "email", IdentityKind.CUSTOMER_ID: "id"}
    assert customers.field("nickname").erasure is Erasure.NULL  # YAML's null, written as `erasure: null`
    assert str(customers.field("id").retention) == "8 years"
    orders = shop.table("orders")
    assert {f.erasure for f in orders.fields} == {Erasure.DELETE_ROW}
    assert {f.purpose for f in orders.fields} == {"billing"}
    assert customers.references[0].join == (("id", "customer_id"),)


def test_several_mistakes_are_all_reported_with_file_line_and_key(tmp_path):
    text = (
        VALID.replace("erasure: hash", "erasure: erase")  # line 12
        .replace("category: identity", "category: personal")  # line 13
        .replace("identity: {email: email, customer_id: id}", "identity: {email: mail, customer_id: id}")  # line 8
        .replace("{table: orders, join: {id: customer_id}}", "{table: order, join: {id: customer_id}}")  # line 15
        .replace("retention: 8 years}", "retention: forever}")  # line 11
    )
    path = write(tmp_path, text)
    problems = problems_of(path)
    prefix = f"{path}:"
    assert problems == [
        f"{prefix}8: systems.shop.tables.customers.identity.email: 'mail' is not one of the table's fields.",
        f"{prefix}11: systems.shop.tables.customers.fields.id.retention: must be a period such as '30 days', "
        "'12 months' or '8 years' (got 'forever').",
        f"{prefix}12: systems.shop.tables.customers.fields.email.erasure: must be one of delete_row, null, hash, "
        "redact, retain (got 'erase').",
        f"{prefix}13: systems.shop.tables.customers.fields.nickname.category: must be one of identity, contact, "
        "identifier, professional, financial, communication, consent, usage, technical, location, other "
        "(got 'personal').",
        f"{prefix}15: systems.shop.tables.customers.references[0].table: names no table of this system ('order').",
        f"{prefix}16: systems.shop.tables.orders: can never be matched to a person: give it 'identity' columns or "
        "reference it from a table that has.",
    ]


@pytest.mark.parametrize(
    ("change", "line", "key", "problem"),
    [
        (("legal_basis: legal_obligation, ", ""), 11, "customers.fields.id.legal_basis", "is needed to retain data"),
        (("erasure: delete_row", "erasure: null"), 19, None, None),  # a valid change: no problem at all
        (("customer_id: {category: identifier}", "customer_id: {category: identifier, erasure: hash}"), 19,
         "orders.fields", "mixes delete_row with other erasure actions"),
        (("      orders:\n", "      orders:\n        primary_key: order_id\n"), 17, "orders.primary_key",
         "'order_id' is not one of the table's fields"),
        (("join: {id: customer_id}", "join: {id: buyer_id}"), 15, "customers.references[0].join",
         "'buyer_id' is not a field of orders"),
        (("nickname: {category: identity", "nickname: {category: identity, colour: red"), 13,
         "customers.fields.nickname.colour", "is not a known key here"),
    ],
)  # fmt: skip
def test_each_mistake_points_at_its_line(tmp_path, change, line, key, problem):
    path = write(tmp_path, VALID.replace(*change))
    if problem is None:
        load_dataset(path, environ={"SHOP_URL": "sqlite://"})
        return
    (found,) = problems_of(path)
    assert found.startswith(f"{path}:{line}: systems.shop.tables.{key}: {problem}")


def test_references_may_not_loop(tmp_path):
    text = VALID.replace(
        "          customer_id: {category: identifier}\n",
        "          customer_id: {category: identifier}\n        references:\n"
        "          - {table: customers, join: {customer_id: id}}\n",
    )
    (found,) = problems_of(write(tmp_path, text))
    assert "systems.shop.tables.customers.references: loop back to customers (customers → orders → customers)" in found


def test_secrets_come_from_the_environment(tmp_path):
    path = write(tmp_path, VALID)
    (missing,) = problems_of(path, environ={})
    assert missing == f"{path}:5: systems.shop.url: uses the environment variable SHOP_URL, which is not set."
    inline = write(tmp_path, VALID.replace("${SHOP_URL}", "postgresql://shop:s3cret@db/shop"))
    (password,) = problems_of(inline)
    assert "holds a password; write it as ${SOME_VARIABLE}" in password and "s3cret" not in password
    assert expand("${A}/x/${B:-fallback}", {"A": "a"}) == "a/x/fallback"
    with pytest.raises(DomainError, match="SHOP_URL is not set"):
        expand("${SHOP_URL}", {})


def test_manual_and_webhook_systems_are_checked(tmp_path):
    text = VALID + (
        "  sheet:\n    kind: manual\n    name: Sign-up sheet\n"
        "  payments:\n    kind: webhook\n    name: Payments\n    url: http://payments.example/dsr\n"
        "    secret: hunter2\n"
        "  other:\n    kind: ftp\n    name: Old server\n"
    )
    path = write(tmp_path, text)
    assert [p.split(": ", 2)[1:] for p in problems_of(path)] == [
        ["systems.sheet.instructions", "must be the text staff follow, or a mapping of request type (and 'default') "
         "to text."],
        ["systems.payments.url", "must be an https:// address (jobs carry personal data)."],
        ["systems.payments.secret", "must come from an environment variable, written as ${SOME_VARIABLE}."],
        ["systems.other.kind", "must be one of sql, manual, webhook (got 'ftp')."],
    ]  # fmt: skip


def test_purposes_must_be_the_profiles_when_given(tmp_path):
    problems = problems_of(write(tmp_path, VALID), purposes={"service"})
    assert [p.split(": ", 1)[1] for p in problems] == [
        f"systems.shop.tables.orders.fields.{name}.purpose: names no purpose of the organisation profile ('billing')."
        for name in ("id", "customer_id")
    ]


def test_broken_yaml_and_missing_files_are_clear(tmp_path):
    broken = write(tmp_path, "systems:\n  shop: {kind: sql\n")
    (found,) = problems_of(broken)
    assert found.startswith(f"{broken}:3: not valid YAML")
    (missing,) = problems_of(tmp_path / "nope.yaml")
    assert "cannot read the dataset file" in missing
    (empty,) = problems_of(write(tmp_path, ""))
    assert "(file): must be a mapping" in empty


def test_the_demo_dataset_matches_the_demo_profile():
    profile = load_profile(ROOT / "profiles" / "demo.yaml")
    dataset = load_dataset(ROOT / "datasets" / "demo.yaml", environ={}, purposes={p.key for p in profile.purposes})
    assert [s.kind for s in dataset.systems] == [SystemKind.SQL, SystemKind.MANUAL, SystemKind.WEBHOOK]
    crm = dataset.system("crm")
    assert {t.name for t in crm.tables} >= {
        "customers", "contacts", "call_logs", "support_tickets", "invoices", "marketing_consents", "usage_events"
    }  # fmt: skip
    invoices = crm.table("invoices")
    assert all(f.erasure is Erasure.RETAIN and f.legal_basis == "legal_obligation" for f in invoices.fields)
    assert "delete" in dataset.system("events_sheet").instructions_for("deletion")


def test_identities_are_normalised():
    ids = SubjectIdentities.of(email="  Asha.Verma@Example.COM ", phone="+91 98450-12345", customer_id=" AC-1 ")
    assert ids.items() == [
        (IdentityKind.EMAIL, "asha.verma@example.com"),
        (IdentityKind.PHONE, "919845012345"),
        (IdentityKind.CUSTOMER_ID, "AC-1"),
    ]
    assert SubjectIdentities.of(email=" ", phone="n/a").items() == []
