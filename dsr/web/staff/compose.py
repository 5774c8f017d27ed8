"""Actions that send the requester a letter: staff start from the template, edit, then send."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template, request
from flask_login import current_user

from dsr.domain.requests import RejectionReason
from dsr.extensions import db
from dsr.models import DataSubjectRequest
from dsr.services import casework, letters
from dsr.web.consent import consent_setup, propagate_now
from dsr.web.public.requester import links
from dsr.web.sessions import bundle_policy, clock, current_actor, now, organisation
from dsr.web.staff import forms
from dsr.web.staff.actions import actionable, run
from dsr.web.staff.views import bp


@dataclass(frozen=True)
class Compose:
    title: str
    form: type[forms.LetterForm]
    done: str


COMPOSE = {
    "message": Compose("Message the requester", forms.LetterForm, "Message sent."),
    "request-info": Compose(
        "Ask for more information", forms.LetterForm, "Sent. The request now waits for the requester."
    ),
    "extend": Compose("Extend the deadline", forms.ExtendForm, "Deadline extended; the requester has been told."),
    "reject": Compose("Reject the request", forms.RejectForm, "Request rejected; the letter is on its way."),
    "complete": Compose("Complete the request", forms.LetterForm, "Request completed; the requester has been told."),
}


def template_key(action: str, found: DataSubjectRequest, reason: str) -> str:
    return {
        "message": "message",
        "request-info": "request_information",
        "extend": "extension",
        "reject": f"rejection.{reason}",
        "complete": f"completion.{found.request_type.value}",
    }[action]


@bp.route(
    "/requests/<reference>/<any(message, 'request-info', extend, reject, complete):action>", methods=["GET", "POST"]
)
def compose(reference: str, action: str):
    found = actionable(reference)
    spec = COMPOSE[action]
    reason = request.args.get("reason", "other")
    if reason not in RejectionReason.__members__.values():
        abort(404)
    form = spec.form()
    if isinstance(form, forms.RejectForm) and not form.is_submitted():
        form.reason_code.data = reason
    if form.validate_on_submit():
        response = run(found, spec.done, lambda: send(action, found, form))
        propagate_now()
        return response
    if not form.is_submitted():
        # Extension letters keep {reason} and {due_date} until sending, when both are known.
        draft = letters.draft(
            db.session,
            template_key(action, found, reason),
            found,
            organisation(),
            clock(),
            keep=("reason", "due_date") if action == "extend" else (),
        )
        form.subject.data, form.body.data = draft.subject, draft.body
    return render_template(
        "staff/compose.html",
        r=found,
        form=form,
        spec=spec,
        action=action,
        reason=reason,
        can_act=casework.can_act(current_user, found),
    )


def send(action: str, found: DataSubjectRequest, form: forms.LetterForm) -> None:
    session, actor, moment, subject, body = db.session, current_actor(), now(), form.subject.data, form.body.data
    if action == "message":
        letters.send_letter(session, actor, moment, found, subject, body, links())
    elif action == "request-info":
        casework.request_information(session, actor, moment, found, clock(), subject, body, links())
    elif action == "extend":
        casework.extend(session, actor, moment, found, clock(), form.reason.data, subject, body, links())
    elif action == "reject":
        casework.reject(session, actor, moment, found, RejectionReason(form.reason_code.data), subject, body, links())
    else:
        casework.complete(session, actor, moment, found, subject, body, links(), bundle_policy(), consent_setup())
