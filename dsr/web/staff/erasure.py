"""Staff pages for deletion and correction: prepare and approve the erasure, decide and write corrections."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from dsr.domain.errors import DomainError
from dsr.domain.requests import RequestType
from dsr.extensions import db
from dsr.fulfilment.correction import FieldRef, current_values
from dsr.fulfilment.erasure_plan import ErasurePlan as PlanSpec
from dsr.models import CorrectionItem, ErasurePlan
from dsr.services import corrections, erasure
from dsr.services.fulfilment import identities_of
from dsr.sources.sql import SourceError
from dsr.web.choices import choices
from dsr.web.public.requester import external_url
from dsr.web.sessions import current_actor, dataset, now, organisation
from dsr.web.staff.actions import actionable, require_button, run
from dsr.web.staff.views import bp


class DecisionForm(FlaskForm):
    target = SelectField("Field it changes", validators=[Optional()], validate_choice=False)
    value = StringField("New value", validators=[Optional(), Length(max=500)])
    decision = RadioField(
        "Decision",
        choices=choices([("approve", "Approve"), ("reject", "Reject")]),
        validators=[DataRequired("Approve or reject the change.")],
    )
    reason = TextAreaField("Reason (the requester reads it when you reject)", validators=[Length(max=2000)])
    submit = SubmitField("Save decision")


def decision_prefix(item: CorrectionItem) -> str:
    """Field names c<id>-target, c<id>-value…: the dash is ours, because WTForms adds none after an id
    that happens to end in "-" or "_"."""
    return f"c{item.public_id}-"


def field_label(ref: FieldRef) -> str:
    return f"{ref.system} › {ref.table} › {ref.column}"


def panel(found) -> dict:
    """What the request page shows about erasure or correction."""
    if found.request_type is RequestType.DELETION:
        plan = erasure.current_plan(db.session, found)
        return {"erasure_plan": plan, "erasure_spec": PlanSpec.from_json(plan.plan) if plan else None}
    if found.request_type is RequestType.CORRECTION:
        items = corrections.items_of(db.session, found)
        db.session.commit()  # the proposals are created from the form the first time
        fields = corrections.field_choices(dataset())
        forms = {}
        for item in items:
            form = DecisionForm(prefix=decision_prefix(item), formdata=None)
            form.target.choices = choices([("", "Choose…"), *((field_label(f), field_label(f)) for f in fields)])
            form.target.data = f"{item.system_key} › {item.table_name} › {item.column_name}" if item.system_key else ""
            form.value.data = item.new_value
            forms[item.public_id] = form
        return {"correction_items": items, "decision_forms": forms, "current": _current(found, items)}
    return {}


def _current(found, items) -> dict[str, list[str]]:
    """Current values of each matched field, read from the systems (empty when unreachable)."""
    refs = {FieldRef(i.system_key, i.table_name, i.column_name) for i in items if i.system_key}
    if not refs:
        return {}
    try:
        tables = current_values(dataset(), identities_of(found), list(refs))
    except (SourceError, DomainError):
        return {}
    values: dict[str, list[str]] = {}
    for table in tables:
        for _key, row in table.rows:
            for column, value in row.items():
                values.setdefault(f"{table.system} › {table.table} › {column}", []).append(
                    "" if value is None else str(value)
                )
    return values


@bp.route("/requests/<reference>/erasure/prepare", methods=["POST"])
def prepare_erasure(reference: str):
    found = actionable(reference)
    require_button()
    return run(
        found,
        "Erasure plan prepared. An admin other than you must approve it.",
        lambda: erasure.prepare(db.session, current_actor(), now(), found, dataset()),
    )


@bp.route("/requests/<reference>/erasure/<plan_id>/approve", methods=["POST"])
def approve_erasure(reference: str, plan_id: str):
    found = actionable(reference)
    require_button()
    if not current_user.is_admin:
        abort(403)
    plan = db.session.scalar(
        select(ErasurePlan).where(ErasurePlan.public_id == plan_id, ErasurePlan.request_id == found.id)
    )
    if plan is None:
        abort(404)
    callback = lambda job_ref: external_url("hooks.erasure_callback", job_ref=job_ref)  # noqa: E731
    return run(
        found,
        "Approved. The erasure runs in the background; this page shows its progress.",
        lambda: erasure.approve(db.session, current_actor(), now(), plan, dataset(), callback),
    )


@bp.route("/requests/<reference>/corrections/<item_id>", methods=["POST"])
def decide_correction(reference: str, item_id: str):
    found = actionable(reference)
    item = db.session.scalar(
        select(CorrectionItem).where(CorrectionItem.public_id == item_id, CorrectionItem.request_id == found.id)
    )
    if item is None:
        abort(404)
    form = DecisionForm(prefix=decision_prefix(item))
    form.target.choices = choices(
        [("", "Choose…"), *((field_label(f), field_label(f)) for f in corrections.field_choices(dataset()))]
    )
    if not form.validate_on_submit():
        flash("Approve or reject the change (and choose the field when approving).", "error")
        return redirect(url_for("staff.detail", reference=reference))
    target = next((f for f in corrections.field_choices(dataset()) if field_label(f) == form.target.data), None)
    return run(
        found,
        "Decision saved.",
        lambda: corrections.decide(
            db.session,
            current_actor(),
            now(),
            item,
            form.decision.data == "approve",
            form.reason.data or "",
            target,
            (form.value.data or "").strip(),
        ),
    )


@bp.route("/requests/<reference>/corrections/apply", methods=["POST"])
def apply_corrections(reference: str):
    found = actionable(reference)
    require_button()
    return run(
        found,
        "The approved changes were written to the systems.",
        lambda: corrections.apply_approved(db.session, current_actor(), now(), found, dataset(), organisation()),
    )
