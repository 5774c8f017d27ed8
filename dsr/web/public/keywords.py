"""Inbound texts from the SMS / WhatsApp provider: a reply such as "STOP" withdraws consent for that number.

The provider POSTs JSON, signed like every DSR Desk webhook (dsr.sources.webhook) with
DSR_SMS_WEBHOOK_SECRET:

    X-DSR-Timestamp: <unix seconds>
    X-DSR-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    {"from": "+919845012345", "body": "STOP", "message_id": "SM123", "channel": "sms"}

A signature that does not match, or a timestamp outside DSR_SMS_WEBHOOK_TOLERANCE_SECONDS, is refused
with 403. A message the provider sends twice (same message_id, or the same signed request) is
recorded once; a text that is no stop keyword is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from flask import current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from dsr.extensions import csrf, db, limiter
from dsr.services import consent
from dsr.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from dsr.web.consent import consent_setup, propagate_now
from dsr.web.public.views import bp, limit
from dsr.web.sessions import now


def refuse(status: int, reason: str):
    return jsonify(error="refused", reason=reason, status=status), status


def signature_problem(body: bytes) -> str | None:
    secret = current_app.config.get("DSR_SMS_WEBHOOK_SECRET")
    stamp, signature = request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
    tolerance = timedelta(seconds=current_app.config["DSR_SMS_WEBHOOK_TOLERANCE_SECONDS"])
    if not stamp or not signature:
        return f"The {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required."
    if not stamp.isdigit() or abs(now().timestamp() - int(stamp)) > tolerance.total_seconds():
        return f"The timestamp is more than {int(tolerance.total_seconds())} seconds away from our clock."
    if not verify(secret.encode(), body, stamp, signature, now(), tolerance):
        return "The signature does not match the body (check the shared secret)."
    return None


def text_message(body: object) -> tuple[str, str, str | None, str] | None:
    """(sender, text, provider message id, channel) from the JSON body, or None when it is not one."""
    if not isinstance(body, dict):
        return None
    sender, text, message_id, channel = (body.get(k) for k in ("from", "body", "message_id", "channel"))
    if not isinstance(sender, str) or not isinstance(text, str) or not sender.strip():
        return None
    message_id = message_id[:180] if isinstance(message_id, str) and message_id else None
    return sender, text, message_id, channel[:20] if isinstance(channel, str) and channel else "sms"


@bp.route("/api/hooks/sms-keyword", methods=["POST"])
@csrf.exempt  # a provider's server-to-server call; the HMAC signature is its authority
@limiter.limit(limit("DSR_SMS_WEBHOOK_RATE_LIMIT"))
def sms_keyword():
    if not current_app.config.get("DSR_SMS_WEBHOOK_SECRET"):
        return refuse(503, "Inbound text messages are not set up here (DSR_SMS_WEBHOOK_SECRET is not set).")
    raw = request.get_data()
    problem = signature_problem(raw)
    if problem:
        return refuse(403, problem)
    message = text_message(request.get_json(silent=True))
    if message is None:
        return refuse(400, 'The body must be JSON with "from" (the phone number) and "body" (the text).')
    sender, text, message_id, channel = message
    evidence_ref = f"sms:{message_id}" if message_id else "sig:" + hashlib.sha256(raw).hexdigest()[:40]
    sent_at = datetime.fromtimestamp(int(request.headers[TIMESTAMP_HEADER]), UTC)
    evidence = {"message_id": message_id, "channel": channel}
    try:
        topics = consent.stop_by_keyword(
            db.session, now(), consent_setup(), sender, text, evidence_ref, sent_at, evidence
        )
        db.session.commit()
    except IntegrityError:  # the same message, delivered twice at once: the other delivery recorded it
        db.session.rollback()
        return jsonify(status="recorded", topics=[])
    propagate_now()
    return jsonify(status="recorded" if topics else "ignored", topics=topics)
