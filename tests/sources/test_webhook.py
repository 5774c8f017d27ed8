"""Signed webhook jobs and callbacks: a receiver can tell a genuine message from a forged or replayed one."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from dsr.domain.dataset import SubjectIdentities
from dsr.domain.requests import RequestType
from dsr.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, build_job, sign, signed_headers, verify

SECRET = b"shared-secret"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"job_id":"j1","rows":3}'


def test_a_signed_body_verifies():
    headers = signed_headers(SECRET, BODY, NOW)
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    assert verify(SECRET, BODY, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], NOW + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("signed_with", "received", "delay", "signature"),
    [
        (b"other-secret", BODY, timedelta(0), None),  # someone without the secret
        (SECRET, BODY.replace(b"3", b"4"), timedelta(0), None),  # altered in transit
        (SECRET, BODY, timedelta(minutes=6), None),  # replayed later
        (SECRET, BODY, -timedelta(minutes=6), None),  # from the future
        (SECRET, BODY, timedelta(0), "sha256=" + "0" * 64),  # made up
        (SECRET, BODY, timedelta(0), ""),  # missing
    ],
)
def test_forged_altered_or_replayed_messages_are_refused(signed_with, received, delay, signature):
    timestamp = int(NOW.timestamp())
    signature = sign(signed_with, BODY, timestamp) if signature is None else signature
    assert not verify(SECRET, received, str(timestamp), signature, NOW + delay)


def test_the_signature_covers_the_timestamp():
    timestamp = int(NOW.timestamp())
    signature = sign(SECRET, BODY, timestamp)
    assert not verify(SECRET, BODY, str(timestamp + 1), signature, NOW)
    assert not verify(SECRET, BODY, "soon", signature, NOW)


def test_a_job_for_the_demo_payment_processor(demo_dataset):
    system = demo_dataset.system("billing_partner")
    identities = SubjectIdentities.of(email="Asha.Verma@example.com", phone="+91 98450 12345")
    job = build_job(
        system, "job-7", "DSR-2025-0042", RequestType.DELETION, identities,
        "https://dsr.acme-crm.example/api/webhooks/job-7", NOW, environ={"DSR_DEMO_WEBHOOK_SECRET": "s3"},
    )  # fmt: skip
    assert job.url == "https://payments.acme-crm.example/dsr/jobs"
    payload = json.loads(job.body)
    assert payload["request"] == {"reference": "DSR-2025-0042", "type": "deletion"}
    assert payload["subject"] == {"email": "asha.verma@example.com", "phone": "919845012345"}
    assert payload["callback_url"].endswith("/job-7")
    assert verify(b"s3", job.body, job.headers[TIMESTAMP_HEADER], job.headers[SIGNATURE_HEADER], NOW)
    assert not verify(b"demo-webhook-secret-not-for-production", job.body, job.headers[TIMESTAMP_HEADER],
                      job.headers[SIGNATURE_HEADER], NOW)  # fmt: skip
