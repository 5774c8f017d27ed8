"""The requester's privacy choices: each consent topic, allowed or not, changeable at any time.

Reached like the status page (a signed status link grants this browser the request), for a request
whose identity was verified; the choices belong to the person that verification identified.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from dsr.domain.actors import Actor
from dsr.domain.consent import gpc_topics
from dsr.extensions import db, limiter
from dsr.services import consent
from dsr.services.consent_requests import subject_of_request
from dsr.services.consent_state import topic_states
from dsr.services.fulfilment import identities_of
from dsr.web.consent import consent_setup, propagate_now
from dsr.web.public.forms import preferences_form
from dsr.web.public.status import granted_request
from dsr.web.public.views import bp, gpc_signal, limit
from dsr.web.sessions import now


def honour_browser_signal(found, setup) -> None:
    """Sec-GPC: 1 from the person's browser is their opt-out of sale and sharing; nothing more is asked."""
    if not gpc_signal() or not gpc_topics(setup.profile):
        return
    subject = consent.subject_for(db.session, Actor.requester(), now(), setup, identities_of(found))
    if consent.honour_gpc(db.session, Actor.requester(), now(), setup, subject, found.reference, found):
        db.session.commit()
        propagate_now()
    else:
        db.session.rollback()


@bp.route("/my-request/<reference>/preferences", methods=["GET", "POST"])
@limiter.limit(limit("DSR_VERIFY_RATE_LIMIT"), methods=["POST"])
def preferences(reference: str):
    found = granted_request(reference)
    if found is None:
        flash("For your privacy, open your request from the link we emailed you, or ask for a new link.", "info")
        return redirect(url_for("public.check_status"))
    setup = consent_setup()
    if found.verified_at is not None:
        honour_browser_signal(found, setup)
    subject = subject_of_request(db.session, setup.keys, found)
    states = topic_states(db.session, subject, setup.profile)
    form = preferences_form(states)
    if found.verified_at is not None and form.validate_on_submit():
        subject = subject or consent.subject_for(db.session, Actor.requester(), now(), setup, identities_of(found))
        changed = consent.change_consents(
            db.session, Actor.requester(), now(), setup, subject, form.chosen(), request=found
        )
        db.session.commit()
        propagate_now()
        flash(
            f"Saved. {len(changed)} choice{'' if len(changed) == 1 else 's'} changed."
            if changed
            else "Nothing changed.",
            "success",
        )
        return redirect(url_for("public.preferences", reference=reference))
    return render_template("public/preferences.html", request_=found, states=states, form=form, gpc=gpc_signal())
