from datetime import UTC, datetime

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.requests import RequestType
from dsr.domain.rules import DEFAULT_RULES, Period, Unit, find_rule
from dsr.models import AuditEvent, DeadlineRule
from dsr.services.rules import load_rules, rule_for, seed_default_rules, update_rule


def test_migration_seeds_every_default_rule(session):
    assert sorted(load_rules(session), key=repr) == sorted(DEFAULT_RULES, key=repr)


def test_seeding_again_adds_nothing_and_keeps_edits(session):
    row = session.scalar(select(DeadlineRule).where(DeadlineRule.jurisdiction == "default"))
    row.respond_amount = 21
    assert seed_default_rules(session) == 0
    assert rule_for(session, "default", "access").respond_within == Period(21, Unit.DAYS)


def test_rule_for_reads_the_rule_find_rule_picks_from_the_whole_table(session):
    # rule_for reads only the candidate rows; for every jurisdiction and type (and a jurisdiction with
    # no rules of its own) it must land on the rule the whole table gives.
    ccpa_restriction = (DeadlineRule.jurisdiction == "us_ca_ccpa", DeadlineRule.request_type == "restriction")
    row = session.scalar(select(DeadlineRule).where(*ccpa_restriction))
    row.respond_amount = 44  # an edit in this session, not yet flushed, counts
    everything = load_rules(session)
    jurisdictions = {rule.jurisdiction for rule in everything} | {"nowhere"}
    for jurisdiction in sorted(jurisdictions):
        for request_type in RequestType:
            expected = find_rule(everything, jurisdiction, request_type.value)
            assert rule_for(session, jurisdiction, request_type.value) == expected, (jurisdiction, request_type)
    assert rule_for(session, row.jurisdiction, row.request_type).respond_within.amount == 44


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
