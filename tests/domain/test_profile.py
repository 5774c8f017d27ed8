from pathlib import Path

import pytest
import yaml

from dsr.domain.profile import ProfileError, parse_profile
from dsr.domain.requests import Jurisdiction, RequestType
from dsr.services.organisation import load_profile

DEMO = Path(__file__).resolve().parents[2] / "profiles" / "demo.yaml"


def demo_data() -> dict:
    return yaml.safe_load(DEMO.read_text())


def test_demo_profile_loads():
    profile = load_profile(DEMO)
    assert profile.name == "Acme CRM (demo)"
    assert profile.default_jurisdiction is Jurisdiction.IN_DPDP
    assert set(profile.rights) == set(RequestType)
    assert profile.grievance_officer.email == "grievance@acme-crm.example"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "'timezone' is not a known time zone"),
        ({"rights": ["access", "teleport"]}, "'rights' has an unknown value"),
        ({"rights": []}, "'rights' must be a non-empty list"),
        ({"jurisdictions": ["eu_gdpr"], "default_jurisdiction": "in_dpdp"}, "'default_jurisdiction' must be one of"),
        ({"name": ""}, "'name' must be a non-empty text value"),
        ({"dpo": {"name": "No Email"}}, "'dpo' must have a 'name' and an 'email'"),
    ],
)
def test_invalid_profiles_name_the_file_and_key(change, message):
    with pytest.raises(ProfileError, match=message) as raised:
        parse_profile({**demo_data(), **change}, "org.yaml")
    assert str(raised.value).startswith("org.yaml: ")


def test_unreadable_and_malformed_files_are_clear(tmp_path):
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ProfileError, match="must be a mapping"):
        load_profile(listing)


def test_demo_profile_declares_purposes_and_consent_topics():
    profile = load_profile(DEMO)
    assert {t.key for t in profile.consent_topics} >= {"marketing_email", "marketing_sms", "sale_sharing"}
    assert {p.legal_basis for p in profile.purposes} >= {"contract", "consent", "legal_obligation"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"purposes": [{"key": "x", "label": "X", "legal_basis": "vibes"}]},
            r"'purposes\[0\].legal_basis' must be one of",
        ),
        (
            {"consent_topics": [{"key": "t", "label": "T", "purpose": "nope"}]},
            r"'consent_topics\[0\].purpose' names no",
        ),
        ({"purposes": [{"key": "x", "label": "X"}]}, r"'purposes\[0\]' needs text values"),
    ],
)
def test_invalid_purposes_and_topics(change, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile({**demo_data(), **change}, "org.yaml")
