"""The staff queue: filtered, ordered by due date, paged by keyset so page 1,000 costs what page 1 does."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, case, false, func, or_, select, true, tuple_
from sqlalchemy.orm import Session, selectinload

from dsr.domain.lifecycle import OPEN_STATUSES, Status
from dsr.models import DataSubjectRequest, StaffUser

PAGE_SIZE = 50
R = DataSubjectRequest


@dataclass(frozen=True)
class QueueFilter:
    status: str = "open"  # "open", "all" or one Status value
    request_type: str = ""
    jurisdiction: str = ""
    assignee: str = ""  # "", "mine", "unassigned" or a staff public_id
    overdue: bool = False
    search: str = ""


@dataclass(frozen=True)
class Cursor:
    due_on: date
    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.due_on.isoformat()}|{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """A cursor from the URL, or None when it is missing or was tampered with."""
        if not text:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            day, _, ident = raw.partition("|")
            return cls(date.fromisoformat(day), int(ident))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class QueuePage:
    requests: list[DataSubjectRequest]
    next_cursor: Cursor | None


def visible_to(query: Select, viewer: StaffUser) -> Select:
    if viewer.is_admin:
        return query
    return query.where(or_(R.confidential == false(), R.assignee_id == viewer.id))


def _filtered(query: Select, viewer: StaffUser, wanted: QueueFilter, today: date, staff_ids: dict[str, int]) -> Select:
    if wanted.status == "open":
        query = query.where(R.is_open == true())
    elif wanted.status in Status.__members__.values():
        query = query.where(R.status == wanted.status)
    if wanted.request_type:
        query = query.where(R.request_type == wanted.request_type)
    if wanted.jurisdiction:
        query = query.where(R.jurisdiction == wanted.jurisdiction)
    if wanted.assignee == "mine":
        query = query.where(R.assignee_id == viewer.id)
    elif wanted.assignee == "unassigned":
        query = query.where(R.assignee_id.is_(None))
    elif wanted.assignee:
        query = query.where(R.assignee_id == staff_ids.get(wanted.assignee, -1))
    if wanted.overdue:
        query = query.where(R.is_open == true(), R.due_on < today)
    if wanted.search.strip():
        query = query.where(_search(wanted.search.strip()))
    return visible_to(query, viewer)


def _search(text: str):
    """Exact reference, exact email, or a name prefix (an index range scan, never a table scan)."""
    upper = text.upper()
    if upper.startswith("DSR-"):
        return R.reference == upper
    if "@" in text:
        return R.requester_email == text.lower()
    prefix = text.lower()
    upper_bound = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return and_(R.search_name >= prefix, R.search_name < upper_bound, R.search_name.like(escaped + "%", escape="\\"))


def queue_page(
    session: Session,
    viewer: StaffUser,
    wanted: QueueFilter,
    today: date,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    staff_ids = _staff_ids(session, wanted)
    query = _filtered(select(R), viewer, wanted, today, staff_ids)
    if after is not None:
        query = query.where(tuple_(R.due_on, R.id) > tuple_(after.due_on, after.id))
    rows = session.scalars(query.order_by(R.due_on, R.id).limit(size + 1).options(selectinload(R.pauses))).all()
    more = len(rows) > size
    rows = rows[:size]
    return QueuePage(list(rows), Cursor(rows[-1].due_on, rows[-1].id) if more and rows else None)


@dataclass(frozen=True)
class OpenCounts:
    by_status: dict[Status, int]
    overdue: int

    def __add__(self, other: OpenCounts) -> OpenCounts:
        return OpenCounts(
            {s: self.by_status.get(s, 0) + other.by_status.get(s, 0) for s in OPEN_ORDER}, self.overdue + other.overdue
        )


OPEN_ORDER = [s for s in Status if s in OPEN_STATUSES]


def open_counts(
    session: Session, today: date, confidential: bool | None = None, assignee_id: int | None = None
) -> OpenCounts:
    """Open requests per status and how many are overdue, in one pass over ix_dsr_request_open_counts.

    confidential=False counts what every staff member sees; True with an assignee adds one person's own.
    """
    overdue = func.sum(case((R.due_on < today, 1), else_=0))
    query = select(R.status, func.count(), overdue).where(R.is_open == true()).group_by(R.status)
    if confidential is not None:
        query = query.where(R.confidential == (true() if confidential else false()))
    if assignee_id is not None:
        query = query.where(R.assignee_id == assignee_id)
    rows = session.execute(query).all()
    return OpenCounts(
        {s: next((n for st, n, _ in rows if st == s), 0) for s in OPEN_ORDER}, sum(o or 0 for *_, o in rows)
    )


def status_counts(session: Session, viewer: StaffUser) -> dict[Status, int]:
    """Open requests per status as this viewer may see them (uncached)."""
    return counts_for(session, viewer, date.max).by_status


def counts_for(session: Session, viewer: StaffUser, today: date, shared: OpenCounts | None = None) -> OpenCounts:
    """What the queue header shows to this viewer; `shared` (everyone's non-confidential counts) may be cached."""
    if viewer.is_admin:
        return open_counts(session, today)
    base = shared if shared is not None else open_counts(session, today, confidential=False)
    return base + open_counts(session, today, confidential=True, assignee_id=viewer.id)


def overdue_count(session: Session, viewer: StaffUser, today: date) -> int:
    return counts_for(session, viewer, today).overdue


def _staff_ids(session: Session, wanted: QueueFilter) -> dict[str, int]:
    if wanted.assignee in ("", "mine", "unassigned"):
        return {}
    return dict(
        session.execute(select(StaffUser.public_id, StaffUser.id).where(StaffUser.public_id == wanted.assignee)).all()
    )
