"""One-click unsubscribe (RFC 8058) from the organisation's marketing emails: no login, no questions.

The organisation's mail systems put two headers in each marketing email (`list_unsubscribe_headers`,
or `flask dsr unsubscribe-link`):

    List-Unsubscribe: <https://…/unsubscribe/TOKEN>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

A mail client's one-click POST to that address withdraws the consent at once. A person who opens
the link sees a page with a button: a GET never changes anything, since mail scanners fetch links.
The token is signed and carries the address encrypted, so the link neither reveals nor lets anyone
change whose consent it withdraws.
"""

from __future__ import annotations

import hashlib

from flask import current_app, render_template, request
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from dsr.domain.dataset import normalise_email
from dsr.encryption import InvalidToken, current_cipher
from dsr.extensions import csrf, db, limiter
from dsr.services import consent
from dsr.web.consent import consent_setup, propagate_now
from dsr.web.public.requester import ClockSigner, external_url
from dsr.web.public.views import bp, limit
from dsr.web.sessions import now, organisation

ONE_CLICK = "List-Unsubscribe=One-Click"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="dsr-unsubscribe", signer=ClockSigner)


def unsubscribe_token(email: str, topic: str, message_id: str | None = None) -> str:
    """Signed, with the address encrypted; `message_id` (the email's Message-ID) becomes the evidence."""
    if topic not in {t.key for t in organisation().consent_topics}:
        raise ValueError(f"{topic!r} is not a consent topic of the organisation profile.")
    payload = {"e": current_cipher().encrypt_text(normalise_email(email)), "t": topic}
    if message_id:
        payload["m"] = message_id[:180]
    return _serializer().dumps(payload)


def unsubscribe_url(email: str, topic: str = "marketing_email", message_id: str | None = None) -> str:
    """The absolute link (DSR_BASE_URL); works without a request context (mail systems, the CLI)."""
    return external_url("public.unsubscribe", token=unsubscribe_token(email, topic, message_id))


def list_unsubscribe_headers(email: str, topic: str = "marketing_email", message_id: str | None = None) -> dict:
    """The RFC 2369 / RFC 8058 headers for one marketing email to `email`."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(email, topic, message_id)}>", "List-Unsubscribe-Post": ONE_CLICK}


def read_unsubscribe_token(token: str) -> tuple[dict | None, str]:
    """(payload with the email decrypted, "") or (None, "expired" | "invalid")."""
    try:
        payload = _serializer().loads(token, max_age=current_app.config["DSR_UNSUBSCRIBE_LINK_DAYS"] * 86400)
        payload["e"] = current_cipher().decrypt_text(payload["e"])
    except SignatureExpired:
        return None, "expired"
    except (BadData, InvalidToken, KeyError, TypeError):
        return None, "invalid"
    topics = {t.key: t for t in organisation().consent_topics}
    if payload.get("t") not in topics:
        return None, "invalid"
    payload["topic"] = topics[payload["t"]]
    return payload, ""


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients POST without a session; the signed token is the authority
@limiter.limit(limit("DSR_UNSUBSCRIBE_RATE_LIMIT"))
def unsubscribe(token: str):
    found, problem = read_unsubscribe_token(token)
    if found is None:
        return render_template("public/unsubscribe.html", problem=problem), 410 if problem == "expired" else 400
    if request.method == "GET":
        return render_template("public/unsubscribe.html", topic=found["topic"], token=token, one_click=ONE_CLICK)
    evidence_ref = found.get("m") or "link:" + hashlib.sha256(token.encode()).hexdigest()[:40]
    evidence = {"message_id": found["m"]} if found.get("m") else {}
    for attempt in (1, 2):  # a simultaneous click may create the person first; the second try finds them
        try:
            consent.unsubscribe(db.session, now(), consent_setup(), found["e"], found["t"], evidence_ref, evidence)
            db.session.commit()
            break
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    propagate_now()
    return render_template("public/unsubscribe.html", topic=found["topic"], done=True)
