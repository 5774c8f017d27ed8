"""The annual request metrics of 11 CCR §7102(a)(1), for one calendar year, as a table and a CSV.

The regulation asks, per kind of request, for the number "the business received, complied with in
whole or in part, and denied", and "the median or mean number of days within which the business
substantively responded". How DSR Desk's requests map onto it:

- Which requests: those from California consumers (jurisdiction us_ca_ccpa) received in the year,
  by receipt date in the organisation's time zone; each is counted with its outcome so far, so the
  row adds up: received = complied + denied + withdrawn + still open.
- Requests to know: access and portability. To delete: deletion. To correct: correction.
- Requests to opt out of sale/sharing: consent withdrawals that name a consent topic of the
  sale_sharing purpose, or that came with a Global Privacy Control signal (§7025 treats it as one).
  Other consent withdrawals (marketing emails, say) are not CCPA requests and are left out.
- Restriction and objection are GDPR rights with no CCPA counterpart here (the CCPA's request to
  limit concerns sensitive personal information, which DSR Desk does not model): left out.
- Complied with in whole or in part: completed (a deletion that kept invoices for tax law is partial).
  Denied: rejected for any reason, plus requests that expired because the person never confirmed
  who they were (unverifiable, §7102(a)(3)); the "of which not verifiable" column shows both.
- Days to respond: calendar days from receipt to completion or refusal; the median, over requests
  answered so far. Expired requests got no substantive response and are not in it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsr.domain.lifecycle import Status
from dsr.domain.reporting import median
from dsr.domain.requests import Jurisdiction, RejectionReason, RequestType
from dsr.models import DataSubjectRequest
from dsr.services.report_sql import days_between, local_date
from dsr.services.reports import Window

R = DataSubjectRequest


class CcpaKind(StrEnum):
    KNOW = "know"
    DELETE = "delete"
    CORRECT = "correct"
    OPT_OUT = "opt_out"


KIND_LABELS = {
    CcpaKind.KNOW: "Requests to know",
    CcpaKind.DELETE: "Requests to delete",
    CcpaKind.CORRECT: "Requests to correct",
    CcpaKind.OPT_OUT: "Requests to opt out of sale/sharing",
}
KIND_OF_TYPE = {
    RequestType.ACCESS: CcpaKind.KNOW,
    RequestType.PORTABILITY: CcpaKind.KNOW,
    RequestType.DELETION: CcpaKind.DELETE,
    RequestType.CORRECTION: CcpaKind.CORRECT,
}
CSV_COLUMNS = [
    "request kind",
    "received",
    "complied with in whole or in part",
    "denied",
    "of which not verifiable",
    "withdrawn by the consumer",
    "still open",
    "median days to respond",
]


@dataclass
class KindMetrics:
    kind: CcpaKind
    received: int = 0
    complied: int = 0
    denied: int = 0
    unverifiable: int = 0
    withdrawn: int = 0
    open: int = 0
    days: Counter = field(default_factory=Counter)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def median_days(self) -> float | None:
        return median(self.days)

    def count(self, status: Status, reason: RejectionReason | None, days: int | None, n: int = 1) -> None:
        self.received += n
        if status is Status.COMPLETED:
            self.complied += n
        elif status in (Status.REJECTED, Status.EXPIRED):
            self.denied += n
            if status is Status.EXPIRED or reason is RejectionReason.UNVERIFIABLE:
                self.unverifiable += n
        elif status is Status.WITHDRAWN:
            self.withdrawn += n
        else:
            self.open += n
        if status in (Status.COMPLETED, Status.REJECTED) and days is not None:
            self.days[days] += n

    def csv_row(self) -> list[str]:
        middle = self.median_days
        return [
            self.label,
            *(
                str(n)
                for n in (self.received, self.complied, self.denied, self.unverifiable, self.withdrawn, self.open)
            ),
            "" if middle is None else f"{middle:g}",
        ]


def annual_metrics(
    session: Session,
    year: int,
    tz: ZoneInfo,
    sale_sharing_topics: frozenset[str],
    jurisdiction: str = Jurisdiction.US_CA_CCPA.value,
) -> list[KindMetrics]:
    window = Window(date(year, 1, 1), date(year, 12, 31), tz)
    offsets = window.offsets(lookback=timedelta(0))
    offsets_closed = _offsets_to_now(window)
    took = days_between(local_date(R.closed_at, offsets_closed), local_date(R.received_at, offsets)).label("days")
    received = (R.received_at >= window.since, R.received_at < window.until, R.jurisdiction == jurisdiction)
    metrics = {kind: KindMetrics(kind) for kind in CcpaKind}

    # Know, delete, correct: counted by the database, per type, outcome and days taken.
    inner = (
        select(R.request_type.label("kind"), R.status.label("status"), R.rejection_reason.label("reason"), took)
        .where(*received, R.request_type.in_(list(KIND_OF_TYPE)))
        .subquery()
    )
    grouped = select(inner.c.kind, inner.c.status, inner.c.reason, inner.c.days, func.count()).group_by(
        inner.c.kind, inner.c.status, inner.c.reason, inner.c.days
    )
    for kind, status, reason, days, n in session.execute(grouped):
        metrics[KIND_OF_TYPE[RequestType(kind)]].count(Status(status), _reason(reason), days, n)

    # Opt-outs: which topics a withdrawal named is in its form data (JSON), read here a batch at a time.
    withdrawals = select(R.status, R.rejection_reason, took, R.form_data, R.gpc).where(
        *received, R.request_type == RequestType.CONSENT_WITHDRAWAL
    )
    for status, reason, days, form_data, gpc in session.execute(withdrawals.execution_options(yield_per=1000)):
        topics = set((form_data or {}).get("consent_topics") or [])
        if gpc or topics & sale_sharing_topics:
            metrics[CcpaKind.OPT_OUT].count(Status(status), _reason(reason), days)
    return list(metrics.values())


def _offsets_to_now(window: Window):
    """Requests received in the year may be answered in the next one: offsets up to a year later."""
    return Window(window.start, window.end + timedelta(days=366), window.tz).offsets()


def _reason(value) -> RejectionReason | None:
    return RejectionReason(value) if value else None


def csv_lines(metrics: list[KindMetrics]) -> list[list[str]]:
    return [CSV_COLUMNS, *(m.csv_row() for m in metrics)]
