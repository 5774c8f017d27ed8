"""Each example profile, loaded as the organisation's profile, offers exactly its rights on the intake form."""

import re

import pytest

from dsr import create_app
from tests.domain.test_seed_profiles import ALL, EXPECTED, PROFILES

# demo.yaml is the organisation that ships with the app: it offers every right.
EXPECTED_RIGHTS = {**EXPECTED, "demo.yaml": ALL}


def test_every_example_profile_has_an_expectation():
    assert {path.name for path in PROFILES.glob("*.yaml")} == set(EXPECTED_RIGHTS)


@pytest.mark.parametrize(("filename", "rights"), sorted(EXPECTED_RIGHTS.items()))
def test_the_intake_form_offers_exactly_the_profiles_rights(app, database, filename, rights):
    profile_app = create_app(
        "test",
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "DSR_PROFILE": str(PROFILES / filename)},
    )
    response = profile_app.test_client().get("/request")
    assert response.status_code == 200
    offered = re.findall(r'<input[^>]*name="request_type"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert sorted(offered) == sorted(str(right) for right in rights)
