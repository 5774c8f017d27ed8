"""The staff area: the queue, a request's page and the register export."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import DataSubjectRequest, Role, StaffUser
from dsr.services import queue as queue_service
from dsr.services.casework import can_act, can_view
from dsr.services.consent_requests import subject_of_request
from dsr.services.timeline import timeline
from dsr.web.access import require_roles
from dsr.web.choices import choices
from dsr.web.consent import subject_keys
from dsr.web.sessions import clock, now
from dsr.web.staff import forms

bp = Blueprint("staff", __name__)
require_roles(bp, Role.STAFF, Role.ADMIN)


def staff_choices(blank: str | None = None, extra: tuple[tuple[str, str], ...] = ()) -> list:
    # One query per request however many pickers the page shows (and the queue's assignee names then come
    # from the session's identity map). Kept in the request's environ, not `g`: an app context, and so `g`,
    # can outlive a request (a CLI command or a test that pushed one), and staff must never be stale.
    people = request.environ.get("dsr.active_staff")
    if people is None:
        query = select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name)
        people = request.environ["dsr.active_staff"] = db.session.scalars(query).all()
    return choices([*([("", blank)] if blank is not None else []), *extra, *((u.public_id, u.name) for u in people)])


def today():
    return clock().local_date(now())


@bp.route("/")
def home():
    form = forms.QueueFilterForm(request.args)
    form.assignee.choices = staff_choices("Anyone", (("mine", "Mine"), ("unassigned", "Unassigned")))
    wanted = queue_service.QueueFilter(
        status=form.status.data or "open",
        request_type=form.request_type.data or "",
        jurisdiction=form.jurisdiction.data or "",
        assignee=form.assignee.data or "",
        overdue=bool(form.overdue.data),
        search=(form.q.data or "")[:254],
    )
    page = queue_service.queue_page(
        db.session, current_user, wanted, today(), queue_service.Cursor.decode(request.args.get("after"))
    )
    bulk = forms.BulkAssignForm()
    bulk.assignee.choices = staff_choices()
    next_url = None
    if page.next_cursor:
        next_url = url_for("staff.home", **{**request.args.to_dict(), "after": page.next_cursor.encode()})
    return render_template(
        "staff/queue.html",
        form=form,
        page=page,
        today=today(),
        next_url=next_url,
        bulk=bulk,
        counts=header_counts(),
        paged=bool(request.args.get("after")),
    )


def header_counts() -> queue_service.OpenCounts:
    """The queue header's counts, kept for a few seconds per process (DSR_QUEUE_COUNTS_SECONDS): everyone's
    non-confidential counts are shared; each viewer's own confidential ones are kept per viewer."""
    day = today()
    if current_user.is_admin:
        return _cached_counts(("all", day), lambda: queue_service.open_counts(db.session, day))
    shared = _cached_counts(("shared", day), lambda: queue_service.open_counts(db.session, day, confidential=False))
    own = _cached_counts(
        ("own", current_user.id, day),
        lambda: queue_service.open_counts(db.session, day, confidential=True, assignee_id=current_user.id),
    )
    return shared + own


def _cached_counts(key: tuple, compute) -> queue_service.OpenCounts:
    ttl = current_app.config["DSR_QUEUE_COUNTS_SECONDS"]
    cache = current_app.extensions.setdefault("dsr_queue_counts", {})
    hit = cache.get(key)
    if hit is None or time.monotonic() - hit[0] >= ttl:
        if len(cache) > 10_000 or any(k[-1] != key[-1] for k in cache):
            cache.clear()  # a new day, or more viewers than a process will ever see: start again
        cache[key] = hit = (time.monotonic(), compute())
    return hit[1]


def visible_request(reference: str) -> DataSubjectRequest:
    """The request if this staff member may see it; 404 otherwise, so its existence is not revealed."""
    found = db.session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == reference))
    if found is None or not can_view(current_user, found):
        abort(404)
    return found


@bp.route("/requests/<reference>")
def detail(reference: str):
    found = visible_request(reference)
    from dsr.web.staff.actions import action_forms
    from dsr.web.staff.erasure import panel as erasure_panel
    from dsr.web.staff.fulfilment import panel

    return render_template(
        "staff/request.html",
        r=found,
        today=today(),
        can_act=can_act(current_user, found),
        deadline=_deadline(found),
        events=timeline(db.session, found),
        person=subject_of_request(db.session, subject_keys(), found),
        **action_forms(found),
        **panel(found),
        **erasure_panel(found),
    )


def _deadline(found: DataSubjectRequest):
    from dsr.services.deadlines import deadline_of

    return deadline_of(db.session, found, clock(), now())


REGISTER_COLUMNS = [
    "reference",
    "type",
    "jurisdiction",
    "status",
    "received",
    "verified",
    "due",
    "extended",
    "closed",
    "outcome",
    "rejection_reason",
    "agent",
    "gpc",
]


@bp.route("/register.csv")
def register_csv():
    """Every request with its dates and outcome, for the record-keeping duty (CCPA §7101, GDPR Art. 30)."""

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(REGISTER_COLUMNS)
        query = queue_service.visible_to(select(DataSubjectRequest), current_user).order_by(DataSubjectRequest.id)
        for r in db.session.scalars(query.execution_options(yield_per=1000)):
            writer.writerow(
                [
                    r.reference,
                    r.request_type.value,
                    r.jurisdiction,
                    r.status.value,
                    _iso(r.received_at),
                    _iso(r.verified_at),
                    r.due_on.isoformat() if r.due_on else "",
                    _iso(r.extended_at),
                    _iso(r.closed_at),
                    r.status.value if not r.status.is_open else "",
                    r.rejection_reason or "",
                    "yes" if r.is_agent else "no",
                    "yes" if r.gpc else "no",
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    filename = f"dsr-register-{today().isoformat()}.csv"
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


from dsr.web.staff import actions  # noqa: E402,F401  (registers the action routes on bp)
