"""Example profiles modelled on the five seed privacy policies offer exactly the rights each promises."""

from pathlib import Path

import pytest

from dsr.domain.requests import Jurisdiction, RequestType
from dsr.services.organisation import load_profile

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
ALL = set(RequestType)

EXPECTED = {
    # 000: "You have the right to: Access your data; Correct or update your data; Withdraw consent (for
    # marketing); Request deletion of your data; Request a copy of your data" (the copy is access).
    "clotus-infotech.yaml": {"access", "correction", "deletion", "consent_withdrawal"},
    # 001: "You may update, correct, or delete your profile information … request details about your personal
    # data … obtain a copy of your data … withdraw consent … limit the processing … data portability … object".
    "clicentrix.yaml": ALL,
    # 002: "Right to Access … Rectification … Erasure … Restrict Processing … Data Portability … Object …
    # Withdraw Consent".
    "clustox.yaml": ALL,
    # 003: only "You can opt out of these at any time" (product news and marketing); team data is the Customer's.
    "clutto.yaml": {"consent_withdrawal"},
    # 004: "how … you can update, manage, export, and delete your information"; "export a copy of your data …
    # use it with a service outside of the Company"; offers "unless You have opted not to receive such information".
    "cloudfzs.yaml": {"access", "portability", "correction", "deletion", "consent_withdrawal"},
}


@pytest.mark.parametrize(("filename", "rights"), sorted(EXPECTED.items()))
def test_each_seed_profile_offers_exactly_the_rights_its_policy_promises(filename, rights):
    profile = load_profile(PROFILES / filename)
    assert {str(r) for r in profile.rights} == {str(r) for r in rights}
    assert profile.purposes and profile.recipients and profile.retention
    assert profile.contact_email.endswith(".example")  # trying an example out never mails a real company


def test_sms_and_whatsapp_opt_out_by_stop_where_the_policy_promises_it():
    # 000: "For WhatsApp or SMS communication, you may opt out by replying 'STOP'".
    topics = {t.key: t.stop_keyword for t in load_profile(PROFILES / "clotus-infotech.yaml").consent_topics}
    assert topics == {"marketing_email": "", "marketing_sms": "STOP", "marketing_whatsapp": "STOP"}


def test_jurisdictions_follow_each_policy():
    assert load_profile(PROFILES / "clustox.yaml").default_jurisdiction is Jurisdiction.EU_GDPR
    for indian in ("clotus-infotech.yaml", "clicentrix.yaml", "clutto.yaml", "cloudfzs.yaml"):
        assert load_profile(PROFILES / indian).default_jurisdiction is Jurisdiction.IN_DPDP


def test_clutto_keeps_everything_30_days_after_the_trial():
    (rule,) = load_profile(PROFILES / "clutto.yaml").retention
    assert rule.description == "30 days after the trial period ends"
