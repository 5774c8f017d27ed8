"""The consent ledger: withdrawal requests take effect at once, every channel records its evidence, and the
state is the same whichever order the events arrive in."""

import itertools
from datetime import timedelta

from sqlalchemy import func, select

from dsr.domain.actors import Actor
from dsr.domain.consent import ConsentSource
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.models import AuditEvent, ConsentEvent, DataSubject, SubjectIdentifier
from dsr.services import consent, intake
from dsr.services.consent_state import consent_state_for, topic_states
from dsr.services.propagation import run_due
from dsr.services.subjects import find_subject
from dsr.sources.demo_crm import ASHA
from tests.factories import outbox_texts
from tests.services.consent_fixtures import DRAFTS, LINKS, SETTINGS, T0, crm_statuses, file_request

T1 = T0 + timedelta(minutes=7)
SYSTEM = Actor.system("tests")


def states(session, setup, subject) -> dict[str, tuple]:
    return {
        s.topic.key: (s.state, s.event.source if s.event else None)
        for s in topic_states(session, subject, setup.profile)
    }


def test_a_withdrawal_request_completes_on_verification_and_the_crm_opt_in_column_turns_withdrawn(
    session, setup, environ, crm
):
    request = file_request(session, RequestType.CONSENT_WITHDRAWAL, ASHA.email, {"consent_topics": ["marketing_email"]})
    step = intake.prove_factor(session, T1, request, Factor.EMAIL, SETTINGS, LINKS, DRAFTS, setup)
    session.commit()
    assert step is intake.NextStep.COMPLETED
    assert request.status is Status.COMPLETED and request.closed_at == T1
    (event,) = session.scalars(select(ConsentEvent)).all()
    assert (event.topic, event.granted, event.source) == ("marketing_email", False, ConsentSource.FORM)
    assert event.occurred_at == T0 and event.recorded_at == T1  # when the person asked; when it was confirmed
    assert event.evidence_ref == request.reference and event.request_id == request.id
    (confirmation,) = outbox_texts(session, template="letter")  # instead of the acknowledgement
    assert confirmation.startswith(f"completion.consent_withdrawal for {request.reference}")

    assert run_due(session, T1, setup, environ=environ).done == 1
    session.commit()
    assert crm_statuses(crm, ASHA.email, ASHA.phone) == {
        "email": "withdrawn",
        "sms": "granted",
        "whatsapp": "granted",
        "phone": "granted",
    }
    assert run_due(session, T1, setup, environ=environ).done == 0  # nothing left to do


def test_other_requests_are_only_acknowledged_on_verification(session, setup):
    request = file_request(session, RequestType.OBJECTION, ASHA.email, {"purposes": ["marketing"]})
    assert intake.prove_factor(session, T1, request, Factor.EMAIL, SETTINGS, LINKS, DRAFTS, setup).value == "verified"
    assert request.status is Status.VERIFIED
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_gpc_sent_with_a_request_is_an_opt_out_of_sale_and_sharing_once_the_person_is_identified(session, setup):
    request = file_request(session, RequestType.OBJECTION, ASHA.email, {"purposes": ["marketing"]}, gpc=True)
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0  # not before verification
    intake.prove_factor(session, T1, request, Factor.EMAIL, SETTINGS, LINKS, DRAFTS, setup)
    (event,) = session.scalars(select(ConsentEvent)).all()
    assert (event.topic, event.granted, event.source) == ("sale_sharing", False, ConsentSource.GPC)
    assert event.evidence == {"header": "Sec-GPC: 1"} and event.evidence_ref == request.reference


EVENTS = [
    ("marketing_email", True, T0, ConsentSource.API, "crm-1"),
    ("marketing_email", False, T0 + timedelta(days=2), ConsentSource.UNSUBSCRIBE_LINK, "<m1@acme.example>"),
    ("marketing_email", True, T0 + timedelta(days=1), ConsentSource.FORM, None),
    ("marketing_sms", False, T0 + timedelta(days=1), ConsentSource.SMS_KEYWORD, "sms:SM1"),
    ("marketing_sms", True, T0 + timedelta(days=1), ConsentSource.API, "crm-2"),  # the same instant: withdrawal wins
]


def test_the_state_is_the_same_whichever_order_the_events_arrive_in(session, setup):
    results = set()
    for number, order in enumerate(itertools.permutations(EVENTS)):
        subject = consent.subject_for(session, SYSTEM, T0, setup, SubjectIdentities.of(email=f"p{number}@example.org"))
        for arrival, (topic, granted, occurred_at, source, ref) in enumerate(order):
            recorded_at = T0 + timedelta(days=3, minutes=arrival)
            consent.record_consent(
                session, SYSTEM, recorded_at, setup, subject, topic, granted, source, occurred_at, ref
            )
        results.add(tuple(sorted(states(session, setup, subject).items())))
    assert len(list(itertools.permutations(EVENTS))) == 120
    (only,) = results
    assert dict(only)["marketing_email"] == ("withdrawn", ConsentSource.UNSUBSCRIBE_LINK)
    assert dict(only)["marketing_sms"] == ("withdrawn", ConsentSource.SMS_KEYWORD)
    assert dict(only)["personalisation"] == ("no_record", None)


