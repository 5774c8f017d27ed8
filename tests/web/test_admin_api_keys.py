"""Admin → API keys and Admin → Webhooks: a secret is shown once and stored only hashed or encrypted,
a revoked key stops working at once, and each subscriber's page shows what was sent to it."""

import re
from datetime import UTC, datetime

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.consent import ConsentSource
from dsr.domain.dataset import SubjectIdentities
from dsr.models import ApiKey, AuditEvent, WebhookSubscriber
from dsr.services.consent import record_consent, subject_for
from dsr.web.consent import consent_setup
from tests.web.api_support import bearer
from tests.web.conftest import post_form

SECRET_SHOWN = re.compile(r'<code class="secret" id="[^"]+">([^<]+)</code>')


def create_key(admin_client, name="Support desk", scopes=("requests:write", "requests:read")):
    response = post_form(admin_client, "/admin/api-keys", {"name": name, "scopes": list(scopes)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_admin_creates_a_key_that_is_shown_once_and_stored_hashed(admin_client, session):
    page = create_key(admin_client)
    secret = SECRET_SHOWN.search(page).group(1)
    assert "This is the only time it is shown" in page
    key = session.scalar(select(ApiKey))
    assert key.name == "Support desk" and {str(s) for s in key.scopes} == {"requests:write", "requests:read"}
    assert secret not in f"{key.secret_hash} {key.prefix} {key.scopes_granted}" and len(key.secret_hash) == 64
    assert secret.startswith(f"dsr_{key.prefix}_")
    listing = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert secret not in listing and key.shown_as in listing and "Ada Admin" in listing and "never" in listing
    assert admin_client.get("/api/v1/suppression?email=a@b.org", headers=bearer(secret)).status_code == 403
    created = session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.created"))
    assert created.actor_label == "Ada Admin" and secret not in str(created.details)


def test_a_key_needs_a_name_and_a_scope(admin_client, session):
    page = post_form(admin_client, "/admin/api-keys", {"name": ""}).get_data(as_text=True)
    assert "Name the system that will use the key." in page and "Choose at least one scope." in page
    assert session.scalar(select(ApiKey)) is None


def test_a_revoked_key_is_refused_from_then_on(admin_client, session):
    secret = SECRET_SHOWN.search(create_key(admin_client, scopes=("suppression:read",))).group(1)
    check = lambda: admin_client.get("/api/v1/suppression?email=a@b.org", headers=bearer(secret))  # noqa: E731
    assert check().status_code == 200
    key = session.scalar(select(ApiKey))
    response = post_form(admin_client, f"/admin/api-keys/{key.public_id}/revoke", {}, token_from="/admin/api-keys")
    assert response.status_code == 302
    page = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert "is revoked" in page and "revoked" in page and f"/admin/api-keys/{key.public_id}/revoke" not in page
    assert check().json["error"] == "revoked_key"


def add_subscriber(admin_client, **fields):
    data = {
        "name": "Marketing platform",
        "url": "https://marketing.example/hooks/dsr",
        "events": ["consent.changed"],
        "active": "y",
        "secret_choice": "generate",
        **fields,
    }
    return post_form(admin_client, "/admin/webhooks", data)


def test_a_subscriber_gets_a_generated_secret_shown_once_and_stored_encrypted(admin_client, session, app):
    response = add_subscriber(admin_client)
    assert response.status_code == 200
    secret = SECRET_SHOWN.search(response.get_data(as_text=True)).group(1)
    subscriber = session.scalar(select(WebhookSubscriber))
    assert secret.startswith("whsec_") and secret not in subscriber.secret_encrypted
    assert app.extensions["dsr_cipher"].decrypt_text(subscriber.secret_encrypted) == secret
    assert subscriber.events_wanted == "consent.changed" and subscriber.active and not subscriber.include_identifiers
    detail = admin_client.get(f"/admin/webhooks/{subscriber.public_id}").get_data(as_text=True)
    assert secret not in detail and "Nothing sent yet." in detail
    assert "Marketing platform" in admin_client.get("/admin/webhooks").get_data(as_text=True)


def test_an_admin_may_set_the_secret_and_must_then_give_one(admin_client, session):
    short = add_subscriber(admin_client, secret_choice="set", secret="").get_data(as_text=True)
    assert "Paste the secret, or choose to generate one." in short
    response = add_subscriber(admin_client, secret_choice="set", secret="their-own-secret-123", include_identifiers="y")
    subscriber = session.scalar(select(WebhookSubscriber))
    assert response.headers["Location"] == f"/admin/webhooks/{subscriber.public_id}"
    assert subscriber.include_identifiers


def test_the_delivery_log_shows_each_event_sent_to_the_subscriber(admin_client, session, clock):
    add_subscriber(admin_client)
    subscriber = session.scalar(select(WebhookSubscriber))
    setup, now = consent_setup(), datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    person = subject_for(session, Actor.system("tests"), now, setup, SubjectIdentities.of(email="ada@example.org"))
    record_consent(session, Actor.system("tests"), now, setup, person, "marketing_email", False, ConsentSource.API)
    session.commit()
    page = admin_client.get(f"/admin/webhooks/{subscriber.public_id}").get_data(as_text=True)
    assert "consent.changed" in page and "pending" in page and "/admin/outbox/" in page


def test_settings_are_changed_and_a_secret_replaced(admin_client, session):
    add_subscriber(admin_client)
    subscriber = session.scalar(select(WebhookSubscriber))
    path = f"/admin/webhooks/{subscriber.public_id}"
    changes = {"name": "Marketing", "url": "https://m.example/h", "events": ["request.status_changed"]}
    post_form(admin_client, path, changes)
    session.expire_all()
    changed = session.get(WebhookSubscriber, subscriber.id)
    assert (changed.name, changed.url, changed.events_wanted, changed.active) == (
        "Marketing", "https://m.example/h", "request.status_changed", False
    )  # fmt: skip
    before = changed.secret_encrypted
    page = post_form(admin_client, f"{path}/secret", {"secret_choice": "generate"}, token_from=path)
    assert SECRET_SHOWN.search(page.get_data(as_text=True))
    session.expire_all()
    assert session.get(WebhookSubscriber, subscriber.id).secret_encrypted != before
