"""Bundle jobs end to end on the demo CRM: queue, build with progress, retry, resume, release, purge."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.encrypted_files import EncryptedFileError
from dsr.encryption import current_cipher
from dsr.fulfilment.bundle import open_bundle
from dsr.models import Bundle, FulfilmentJob, JobStatus, Role, TaskStatus
from dsr.services import fulfilment
from dsr.services.bundles import BundlePolicy, download_refusal, purge_bundles, record_download, release_for_completion
from dsr.services.requests import transition
from dsr.sources.demo_crm import DEMO_PEOPLE
from dsr.web.sessions import bundle_context
from tests.factories import make_request, make_user

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ASHA = DEMO_PEOPLE[0]
SYSTEM = Actor.system("tests")


@pytest.fixture
def context(app):
    with app.test_request_context():
        yield bundle_context()


def verified_request(session, email=ASHA.email, request_type=RequestType.ACCESS, phone=None):
    request = make_request(session, T0, request_type, email=email)
    request.requester_phone = phone
    request.add_factor(Factor.EMAIL)
    transition(session, SYSTEM, T0, request, Action.VERIFY)
    session.commit()
    return request


def build(session, request, context, now=T0):
    fulfilment.queue_bundle(session, SYSTEM, now, request, context.dataset)
    session.commit()
    job = fulfilment.claim_job(session, now)
    session.commit()
    bundle = fulfilment.run_bundle_job(session, lambda: now, job, context)
    session.commit()
    return job, bundle


def unzip(bundle: Bundle, context) -> zipfile.ZipFile:
    data = b"".join(open_bundle(context.directory / bundle.file_name, context.keys))
    return zipfile.ZipFile(io.BytesIO(data))


def test_bundle_holds_exactly_the_persons_rows_and_is_encrypted(session, context):
    job, bundle = build(session, verified_request(session), context)
    assert job.status is JobStatus.DONE and job.percent == 100 and job.total_rows == sum(ASHA.rows.values())
    raw = (context.directory / bundle.file_name).read_bytes()
    assert not raw.startswith(b"PK") and ASHA.email.encode() not in raw
    expected = {f"crm/{table}": n for table, n in ASHA.rows.items() if n}
    assert {k: v for k, v in bundle.row_counts.items() if v} == expected
    archive = unzip(bundle, context)
    data = json.loads(archive.read("data.json"))
    assert ASHA.email in json.dumps(data) and DEMO_PEOPLE[1].email not in json.dumps(data)
    assert {"index.html", "data.json", "manifest.json"} <= set(archive.namelist())


def test_email_only_identity_does_not_use_an_unverified_phone(session, context):
    request = verified_request(session, email="nobody@example.org", phone=ASHA.phone)
    assert fulfilment.identities_of(request).phone is None
    _, bundle = build(session, request, context)
    assert bundle.total_rows == 0
    archive = unzip(bundle, context)
    assert json.loads(archive.read("manifest.json"))["row_counts"]
    assert "We found no personal data about you" in archive.read("index.html").decode()


def test_queue_guards(session, context):
    objection = verified_request(session, request_type=RequestType.OBJECTION)
    with pytest.raises(DomainError, match="Only access and portability"):
        fulfilment.queue_bundle(session, SYSTEM, T0, objection, context.dataset)
    unverified = make_request(session, T0)
    with pytest.raises(DomainError, match="identity is verified"):
        fulfilment.queue_bundle(session, SYSTEM, T0, unverified, context.dataset)
    request = verified_request(session)
    fulfilment.queue_bundle(session, SYSTEM, T0, request, context.dataset)
    with pytest.raises(DomainError, match="already being built"):
        fulfilment.queue_bundle(session, SYSTEM, T0, request, context.dataset)
    tasks = fulfilment.tasks_of(session, request)
    assert tasks and all(t.status is TaskStatus.OPEN for t in tasks) and ASHA.email in tasks[0].instructions


def test_a_crashed_run_is_taken_over_after_its_lease(session, context):
    request = verified_request(session)
    fulfilment.queue_bundle(session, SYSTEM, T0, request, context.dataset)
    session.commit()
    first = fulfilment.claim_job(session, T0)
    session.commit()
    assert first is not None and fulfilment.claim_job(session, T0 + timedelta(minutes=1)) is None
    session.commit()
    again = fulfilment.claim_job(session, T0 + timedelta(minutes=6))  # the first worker died
    session.commit()
    assert again.id == first.id and again.attempts == 2
    bundle = fulfilment.run_bundle_job(session, lambda: T0, again, context)
    session.commit()
    assert bundle is not None and not list(context.directory.glob("*.partial"))


def test_failures_are_retried_then_given_up(session, context, tmp_path):
    broken = context.__class__(
        context.dataset,
        context.profile,
        context.keys,
        context.directory,
        {"DSR_DEMO_CRM_URL": f"sqlite:///{tmp_path}/missing/crm.sqlite3"},
    )
    request = verified_request(session)
    fulfilment.queue_bundle(session, SYSTEM, T0, request, context.dataset)
    session.commit()
    now = T0
    for attempt in range(1, 4):
        job = fulfilment.claim_job(session, now)
        session.commit()
        assert job is not None and job.attempts == attempt
        assert fulfilment.run_bundle_job(session, lambda moment=now: moment, job, broken) is None
        session.commit()
        now += timedelta(hours=1)
    job = session.get(FulfilmentJob, job.id)
    assert job.status is JobStatus.FAILED and "could not be built" in job.error and "sqlite" not in job.error
    assert session.scalars(select(Bundle)).all() == []


def test_release_needs_tasks_done_and_a_current_bundle(session, context):
    staff = make_user(session, "sam@acme-crm.example", Role.STAFF)
    request = verified_request(session)
    policy = BundlePolicy(days=7, max_downloads=2)
    build(session, request, context)
    with pytest.raises(DomainError, match="Confirm the manual task"):
        release_for_completion(session, SYSTEM, T0, request, policy)
    task = fulfilment.tasks_of(session, request)[0]
    fulfilment.complete_task(session, SYSTEM, T0 + timedelta(minutes=5), task, staff, "Found a row, exported it.")
    with pytest.raises(DomainError, match="still being built"):  # the rebuild with the finding is queued
        release_for_completion(session, SYSTEM, T0, request, policy)
    job = fulfilment.claim_job(session, T0 + timedelta(minutes=6))
    session.commit()
    bundle = fulfilment.run_bundle_job(session, lambda: T0 + timedelta(minutes=6), job, context)
    session.commit()
    assert "Found a row, exported it." in unzip(bundle, context).read("data.json").decode()
    released = release_for_completion(session, SYSTEM, T0 + timedelta(minutes=7), request, policy)
    assert released.id == bundle.id and released.expires_at == T0 + timedelta(days=7, minutes=7)


def test_downloads_are_limited_in_number_and_time(session, context):
    request = verified_request(session, request_type=RequestType.PORTABILITY)
    _, bundle = build(session, request, context)
    assert download_refusal(bundle, T0) == "There is no data file to download for this request."
    bundle.released_at, bundle.expires_at, bundle.max_downloads = T0, T0 + timedelta(days=7), 2
    record_download(session, SYSTEM, T0, bundle)
    record_download(session, SYSTEM, T0, bundle)
    with pytest.raises(DomainError, match="downloaded 2 times"):
        record_download(session, SYSTEM, T0, bundle)
    bundle.downloads = 0
    assert "download period has ended" in download_refusal(bundle, T0 + timedelta(days=7))
    assert "index.html" not in unzip(bundle, context).namelist()  # portability: machine-readable only


def test_purge_deletes_used_expired_superseded_and_abandoned_files(session, context):
    used_request = verified_request(session)
    _, used = build(session, used_request, context)
    used.released_at, used.expires_at, used.downloads = T0, T0 + timedelta(days=7), used.max_downloads
    rebuilt_request = verified_request(session, email=DEMO_PEOPLE[1].email)
    _, old = build(session, rebuilt_request, context)
    _, new = build(session, rebuilt_request, context, T0 + timedelta(minutes=1))
    abandoned_request = verified_request(session, email=DEMO_PEOPLE[2].email)
    _, abandoned = build(session, abandoned_request, context)
    transition(session, SYSTEM, T0, abandoned_request, Action.WITHDRAW)
    session.commit()
    assert purge_bundles(session, T0 + timedelta(hours=1), context.directory) == 3
    session.commit()
    files = {p.name for p in Path(context.directory).glob("*.bundle")}
    assert new.file_name in files and not {used.file_name, old.file_name, abandoned.file_name} & files
    assert old.purged_at is not None and new.purged_at is None


def test_tampered_bundle_is_refused(session, context):
    _, bundle = build(session, verified_request(session), context)
    path = context.directory / bundle.file_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(EncryptedFileError):
        b"".join(open_bundle(path, current_cipher().file_keys()))
