"""How a requester without an account reaches their request: signed tokens and a session grant.

A verify-page token ties the browser that filed the request to its verification page. A status
link (emailed on demand) grants this browser access to the status page for a while; the token
itself is swapped for a session grant at once so it does not linger in the address bar.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app, session
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from dsr.domain.verification import ChallengeRules
from dsr.extensions import db
from dsr.models import DataSubjectRequest
from dsr.notify.links import Links
from dsr.services import letters
from dsr.services.verification import VerificationSettings
from dsr.web.sessions import clock, now, organisation

GRANTS = "requester_grants"


class ClockSigner(TimestampSigner):
    """Signs and checks token ages against the app's clock (which tests can move)."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"dsr-{purpose}", signer=ClockSigner)


def verify_page_token(request: DataSubjectRequest) -> str:
    return _serializer("verify-page").dumps(request.reference)


def read_verify_page_token(token: str) -> str | None:
    days = current_app.config["DSR_VERIFICATION_WINDOW_DAYS"]
    try:
        return _serializer("verify-page").loads(token, max_age=days * 86400)
    except BadData:
        return None


def status_token(request: DataSubjectRequest) -> str:
    return _serializer("status-link").dumps(request.reference)


def read_status_token(token: str) -> str | None:
    days = current_app.config["DSR_STATUS_LINK_DAYS"]
    try:
        return _serializer("status-link").loads(token, max_age=days * 86400)
    except BadData:
        return None


def grant(reference: str) -> None:
    hours = current_app.config["DSR_STATUS_SESSION_HOURS"]
    moment = now().timestamp()
    grants = {ref: until for ref, until in session.get(GRANTS, {}).items() if until > moment}
    grants[reference] = moment + hours * 3600
    session[GRANTS] = grants


def has_grant(reference: str) -> bool:
    return session.get(GRANTS, {}).get(reference, 0) > now().timestamp()


def external_url(endpoint: str, **values) -> str:
    """Links in emails use the configured base URL, never the Host header a client sent; built from the
    URL map alone, so the CLI and scheduled jobs (no request) make the same links as a page does."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["DSR_BASE_URL"].rstrip("/") + path


def links() -> Links:
    return Links(
        verify_link=lambda token: external_url("public.confirm_link", token=token),
        status_link=lambda request: external_url("public.open_status", token=status_token(request)),
    )


def drafts() -> letters.Drafter:
    """Letter templates filled in with this organisation's details."""
    return lambda key, request: letters.draft(db.session, key, request, organisation(), clock())


def verification_settings() -> VerificationSettings:
    config = current_app.config
    pepper = hmac.new(config["SECRET_KEY"].encode(), b"dsr-verification-codes", hashlib.sha256).digest()
    return VerificationSettings(
        pepper=pepper,
        rules=ChallengeRules(
            code_ttl=timedelta(minutes=config["DSR_CODE_TTL_MINUTES"]),
            link_ttl=timedelta(hours=config["DSR_LINK_TTL_HOURS"]),
            max_attempts=config["DSR_CODE_MAX_ATTEMPTS"],
            resend_cooldown=timedelta(seconds=config["DSR_RESEND_COOLDOWN_SECONDS"]),
            max_sends_per_hour=config["DSR_MAX_CODES_PER_HOUR"],
        ),
    )


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def mask_phone(phone: str | None) -> str:
    return f"•••{phone[-3:]}" if phone else ""
