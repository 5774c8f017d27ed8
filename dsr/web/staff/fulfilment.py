"""Staff fulfilment actions: build the data bundle, confirm manual tasks, review the bundle."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import Bundle, FulfilmentTask
from dsr.services import fulfilment
from dsr.services.audit import record_event
from dsr.web.downloads import stream_bundle
from dsr.web.sessions import current_actor, dataset, now
from dsr.web.staff import forms
from dsr.web.staff.actions import actionable, require_button, run
from dsr.web.staff.views import bp


def panel(found) -> dict:
    """What the request page shows about fulfilment."""
    from dsr.services.bundles import latest_bundle

    return {
        "job": fulfilment.latest_job(db.session, found),
        "bundle": latest_bundle(db.session, found),
        "tasks": fulfilment.tasks_of(db.session, found),
        "task_form": forms.TaskForm(prefix="task"),
        "bundle_types": set(fulfilment.BUNDLE_JOBS),
    }


@bp.route("/requests/<reference>/bundle", methods=["POST"])
def build_bundle(reference: str):
    found = actionable(reference)
    require_button()
    return run(
        found,
        "The bundle is being built; this page shows its progress.",
        lambda: fulfilment.queue_bundle(db.session, current_actor(), now(), found, dataset()),
    )


@bp.route("/requests/<reference>/tasks/<task_id>", methods=["POST"])
def complete_task(reference: str, task_id: str):
    found = actionable(reference)
    task = db.session.scalar(
        select(FulfilmentTask).where(FulfilmentTask.public_id == task_id, FulfilmentTask.request_id == found.id)
    )
    if task is None:
        abort(404)
    form = forms.TaskForm(prefix="task")
    if not form.validate_on_submit():
        flash("Say what you found or did.", "error")
        return redirect(url_for("staff.detail", reference=reference))
    from flask_login import current_user

    return run(
        found,
        "Task confirmed.",
        lambda: fulfilment.complete_task(db.session, current_actor(), now(), task, current_user, form.note.data),
    )


@bp.route("/requests/<reference>/bundles/<bundle_id>")
def review_bundle(reference: str, bundle_id: str):
    """Staff download the bundle to check it before it is released (audited)."""
    found = actionable(reference)
    bundle = db.session.scalar(select(Bundle).where(Bundle.public_id == bundle_id, Bundle.request_id == found.id))
    if bundle is None or bundle.purged_at is not None:
        abort(404)
    record_event(db.session, current_actor(), "bundle.reviewed", now(), found)
    db.session.commit()
    return stream_bundle(bundle, f"{found.reference}.zip")
