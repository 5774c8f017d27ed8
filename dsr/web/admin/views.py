"""The admin area: legal clock rules and staff accounts; letters, outbox, inventory and export in sibling modules."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from dsr.domain.rules import DeadlineRule as RuleSpec
from dsr.domain.rules import Period
from dsr.extensions import db
from dsr.models import DeadlineRule, Role, StaffUser
from dsr.services.rules import update_rule
from dsr.web.access import require_roles
from dsr.web.admin.forms import RuleForm
from dsr.web.choices import choices
from dsr.web.sessions import current_actor, now

bp = Blueprint("admin", __name__)
require_roles(bp, Role.ADMIN)

HOLIDAY_CALENDARS = [
    ("", "Weekends only"),
    ("XECB", "EU-wide (TARGET closing days)"),
    ("GB-ENG", "England and Wales"),
    ("GB-SCT", "Scotland"),
    ("US-CA", "California"),
    ("IN", "India"),
    ("BR", "Brazil"),
    ("IE", "Ireland"),
    ("DE", "Germany"),
    ("FR", "France"),
]


@bp.route("/")
def home():
    return render_template("admin/home.html")


@bp.route("/rules")
def rules():
    rows = db.session.scalars(select(DeadlineRule).order_by(DeadlineRule.jurisdiction, DeadlineRule.request_type)).all()
    return render_template("admin/rules.html", rules=[row.to_spec() for row in rows])


@bp.route("/rules/<jurisdiction>/<request_type>", methods=["GET", "POST"])
def edit_rule(jurisdiction: str, request_type: str):
    row = db.session.scalar(
        select(DeadlineRule).where(DeadlineRule.jurisdiction == jurisdiction, DeadlineRule.request_type == request_type)
    )
    if row is None:
        abort(404)
    spec = row.to_spec()
    form = RuleForm(obj=_form_defaults(spec))  # posted values take precedence over these
    form.holiday_calendar.choices = choices(HOLIDAY_CALENDARS)
    if form.validate_on_submit():
        update_rule(db.session, current_actor(), now(), row, _spec_from_form(spec, form))
        db.session.commit()
        flash("Rule saved. New due dates use it; existing requests keep theirs until their clock changes.", "success")
        return redirect(url_for("admin.rules"))
    return render_template("admin/rule_edit.html", form=form, rule=spec)


def _form_defaults(spec: RuleSpec):
    class Defaults:
        respond_within = str(spec.respond_within)
        extension = str(spec.extension) if spec.extension else ""
        acknowledge_within = str(spec.acknowledge_within) if spec.acknowledge_within else ""
        pause_allowed = spec.pause_allowed
        roll_forward = spec.roll_forward
        extension_notice_required = spec.extension_notice_required
        holiday_calendar = spec.holiday_calendar
        reference = spec.reference
        notes = spec.notes

    return Defaults


def _spec_from_form(spec: RuleSpec, form: RuleForm) -> RuleSpec:
    def optional(text: str | None) -> Period | None:
        return Period.parse(text) if text else None

    return RuleSpec(
        jurisdiction=spec.jurisdiction,
        request_type=spec.request_type,
        respond_within=Period.parse(form.respond_within.data),
        extension=optional(form.extension.data),
        pause_allowed=form.pause_allowed.data,
        roll_forward=form.roll_forward.data,
        acknowledge_within=optional(form.acknowledge_within.data),
        extension_notice_required=form.extension_notice_required.data,
        holiday_calendar=form.holiday_calendar.data,
        reference=form.reference.data.strip(),
        notes=form.notes.data.strip(),
    )


@bp.route("/users")
def staff_users():
    accounts = db.session.scalars(select(StaffUser).order_by(StaffUser.name)).all()
    return render_template("admin/users.html", users=accounts)


# Register their routes on bp (audit and reports: Admin → Audit log and Reports; api_keys and webhooks: issue 9).
from dsr.web.admin import api_keys, audit, export, jobs, letters, outbox, reports, systems, webhooks  # noqa: E402, F401
