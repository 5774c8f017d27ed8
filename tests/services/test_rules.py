from datetime import UTC, datetime

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.rules import DEFAULT_RULES, Period, Unit
from dsr.models import AuditEvent, DeadlineRule
from dsr.services.rules import load_rules, rule_for, seed_default_rules, update_rule


def test_migration_seeds_every_default_rule(session):
    assert sorted(load_rules(session), key=repr) == sorted(DEFAULT_RULES, key=repr)


def test_seeding_again_adds_nothing_and_keeps_edits(session):
    row = session.scalar(select(DeadlineRule).where(DeadlineRule.jurisdiction == "default"))
    row.respond_amount = 21
    assert seed_default_rules(session) == 0
    assert rule_for(session, "default", "access").respond_within == Period(21, Unit.DAYS)


def test_rule_update_is_audited_with_what_changed(session):
    row = session.scalar(select(DeadlineRule).where(DeadlineRule.jurisdiction == "in_dpdp"))
    spec = row.to_spec()
    from dataclasses import replace

    update_rule(
        session, Actor.system("tests"), datetime.now(UTC), row, replace(spec, respond_within=Period(60, Unit.DAYS))
    )
    session.commit()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "rules.updated"))
    assert event.details["changes"] == {"respond_within": {"from": "90 days", "to": "60 days"}}