def test_the_same_evidence_is_recorded_once(session, setup):
    subject = consent.subject_for(session, SYSTEM, T0, setup, SubjectIdentities.of(email=ASHA.email))
    first = consent.record_consent(
        session, SYSTEM, T0, setup, subject, "marketing_sms", False, ConsentSource.SMS_KEYWORD, T0, "sms:SM9"
    )
    again = consent.record_consent(
        session, SYSTEM, T1, setup, subject, "marketing_sms", False, ConsentSource.SMS_KEYWORD, T1, "sms:SM9"
    )
    assert first is not None and again is None
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 1


def test_an_unsubscribe_link_used_twice_withdraws_once_but_counts_again_after_a_regrant(session, setup):
    for moment in (T0, T0 + timedelta(seconds=2)):
        consent.unsubscribe(session, moment, setup, ASHA.email, "marketing_email", "<m1@acme.example>")
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 1
    subject = find_subject(session, setup.keys, SubjectIdentities.of(email=ASHA.email))
    consent.change_consents(session, Actor.requester(), T1, setup, subject, {"marketing_email": True})
    assert states(session, setup, subject)["marketing_email"] == ("granted", ConsentSource.FORM)
    consent.unsubscribe(session, T1 + timedelta(days=1), setup, ASHA.email, "marketing_email", "<m1@acme.example>")
    assert states(session, setup, subject)["marketing_email"] == ("withdrawn", ConsentSource.UNSUBSCRIBE_LINK)
    refs = session.scalars(select(ConsentEvent.evidence_ref).where(ConsentEvent.evidence_ref.is_not(None))).all()
    assert sorted(refs) == ["<m1@acme.example>", "<m1@acme.example>#2"]


def test_stop_withdraws_the_keyword_topics_for_that_number_and_reaches_the_crm(session, setup, environ, crm):
    topics = consent.stop_by_keyword(session, T0, setup, "+91 98450-12345", "Stop", "sms:SM1")
    session.commit()
    assert topics == ["marketing_sms", "marketing_whatsapp"]
    assert consent.stop_by_keyword(session, T0, setup, "+919845012345", "hello", "sms:SM2") == []
    run_due(session, T0, setup, environ=environ)
    session.commit()
    assert crm_statuses(crm, ASHA.email, ASHA.phone) == {
        "email": "granted",
        "sms": "withdrawn",
        "whatsapp": "withdrawn",
        "phone": "granted",
    }


def test_identifiers_are_kept_as_keyed_hashes_and_encrypted_values(session, setup):
    consent.stop_by_keyword(session, T0, setup, "+91 98450 12345", "STOP", "sms:SM1")
    (identifier,) = session.scalars(select(SubjectIdentifier)).all()
    assert "919845012345" not in identifier.digest + identifier.value_encrypted
    assert setup.keys.cipher.decrypt_text(identifier.value_encrypted) == "919845012345"


def test_an_email_record_and_a_phone_record_merge_when_one_verification_proves_both(session, setup):
    consent.stop_by_keyword(session, T0, setup, ASHA.phone, "STOP", "sms:SM1")
    consent.unsubscribe(session, T0 + timedelta(hours=1), setup, ASHA.email, "marketing_email", "<m1@acme.example>")
    assert session.scalar(select(func.count()).select_from(DataSubject)) == 2
    both = SubjectIdentities.of(email=ASHA.email, phone=ASHA.phone)
    merged = consent.subject_for(session, SYSTEM, T1, setup, both)
    assert session.scalar(select(func.count()).select_from(DataSubject)) == 1
    assert {i.kind.value for i in merged.identifiers} == {"email", "phone"}
    by_phone = consent_state_for(session, setup.keys, setup.profile, phone="919845012345")
    by_email = consent_state_for(session, setup.keys, setup.profile, email=" ASHA.VERMA@example.com")
    assert [s.as_dict() for s in by_phone] == [s.as_dict() for s in by_email]
    withdrawn = {s.topic.key for s in by_email if s.state == "withdrawn"}
    assert withdrawn == {"marketing_email", "marketing_sms", "marketing_whatsapp"}
    assert session.scalar(select(func.count()).where(AuditEvent.action == "subject.merged")) == 1


def test_the_api_answers_no_record_for_someone_unknown(session, setup):
    answer = consent_state_for(session, setup.keys, setup.profile, email="nobody@example.org")
    assert {s.as_dict()["state"] for s in answer} == {"no_record"}
    assert [s.topic.key for s in answer] == [t.key for t in setup.profile.consent_topics]
