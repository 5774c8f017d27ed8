"""Consent and restriction columns in the dataset file: the shapes an admin may write, and the mistakes."""

from pathlib import Path

import pytest

from dsr.domain.dataset import DatasetError, FlagColumn
from dsr.services.inventory import load_dataset
from dsr.services.organisation import load_profile

ROOT = Path(__file__).resolve().parents[2]
TOPICS = {"marketing_email", "marketing_sms"}
PURPOSES = {"service", "marketing"}

SHOP = """\
systems:
  shop:
    kind: sql
    name: Shop database
    url: sqlite://
    tables:
      customers:
        identity: {email: email}
        purpose: service
        erasure: null
        fields:
          id: {category: identifier}
          email: {category: contact}
          news_opt_in: {category: consent, purpose: marketing, consent: marketing_email}
          channel: {category: consent, purpose: marketing}
          state:
            category: consent
            purpose: marketing
            consent:
              - {topic: marketing_sms, when: {channel: sms}, granted: yes-please, withdrawn: refused}
          no_marketing: {category: consent, purpose: marketing, restriction: marketing}
  partner:
    kind: webhook
    name: Partner
    url: https://partner.example/dsr
    secret: ${PARTNER_SECRET:-x}
    consent: [marketing_email]
    restriction: all
"""


def load(tmp_path, text: str = SHOP):
    path = tmp_path / "systems.yaml"
    path.write_text(text)
    return path, load_dataset(path, environ={}, purposes=PURPOSES, consent_topics=TOPICS)


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "systems.yaml"
    path.write_text(text)
    with pytest.raises(DatasetError) as raised:
        load_dataset(path, environ={}, purposes=PURPOSES, consent_topics=TOPICS)
    return [p.removeprefix(f"{path}:") for p in raised.value.problems]


def test_each_shape_of_consent_and_restriction_column_loads(tmp_path):
    _, dataset = load(tmp_path)
    customers = dataset.system("shop").table("customers")
    assert customers.flag_columns("consent", "marketing_email") == [("news_opt_in", FlagColumn("marketing_email"))]
    assert customers.flag_columns("consent", "marketing_sms") == [
        ("state", FlagColumn("marketing_sms", "yes-please", "refused", (("channel", "sms"),)))
    ]
    assert customers.flag_columns("restriction", "marketing") == [("no_marketing", FlagColumn("marketing"))]
    assert [s.key for s in dataset.systems_to_tell("consent", "marketing_email")] == ["shop", "partner"]
    assert [s.key for s in dataset.systems_to_tell("consent", "marketing_sms")] == ["shop"]  # not the partner's
    assert [s.key for s in dataset.systems_to_tell("restriction", "service")] == ["partner"]  # `all`


def test_a_file_without_these_keys_loads_as_before(tmp_path):
    _, dataset = load(tmp_path, SHOP.split("  partner:")[0].replace(", consent: marketing_email", ""))
    assert dataset.systems_to_tell("consent", "marketing_email") == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("consent: marketing_email", "consent: newsletter"),
         "14: systems.shop.tables.customers.fields.news_opt_in.consent: names no consent topic of the organisation "
         "profile ('newsletter')."),
        (("when: {channel: sms}", "when: {medium: sms}"),
         "19: systems.shop.tables.customers.fields.state.consent: 'when' names 'medium', not a field of the table."),
        (("withdrawn: refused}", "withdrawn: yes-please}"),
         "20: systems.shop.tables.customers.fields.state.consent[0]: 'granted' and 'withdrawn' must be different "
         "values."),
        (("restriction: marketing}", "restriction: {purpose: advertising}}"),
         "21: systems.shop.tables.customers.fields.no_marketing.restriction: names no purpose of the organisation "
         "profile ('advertising')."),
        (("restriction: all", "restriction: everything"),
         "28: systems.partner.restriction: must be a list of purpose keys, or all."),
        (("granted: yes-please", "granted: [a, b]"),
         "20: systems.shop.tables.customers.fields.state.consent[0].granted: must be a single text, number or "
         "true/false value."),
    ],
)  # fmt: skip
def test_mistakes_point_at_their_line(tmp_path, change, expected):
    assert problems(tmp_path, SHOP.replace(*change)) == [expected]


def test_the_demo_crm_declares_its_opt_in_column_for_each_marketing_channel():
    profile = load_profile(ROOT / "profiles" / "demo.yaml")
    dataset = load_dataset(
        ROOT / "datasets" / "demo.yaml",
        environ={},
        purposes={p.key for p in profile.purposes},
        consent_topics={t.key for t in profile.consent_topics},
    )
    consents = dataset.system("crm").table("marketing_consents")
    channels = {
        topic: dict(flag.when)["channel"]
        for topic in ("marketing_email", "marketing_sms", "marketing_whatsapp", "marketing_calls")
        for column, flag in consents.flag_columns("consent", topic)
        if column == "status" and (flag.on, flag.off) == ("granted", "withdrawn")
    }
    assert channels == {
        "marketing_email": "email",
        "marketing_sms": "sms",
        "marketing_whatsapp": "whatsapp",
        "marketing_calls": "phone",
    }
