"""Reading, seeding and editing the legal clock's rules table."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.rules import ANY_TYPE, DEFAULT_JURISDICTION, DEFAULT_RULES, find_rule
from dsr.domain.rules import DeadlineRule as RuleSpec
from dsr.models import DeadlineRule
from dsr.models.rules import rule_spec
from dsr.services.audit import record_event


def load_rules(session: Session) -> list[RuleSpec]:
    return [row.to_spec() for row in session.scalars(select(DeadlineRule))]


# Only the rows find_rule can choose from (at most three: the type's own rule, the jurisdiction's
# catch-all and the default catch-all), as plain rows. Read on every new request and every clock
# change (never cached: an admin's edit applies to the next due date in every process), so the
# statement is built once and no ORM objects are made.
_CANDIDATES = select(*DeadlineRule.__table__.c).where(
    or_(
        and_(
            DeadlineRule.jurisdiction == bindparam("jurisdiction"),
            DeadlineRule.request_type.in_([bindparam("request_type"), ANY_TYPE]),
        ),
        and_(DeadlineRule.jurisdiction == DEFAULT_JURISDICTION, DeadlineRule.request_type == ANY_TYPE),
    )
)


def rule_for(session: Session, jurisdiction: str, request_type: str) -> RuleSpec:
    session.flush()  # a rule edited in this session counts; then a plain Core read (no ORM execution path)
    rows = session.connection().execute(_CANDIDATES, {"jurisdiction": jurisdiction, "request_type": request_type})
    return find_rule([rule_spec(row) for row in rows], jurisdiction, request_type)


def seed_default_rules(session: Session) -> int:
    """Insert the default rules that are missing; existing (possibly edited) rows stay as they are."""
    existing = {(r.jurisdiction, r.request_type) for r in session.scalars(select(DeadlineRule))}
    missing = [spec for spec in DEFAULT_RULES if (spec.jurisdiction, spec.request_type) not in existing]
    session.add_all(DeadlineRule.from_spec(spec) for spec in missing)
    session.flush()
    return len(missing)


def update_rule(session: Session, actor: Actor, now: datetime, row: DeadlineRule, spec: RuleSpec) -> None:
    before = _readable(row.to_spec())
    row.apply(spec)
    after = _readable(row.to_spec())
    changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    if changed:
        record_event(
            session, actor, "rules.updated", now, rule=f"{row.jurisdiction}/{row.request_type}", changes=changed
        )
    session.flush()


def _readable(spec: RuleSpec) -> dict[str, str]:
    return {f.name: "none" if getattr(spec, f.name) is None else str(getattr(spec, f.name)) for f in fields(spec)}
