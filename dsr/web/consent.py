"""Consent wiring for views: the setup the services need, and propagation straight after a commit."""

from __future__ import annotations

import logging

from flask import current_app

from dsr.domain.dataset import SystemKind
from dsr.encryption import current_cipher, derived_key
from dsr.extensions import db
from dsr.services.propagation import run_due
from dsr.services.subjects import ConsentSetup, SubjectKeys
from dsr.web.sessions import dataset, now, organisation

log = logging.getLogger(__name__)
# Jobs run inside a person's request: the ones it just queued, in practice.
PROPAGATE_NOW_LIMIT = 20


def subject_keys() -> SubjectKeys:
    return SubjectKeys(derived_key(current_app.config, "identity"), current_cipher())


def consent_setup() -> ConsentSetup:
    return ConsentSetup(organisation(), dataset, subject_keys())  # the inventory is read when first needed


def propagate_now() -> None:
    """Write committed changes into the organisation's databases at once (webhooks go from the job).

    Call after committing. A system that cannot be reached leaves its job for a retry; the person's
    change is already recorded, so nothing here may fail their page.
    """
    try:
        run_due(
            db.session,
            now(),
            consent_setup(),
            kinds=(SystemKind.SQL,),
            limit=PROPAGATE_NOW_LIMIT,
            max_attempts=current_app.config["DSR_PROPAGATION_MAX_ATTEMPTS"],
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 - logged; the job retries the work later
        db.session.rollback()
        log.exception("Propagating a consent change failed; the propagation job will retry it.")
