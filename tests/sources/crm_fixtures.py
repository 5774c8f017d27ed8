"""The demo CRM as test fixtures: built once per session in a temp file (a small one: tests stay fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsr.domain.dataset import Dataset
from dsr.services.inventory import load_dataset
from dsr.services.organisation import load_profile
from dsr.sources.demo_crm import create_demo_crm

ROOT = Path(__file__).resolve().parents[2]
DEMO_DATASET = ROOT / "datasets" / "demo.yaml"
DEMO_PROFILE = ROOT / "profiles" / "demo.yaml"


@pytest.fixture(scope="session")
def crm_path(tmp_path_factory) -> Path:
    return create_demo_crm(tmp_path_factory.mktemp("crm") / "demo_crm.sqlite3", people=40, seed=7)


@pytest.fixture(scope="session")
def crm_environ(crm_path) -> dict[str, str]:
    return {"DSR_DEMO_CRM_URL": f"sqlite:///{crm_path}"}


@pytest.fixture(scope="session")
def demo_profile():
    return load_profile(DEMO_PROFILE)


@pytest.fixture(scope="session")
def demo_dataset(crm_environ, demo_profile) -> Dataset:
    return load_dataset(DEMO_DATASET, environ=crm_environ, purposes={p.key for p in demo_profile.purposes})
