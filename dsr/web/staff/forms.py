"""Staff forms: queue filters (GET), and one small form per case action (POST, CSRF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from dsr.domain.lifecycle import Status
from dsr.domain.requests import JURISDICTION_LABELS, REQUEST_TYPE_LABELS, RejectionReason
from dsr.web.choices import QuickSelect, choices


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: filters are shareable links

    status = SelectField(
        "Status",
        choices=choices([("open", "All open"), *[(s.value, s.label) for s in Status], ("all", "Everything")]),
        default="open",
        validate_choice=False,
        widget=QuickSelect(),
    )
    request_type = SelectField(
        "Type",
        choices=choices([("", "Any type"), *[(t.value, label) for t, label in REQUEST_TYPE_LABELS.items()]]),
        default="",
        validate_choice=False,
        widget=QuickSelect(),
    )
    jurisdiction = SelectField(
        "Jurisdiction",
        choices=choices([("", "Anywhere"), *[(j.value, label) for j, label in JURISDICTION_LABELS.items()]]),
        default="",
        validate_choice=False,
        widget=QuickSelect(),
    )
    assignee = SelectField("Assignee", default="", validate_choice=False, widget=QuickSelect())
    overdue = BooleanField("Overdue only")
    q = StringField(
        "Search",
        validators=[Optional(), Length(max=254)],
        description="A reference, an email address or the start of a name.",
    )
    submit = SubmitField("Filter")


class BulkAssignForm(FlaskForm):
    references = SelectMultipleField("Requests", choices=[], validate_choice=False)
    # Its own id: the filter form above it on the queue page has an "assignee" picker too.
    assignee = SelectField("Assign to", validate_choice=False, widget=QuickSelect(), id="bulk-assignee")
    submit = SubmitField("Assign selected", id="bulk-submit")


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", validate_choice=False)
    submit = SubmitField("Assign")


class ButtonForm(FlaskForm):
    """Actions that need nothing but a click (and the CSRF token)."""

    submit = SubmitField("Go")


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Internal note",
        validators=[DataRequired("Write the note."), Length(max=5000)],
        description="Only staff see notes.",
    )
    submit = SubmitField("Add note")


class LetterForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        "Letter", validators=[DataRequired("The letter is empty."), Length(max=20000)], render_kw={"rows": 14}
    )
    submit = SubmitField("Send")


class ExtendForm(LetterForm):
    reason = TextAreaField(
        "Why more time is needed",
        validators=[DataRequired("Give the reason the requester will read."), Length(max=2000)],
        description="Goes into the letter where it says {reason}.",
    )
    submit = SubmitField("Extend and notify the requester")


class RejectForm(LetterForm):
    reason_code = SelectField(
        "Reason", choices=choices((r.value, r.value.replace("_", " ").capitalize()) for r in RejectionReason)
    )
    submit = SubmitField("Reject and send the letter")


class TaskForm(FlaskForm):
    note = TextAreaField("What you found or did", validators=[DataRequired(), Length(min=3, max=5000)])
    submit = SubmitField("Confirm task")


class ManualVerifyForm(FlaskForm):
    note = TextAreaField(
        "How did you verify the person?",
        validators=[DataRequired(), Length(min=10, max=2000)],
        description="For example: 'Called back on the number on file and confirmed date of birth.'",
    )
    submit = SubmitField("Mark identity verified")


class JurisdictionForm(FlaskForm):
    jurisdiction = SelectField("Jurisdiction", choices=choices(JURISDICTION_LABELS.items()))
    submit = SubmitField("Change and recompute the due date")


class ConfidentialForm(FlaskForm):
    confidential = BooleanField("Confidential: only admins and the assignee can see it")
    submit = SubmitField("Save")


class DuplicateForm(FlaskForm):
    original = StringField("Duplicate of (reference; leave empty to clear)", validators=[Optional(), Length(max=24)])
    submit = SubmitField("Save link")


class LiftFlagForm(FlaskForm):
    reason = TextAreaField(
        "Why it is lifted",
        validators=[DataRequired("Say why it is lifted."), Length(min=10, max=2000)],
        description="For example: the accuracy check is finished, or the objection was weighed and overridden.",
    )
    submit = SubmitField("Lift")
