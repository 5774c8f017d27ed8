from datetime import UTC, date, datetime

from tests.factories import make_request
from tests.web.conftest import post_form

PATH = "/admin/rules/br_lgpd/*"


def test_rules_page_lists_every_jurisdiction(admin_client):
    html = admin_client.get("/admin/rules").get_data(as_text=True)
    for text in ("eu_gdpr", "uk_gdpr", "us_ca_ccpa", "in_dpdp", "br_lgpd", "45 days", "15 business days", "1 month"):
        assert text in html


def test_admin_edits_a_rule_and_new_requests_use_it(admin_client, session):
    response = post_form(
        admin_client,
        PATH,
        {
            "respond_within": "10 days",
            "extension": "",
            "acknowledge_within": "",
            "holiday_calendar": "BR",
            "reference": "LGPD Art. 19(II)",
            "notes": "Tightened by policy",
        },
    )
    assert response.headers["Location"] == "/admin/rules"
    request = make_request(session, datetime(2026, 3, 10, 12, tzinfo=UTC), jurisdiction="br_lgpd")
    assert request.due_on == date(2026, 3, 20)


def test_invalid_period_re_renders_with_the_input_kept(admin_client):
    page = post_form(
        admin_client,
        PATH,
        {
            "respond_within": "3 fortnights",
            "extension": "",
            "acknowledge_within": "",
            "holiday_calendar": "BR",
            "reference": "LGPD",
            "notes": "",
        },
    ).get_data(as_text=True)
    assert "is not a period like" in page
    assert 'value="3 fortnights"' in page


def test_unknown_rule_is_404(admin_client):
    assert admin_client.get("/admin/rules/mars/*").status_code == 404
