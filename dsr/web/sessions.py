"""Flask-Login wiring, the organisation profile and clock for views, and per-request `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.dataset import Dataset
from dsr.domain.profile import OrganisationProfile
from dsr.encryption import current_cipher, derived_key
from dsr.extensions import db, login_manager
from dsr.models import StaffUser
from dsr.services.bundles import BundlePolicy
from dsr.services.erasure import ErasureContext
from dsr.services.fulfilment import BundleContext
from dsr.services.inventory import load_dataset
from dsr.services.organisation import legal_clock, load_profile
from dsr.services.users import actor_for


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.context_processor(lambda: {"organisation": organisation()})


def load_user(session_id: str) -> StaffUser | None:
    """Sessions carry public_id.session_version, so a password change ends old sessions."""
    public_id, _, version = session_id.partition(".")
    user = db.session.scalar(select(StaffUser).where(StaffUser.public_id == public_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def organisation() -> OrganisationProfile:
    """The profile, read once per process from DSR_PROFILE."""
    cache = current_app.extensions.setdefault("dsr_profile", {})
    if "profile" not in cache:
        cache["profile"] = load_profile(current_app.config["DSR_PROFILE"])
    return cache["profile"]


def dataset() -> Dataset:
    """The data inventory, read once per process from DSR_DATASET (purposes checked against the profile)."""
    cache = current_app.extensions.setdefault("dsr_profile", {})
    if "dataset" not in cache:
        profile = organisation()
        cache["dataset"] = load_dataset(
            current_app.config["DSR_DATASET"],
            purposes={p.key for p in profile.purposes},
            consent_topics={t.key for t in profile.consent_topics},
        )
    return cache["dataset"]


def bundle_policy() -> BundlePolicy:
    config = current_app.config
    return BundlePolicy(days=config["DSR_BUNDLE_DAYS"], max_downloads=config["DSR_BUNDLE_MAX_DOWNLOADS"])


def bundle_context() -> BundleContext:
    return BundleContext(
        dataset=dataset(),
        profile=organisation(),
        keys=current_cipher().file_keys(),
        directory=Path(current_app.config["DSR_BUNDLE_DIR"]),
        lease=fulfilment_lease(),
    )


def erasure_context() -> ErasureContext:
    # The suppression key also keys the hashes written into source systems: one stable secret for both.
    return ErasureContext(
        dataset=dataset(), secret=derived_key(current_app.config, "suppression"), lease=fulfilment_lease()
    )


def fulfilment_lease() -> timedelta:
    return timedelta(seconds=current_app.config["DSR_FULFILMENT_LEASE_SECONDS"])


def clock() -> LegalClock:
    return legal_clock(organisation())


def now() -> datetime:
    """The current time; tests replace it through the DSR_NOW config hook."""
    override = current_app.config.get("DSR_NOW")
    return override() if callable(override) else datetime.now(UTC)


def current_actor() -> Actor:
    return actor_for(current_user._get_current_object())
