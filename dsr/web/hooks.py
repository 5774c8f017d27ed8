"""Signed callbacks from the organisation's webhook systems (no session, no CSRF: the HMAC is the proof).

A system answers the job DSR Desk sent it by POSTing JSON to the job's callback URL, signed with
the same secret and the same headers (X-DSR-Timestamp, X-DSR-Signature); anything unsigned,
stale or unknown gets a JSON error and changes nothing.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from dsr.extensions import csrf, db, limiter
from dsr.models import FulfilmentTask
from dsr.services.erasure import close_webhook_task
from dsr.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify, webhook_secret
from dsr.web.sessions import dataset, now

bp = Blueprint("hooks", __name__)


def refuse(status: int, reason: str):
    return jsonify(error="refused", reason=reason, status=status), status


@bp.route("/hooks/erasure/<job_ref>", methods=["POST"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["DSR_WEBHOOK_RATE_LIMIT"])
def erasure_callback(job_ref: str):
    task = db.session.scalar(select(FulfilmentTask).where(FulfilmentTask.external_ref == job_ref))
    system = next((s for s in dataset().systems if task is not None and s.key == task.system_key), None)
    if task is None or system is None or not system.secret:
        return refuse(404, "No erasure job is waiting for this callback.")
    body = request.get_data(cache=False)
    if not verify(
        webhook_secret(system),
        body,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        now(),
    ):
        return refuse(403, "The signature is missing, wrong or too old.")
    try:
        outcome = str(json.loads(body).get("status", "done"))
    except (ValueError, AttributeError):
        return refuse(400, "The body must be a JSON object.")
    close_webhook_task(db.session, now(), job_ref, outcome)
    db.session.commit()
    return jsonify(status="recorded")
