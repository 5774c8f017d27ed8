"""Loading the organisation profile from its YAML file."""

from __future__ import annotations

from pathlib import Path

from dsr.domain.clock import LegalClock
from dsr.domain.profile import OrganisationProfile, ProfileError, parse_profile
from dsr.yamlfile import YamlFileError, load_yaml


def load_profile(path: str | Path) -> OrganisationProfile:
    """Errors read `<file>:<line>: '<key>' <problem>` so an admin can go straight to the mistake."""
    try:
        document = load_yaml(path, "organisation profile")
    except YamlFileError as exc:
        raise ProfileError(str(exc)) from None
    return parse_profile(document.data, str(path), document.where)


def legal_clock(profile: OrganisationProfile) -> LegalClock:
    return LegalClock(profile.timezone)
