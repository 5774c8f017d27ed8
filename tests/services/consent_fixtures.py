"""Shared by the consent tests: a fresh demo CRM whose marketing consents all start granted, the setup
the consent services take, and a way to file a request as the form does."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.requests import RequestType
from dsr.encryption import current_cipher
from dsr.notify.links import Links
from dsr.services.inventory import load_dataset
from dsr.services.letters import Draft
from dsr.services.organisation import load_profile
from dsr.services.requests import NewRequest, submit_request
from dsr.services.subjects import ConsentSetup, SubjectKeys
from dsr.services.verification import VerificationSettings
from dsr.sources.demo_crm import create_demo_crm

ROOT = Path(__file__).resolve().parents[2]
PROFILE = load_profile(ROOT / "profiles" / "demo.yaml")
T0 = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
LINKS = Links(verify_link=lambda t: f"https://dsr.example/verify/{t}", status_link=lambda r: "https://dsr.example/s/x")
DRAFTS = lambda key, request: Draft(f"{key} subject", f"{key} for {request.reference}")  # noqa: E731
SETTINGS = VerificationSettings(pepper=b"pepper")


def load_demo_dataset(environ: dict[str, str], path: Path = ROOT / "datasets" / "demo.yaml"):
    return load_dataset(
        path,
        environ=environ,
        purposes={p.key for p in PROFILE.purposes},
        consent_topics={t.key for t in PROFILE.consent_topics},
    )


def make_crm(directory: Path) -> Path:
    """A small demo CRM in `directory` whose marketing consents all start granted."""
    path = create_demo_crm(directory / "crm.sqlite3", people=3)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE marketing_consents SET status = 'granted'")
    return path


@pytest.fixture
def crm(tmp_path) -> Path:
    return make_crm(tmp_path)


def crm_statuses(path: Path, email: str, phone: str) -> dict[str, str]:
    """channel → status of one demo person's marketing consent rows (by email, phone or customer)."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT m.channel, m.status FROM marketing_consents m LEFT JOIN customers c ON c.id = m.customer_id "
            "WHERE m.email = ? OR m.phone = ? OR c.email = ?",
            (email, phone, email),
        ).fetchall()
    return dict(rows)


@pytest.fixture
def environ(crm) -> dict[str, str]:
    return {"DSR_DEMO_CRM_URL": f"sqlite:///{crm}"}


@pytest.fixture
def setup(session, environ) -> ConsentSetup:
    return ConsentSetup(PROFILE, load_demo_dataset(environ), SubjectKeys(b"k" * 32, current_cipher()))


def file_request(
    session,
    request_type: RequestType,
    email: str,
    form_data: dict | None = None,
    phone: str | None = None,
    gpc: bool = False,
    at: datetime = T0,
):
    request = submit_request(
        session,
        Actor.requester(),
        at,
        NewRequest(request_type, "eu_gdpr", "Asha Verma", email, phone, form_data=form_data or {}, gpc=gpc),
        LegalClock("Asia/Kolkata"),
    )
    session.commit()
    return request
