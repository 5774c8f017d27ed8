"""Admin → Audit log: every recorded event with filters, newest first; CSV export; chain check."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from dsr.domain.actors import ActorKind
from dsr.extensions import db
from dsr.models import StaffUser
from dsr.services import audit_log
from dsr.services.audit import record_event
from dsr.services.audit_chain import read_head
from dsr.services.audit_verify import verify_chain
from dsr.services.timeline import EVENT_TEXT
from dsr.web.admin.views import bp
from dsr.web.sessions import clock, current_actor, now

ACTOR_KINDS = [
    ("kind:staff", "Any staff member"),
    ("kind:requester", "Requesters"),
    ("kind:system", "The system and scheduled jobs"),
    ("kind:api", "Other systems (API)"),
]
GROUPS = {
    "request": "Requests",
    "clock": "Deadlines",
    "verification": "Identity verification",
    "requester": "Requester",
    "fulfilment": "Fulfilment",
    "bundle": "Bundles",
    "erasure": "Erasure",
    "correction": "Correction",
    "consent": "Consent",
    "processing": "Restriction and objection",
    "propagation": "Propagation",
    "export": "Admin exports",
    "subject": "People",
    "auth": "Sign-in",
    "user": "Staff accounts",
    "audit": "Audit trail",
}


class VerifyForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


def _wanted() -> tuple[audit_log.AuditFilter, dict]:
    """The filters from the query string (bad values are ignored), and what the form shows back."""
    args = request.args
    shown = {key: (args.get(key) or "").strip()[:64] for key in ("action", "actor", "reference", "from", "until")}
    start, end = _day(shown["from"]), _day(shown["until"])
    shown["from"], shown["until"] = (start.isoformat() if start else ""), (end.isoformat() if end else "")
    wanted = audit_log.AuditFilter(
        action=shown["action"],
        actor=shown["actor"],
        reference=shown["reference"],
        start=_local_midnight(start) if start else None,
        end=_local_midnight(end + timedelta(days=1)) if end else None,
    )
    return wanted, shown


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock().tz)


def _action_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action filter's options: each family ("All request events") then its actions."""
    families: dict[str, list[tuple[str, str]]] = {}
    for action, label in EVENT_TEXT.items():
        families.setdefault(action.partition(".")[0], []).append((action, label))
    return [
        (
            GROUPS.get(family, family.capitalize()),
            [(f"{family}.", "All of these"), *sorted(actions, key=lambda a: a[1])],
        )
        for family, actions in sorted(families.items(), key=lambda item: GROUPS.get(item[0], item[0]))
    ]


@bp.route("/audit")
def audit():
    wanted, shown = _wanted()
    page = audit_log.log_page(db.session, wanted, older_than=request.args.get("before", type=int))
    staff = db.session.execute(select(StaffUser.public_id, StaffUser.name).order_by(StaffUser.name)).all()
    query = {key: value for key, value in shown.items() if value}
    return render_template(
        "admin/audit.html",
        page=page,
        shown=shown,
        filtered=bool(query),
        action_groups=_action_groups(),
        actors=[*ACTOR_KINDS, *((s.public_id, s.name) for s in staff)],
        older_url=url_for("admin.audit", **query, before=page.older_than) if page.older_than else None,
        csv_url=url_for("admin.audit_csv", **query),
        paged="before" in request.args,
        last_check=audit_log.last_verification(db.session),
        head=read_head(db.session),
        form=VerifyForm(),
        kinds=ActorKind,
    )


@bp.route("/audit/verify", methods=["POST"])
def verify_audit_chain():
    if not VerifyForm().validate_on_submit():
        return redirect(url_for("admin.audit"))
    report = verify_chain(db.session)
    db.session.rollback()  # the walk's reads end here; the result is recorded in a fresh transaction
    audit_log.record_verification(db.session, current_actor(), now(), report)
    db.session.commit()
    if report.ok:
        flash(f"The audit trail is intact: {report.checked} events checked.", "success")
    else:
        flash(f"The audit trail is broken at {report.broken.describe()}", "error")
    return redirect(url_for("admin.audit"))


@bp.route("/audit.csv")
def audit_csv():
    """The filtered log as CSV, newest first, streamed; the export itself is recorded first."""
    wanted, _ = _wanted()
    record_event(db.session, current_actor(), "audit.exported", now(), **wanted.as_details())
    db.session.commit()

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(audit_log.CSV_COLUMNS)
        for entry in audit_log.all_entries(db.session, wanted):
            writer.writerow([_cell(value) for value in audit_log.csv_row(entry)])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"audit-log-{clock().local_date(now()).isoformat()}.csv"
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula (names and details are partly typed by people)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
