"""Case actions. Each route loads a request the user may act on, calls one service, commits once."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import allowed_actions
from dsr.extensions import db
from dsr.models import DataSubjectRequest, StaffUser
from dsr.services import casework, deadlines
from dsr.services.duplicates import link_duplicate
from dsr.web.consent import consent_setup, propagate_now
from dsr.web.public.requester import drafts, links
from dsr.web.sessions import clock, current_actor, now
from dsr.web.staff import forms
from dsr.web.staff.views import bp, staff_choices, visible_request


def actionable(reference: str) -> DataSubjectRequest:
    found = visible_request(reference)
    if not casework.can_act(current_user, found):
        abort(403)
    return found


def run(found: DataSubjectRequest, success: str, operation: Callable[[], object]):
    """Call a service, commit, and say what happened; domain refusals become messages, not errors."""
    try:
        operation()
        db.session.commit()
        flash(success, "success")
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused), "error")
    except StaleDataError:
        db.session.rollback()
        flash("Someone else changed this request at the same moment. Check it and try again.", "error")
    return redirect(url_for("staff.detail", reference=found.reference))


def require_button() -> None:
    if not forms.ButtonForm().validate_on_submit():
        abort(400)


def action_forms(found: DataSubjectRequest) -> dict:
    assign = forms.AssignForm(prefix="assign")
    assign.assignee.choices = staff_choices(blank="Nobody")
    assign.assignee.data = found.assignee.public_id if found.assignee else ""
    jurisdiction = forms.JurisdictionForm(prefix="jur", jurisdiction=found.jurisdiction)
    return {
        "button": forms.ButtonForm(),
        "note_form": forms.NoteForm(prefix="note"),
        "assign_form": assign,
        "verify_form": forms.ManualVerifyForm(prefix="verify"),
        "jurisdiction_form": jurisdiction,
        "confidential_form": forms.ConfidentialForm(prefix="conf", confidential=found.confidential),
        "duplicate_form": forms.DuplicateForm(
            prefix="dup", original=found.duplicate_of.reference if found.duplicate_of else ""
        ),
        "allowed": {a.value for a in allowed_actions(found.status)},
    }


@bp.route("/requests/<reference>/claim", methods=["POST"])
def claim(reference: str):
    found = actionable(reference)
    return run(
        found, "The request is yours.", lambda: casework.assign(db.session, current_actor(), now(), found, current_user)
    )


@bp.route("/requests/<reference>/release", methods=["POST"])
def release(reference: str):
    found = actionable(reference)
    return run(
        found, "You released the request.", lambda: casework.assign(db.session, current_actor(), now(), found, None)
    )


def staff_member(public_id: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.public_id == public_id)) if public_id else None


@bp.route("/requests/<reference>/assign", methods=["POST"])
def assign(reference: str):
    found = actionable(reference)
    form = forms.AssignForm(prefix="assign")
    form.assignee.choices = staff_choices(blank="Nobody")
    if not form.validate_on_submit():
        abort(400)
    person = staff_member(form.assignee.data)
    return run(found, "Assignment saved.", lambda: casework.assign(db.session, current_actor(), now(), found, person))


@bp.route("/bulk-assign", methods=["POST"])
def bulk_assign():
    form = forms.BulkAssignForm()
    form.assignee.choices = staff_choices()
    if not form.validate_on_submit() or not form.references.data:
        flash("Tick the requests to assign first.", "error")
        return redirect(url_for("staff.home"))
    person = staff_member(form.assignee.data)
    done, refused = 0, []
    rows = db.session.scalars(
        select(DataSubjectRequest).where(DataSubjectRequest.reference.in_(form.references.data[:200]))
    )
    for found in rows:
        try:
            if not casework.can_act(current_user, found):
                raise casework.NotAllowed("not yours")
            casework.assign(db.session, current_actor(), now(), found, person)
            done += 1
        except DomainError:
            refused.append(found.reference if casework.can_view(current_user, found) else "a request")
    db.session.commit()
    flash(f"Assigned {done} request(s).", "success")
    if refused:
        flash(f"Not assigned (not yours to assign): {', '.join(refused)}.", "error")
    return redirect(url_for("staff.home"))


@bp.route("/requests/<reference>/note", methods=["POST"])
def note(reference: str):
    found = visible_request(reference)  # anyone who may see a request may add a note to it
    form = forms.NoteForm(prefix="note")
    if not form.validate_on_submit():
        flash("Write the note first.", "error")
        return redirect(url_for("staff.detail", reference=reference))
    return run(
        found, "Note added.", lambda: casework.add_note(db.session, current_actor(), now(), found, form.body.data)
    )


@bp.route("/requests/<reference>/start", methods=["POST"])
def start(reference: str):
    found = actionable(reference)
    require_button()
    return run(found, "Work started.", lambda: casework.start_work(db.session, current_actor(), now(), found))


@bp.route("/requests/<reference>/verify-identity", methods=["POST"])
def verify_identity(reference: str):
    found = actionable(reference)
    form = forms.ManualVerifyForm(prefix="verify")
    if not form.validate_on_submit():
        flash("Describe how you verified the person (at least 10 characters).", "error")
        return redirect(url_for("staff.detail", reference=reference))
    response = run(
        found,
        "Identity marked as verified.",
        lambda: casework.verify_manually(
            db.session, current_actor(), now(), found, form.note.data, drafts(), links(), consent_setup()
        ),
    )
    propagate_now()
    return response


@bp.route("/requests/<reference>/jurisdiction", methods=["POST"])
def jurisdiction(reference: str):
    found = actionable(reference)
    form = forms.JurisdictionForm(prefix="jur")
    if not form.validate_on_submit():
        abort(400)
    return run(
        found,
        "Jurisdiction changed; the due date was recomputed.",
        lambda: deadlines.change_jurisdiction(
            db.session, current_actor(), now(), found, clock(), form.jurisdiction.data
        ),
    )


@bp.route("/requests/<reference>/reopen", methods=["POST"])
def reopen(reference: str):
    found = actionable(reference)
    require_button()
    days = current_app.config["DSR_REOPEN_DAYS"]
    return run(found, "Request reopened.", lambda: casework.reopen(db.session, current_actor(), now(), found, days))


@bp.route("/requests/<reference>/confidential", methods=["POST"])
def confidential(reference: str):
    found = actionable(reference)
    form = forms.ConfidentialForm(prefix="conf")
    if not form.validate_on_submit():
        abort(400)
    return run(
        found,
        "Visibility saved.",
        lambda: casework.set_confidential(db.session, current_actor(), now(), found, form.confidential.data),
    )


@bp.route("/requests/<reference>/duplicate", methods=["POST"])
def duplicate(reference: str):
    found = actionable(reference)
    form = forms.DuplicateForm(prefix="dup")
    if not form.validate_on_submit():
        abort(400)
    original = None
    if form.original.data:
        original = db.session.scalar(
            select(DataSubjectRequest).where(DataSubjectRequest.reference == form.original.data.strip().upper())
        )
        if original is None or not casework.can_view(current_user, original) or original.id == found.id:
            flash("There is no other request with that reference.", "error")
            return redirect(url_for("staff.detail", reference=reference))
    return run(
        found, "Duplicate link saved.", lambda: link_duplicate(db.session, current_actor(), now(), found, original)
    )


from dsr.web.staff import attachments, compose, erasure, fulfilment, people  # noqa: E402,F401  (letters, files, people)
