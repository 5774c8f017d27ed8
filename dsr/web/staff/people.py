"""A person's page: their consents, restrictions and objections with the history of each, reached from
a request page. Staff lift a restriction or objection here, with a reason."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from dsr.domain.errors import DomainError
from dsr.encryption import InvalidToken
from dsr.extensions import db
from dsr.models import DataSubject
from dsr.services import processing
from dsr.services.casework import can_view
from dsr.services.consent_state import consent_history, flags_of, purpose_limits, topic_states
from dsr.services.propagation import jobs_of
from dsr.services.subjects import by_public_id
from dsr.web.consent import consent_setup, propagate_now, subject_keys
from dsr.web.sessions import current_actor, now, organisation
from dsr.web.staff import forms
from dsr.web.staff.views import bp


def person_or_404(subject_id: str) -> DataSubject:
    subject = by_public_id(db.session, subject_id)
    if subject is None:
        abort(404)
    return subject


def identifiers(subject: DataSubject) -> list[tuple[str, str]]:
    cipher = subject_keys().cipher
    shown = []
    for identifier in subject.identifiers:
        try:
            shown.append((identifier.kind.value, cipher.decrypt_text(identifier.value_encrypted)))
        except InvalidToken:
            shown.append((identifier.kind.value, "(unreadable: the encryption key is gone)"))
    return shown


@bp.route("/people/<subject_id>")
def person(subject_id: str):
    subject = person_or_404(subject_id)
    profile = organisation()
    history = consent_history(db.session, subject)
    flags = flags_of(db.session, subject)
    requests = {e.request for e in history if e.request} | {f.request for f in flags if f.request}
    return render_template(
        "staff/person.html",
        subject=subject,
        identifiers=identifiers(subject),
        states=topic_states(db.session, subject, profile),
        limits=[limit for limit in purpose_limits(db.session, subject, profile) if limit.flags],
        history=sorted(
            [(e.occurred_at, e.id, "consent", e) for e in history] + [(f.set_at, f.id, "flag", f) for f in flags],
            key=lambda row: (row[0], row[1]),
            reverse=True,
        ),
        flags=flags,
        jobs=jobs_of(db.session, subject),
        requests=sorted((r for r in requests if can_view(current_user, r)), key=lambda r: r.received_at, reverse=True),
        topic_labels={t.key: t.label for t in profile.consent_topics},
        purpose_labels={p.key: p.label for p in profile.purposes},
        lift_form=forms.LiftFlagForm(prefix="lift"),
    )


@bp.route("/people/<subject_id>/flags/<flag_id>/lift", methods=["POST"])
def lift_flag(subject_id: str, flag_id: str):
    subject = person_or_404(subject_id)
    flag = processing.flag_of(db.session, subject, flag_id)
    if flag is None:
        abort(404)
    form = forms.LiftFlagForm(prefix="lift")
    if not form.validate_on_submit():
        flash("Say why it is lifted (at least a sentence).", "error")
        return redirect(url_for("staff.person", subject_id=subject_id))
    try:
        processing.lift_flag(db.session, current_actor(), now(), consent_setup(), flag, form.reason.data)
        db.session.commit()
        flash("Lifted. Other systems are being told.", "success")
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused), "error")
    propagate_now()
    return redirect(url_for("staff.person", subject_id=subject_id))
