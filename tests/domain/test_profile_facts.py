"""The Art. 15 parts of the organisation profile, and profile errors that point at a line."""

from pathlib import Path

import pytest

from dsr.domain.profile import ProfileError
from dsr.domain.requests import Jurisdiction
from dsr.services.organisation import load_profile

DEMO = Path(__file__).resolve().parents[2] / "profiles" / "demo.yaml"


def test_demo_profile_declares_recipients_retention_sources_and_authorities():
    profile = load_profile(DEMO)
    payments = next(r for r in profile.recipients if r.key == "payments")
    assert payments.purposes == ("billing",) and payments.location == "India"
    invoices = next(r for r in profile.retention if r.key == "invoices")
    assert invoices.description.startswith("8 years after the end of the financial year")
    assert profile.sources and all(s.label for s in profile.sources)
    by_jurisdiction = {j: a.name for a in profile.supervisory_authorities for j in a.jurisdictions}
    assert by_jurisdiction[Jurisdiction.UK_GDPR] == "Information Commissioner's Office"
    assert set(by_jurisdiction) == set(profile.jurisdictions) - {Jurisdiction.DEFAULT}


def profile_with(tmp_path: Path, old: str, new: str) -> Path:
    text = DEMO.read_text()
    assert old in text
    path = tmp_path / "org.yaml"
    path.write_text(text.replace(old, new))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("timezone: Asia/Kolkata", "timezone: Mars/Olympus", "timezone:", "'timezone' is not a known time zone"),
        ("period: 13 months", "period: a while", "a while", "'retention[3].period' must be a period such as"),
        ("label: Webinar and event registrations}", "label: Webinars, events}", "Webinars, events",
         "'sources[2]' has unknown keys (events); quote labels that contain commas."),
        ("purposes: [billing], location: India}", "purposes: [invoicing], location: India}", "[invoicing]",
         "'recipients[1].purposes' must list keys from 'purposes'."),
        ("purpose: marketing, stop_keyword: STOP}\n  - {key: marketing_whatsapp",
         "purpose: marketing, stop_keyword: stop please}\n  - {key: marketing_whatsapp",
         "stop please", "'consent_topics[1].stop_keyword' must be one word in capitals"),
    ],
)  # fmt: skip
def test_profile_errors_name_the_file_line_and_key(tmp_path, old, new, needle, message):
    path = profile_with(tmp_path, old, new)
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    assert str(raised.value).startswith(f"{path}:{line_of(path, needle)}: {message}")


def test_a_retention_rule_needs_a_period_or_criteria(tmp_path):
    path = profile_with(tmp_path, "period: 2 years, after: the ticket is closed or the call ends", "after: closing")
    with pytest.raises(ProfileError, match=r"'retention\[2\]' needs a 'period' \(with 'after'\) or the 'criteria'"):
        load_profile(path)


def test_stop_keywords_are_kept():
    topics = {t.key: t for t in load_profile(DEMO.parent / "clotus-infotech.yaml").consent_topics}
    assert topics["marketing_sms"].stop_keyword == "STOP"
    assert topics["marketing_email"].stop_keyword == ""
