"""Intake, verification and status forms. Shape only: lengths, formats, choices, what a type needs."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RequestType
from dsr.domain.uploads import ACCEPTED_FILES, IncomingFile, UploadLimits, upload_problem
from dsr.domain.verification import needs_phone
from dsr.web.choices import choices

PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-.]{5,24}$"
REFERENCE_PATTERN = r"^\s*DSR-\d{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}\s*$"


def strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CorrectionEntry(Form):
    field_name = StringField("What is wrong", validators=[Optional(), Length(max=100)])
    new_value = StringField("What it should say", validators=[Optional(), Length(max=500)])


class IntakeForm(FlaskForm):
    request_type = RadioField(
        "What would you like us to do?", validators=[InputRequired("Choose what you would like us to do.")]
    )
    jurisdiction = SelectField("Where do you live?", description="This decides which privacy law and deadline apply.")
    name = StringField(
        "Your full name",
        filters=[strip],
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "Your email address",
        filters=[strip],
        validators=[DataRequired(), Email("Enter an email address like name@example.com."), Length(max=254)],
        description="We send a code here to confirm it is you, and tell you about your request.",
        render_kw={"autocomplete": "email"},
    )
    phone = TelField(
        "Mobile phone number (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=32),
            Regexp(PHONE_PATTERN, message="Enter a phone number like +44 7700 900123."),
        ],
        description="With a mobile number we can confirm it is you by text message. Deletion requests need one.",
        render_kw={"autocomplete": "tel"},
    )
    data_point = StringField(
        "Customer or account number (optional)",
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description="Another detail we hold about you helps us confirm your identity.",
    )
    details = TextAreaField("Anything else we should know (optional)", validators=[Optional(), Length(max=5000)])
    corrections = FieldList(FormField(CorrectionEntry), min_entries=3, max_entries=3)
    consent_topics = MultiCheckboxField("Which do you want us to stop?")
    purposes = MultiCheckboxField("Which processing?")
    is_agent = BooleanField("I am an authorised agent making this request for someone else")
    subject_name = StringField(
        "Full name of the person you act for", filters=[strip], validators=[Optional(), Length(max=200)]
    )
    agent_authority = TextAreaField(
        "How are you authorised to act for them?",
        validators=[Optional(), Length(max=2000)],
        description="For example a signed permission or power of attorney. We may contact the person to confirm.",
    )
    privacy_ack = BooleanField(
        "I have read the privacy notice and understand how my request will be handled",
        validators=[DataRequired("Please confirm you have read the privacy notice.")],
    )
    # A honeypot: hidden from people, filled in by bots.
    website = StringField("Leave this field empty", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Send request")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        chosen = self.request_type.data
        if chosen not in {c.value for c in self.request_type.choices}:
            return False
        request_type = RequestType(chosen)
        problems = {
            self.phone: needs_phone(request_type)
            and not self.phone.data
            and "A deletion request needs a mobile number: we text you a second code to protect your data.",
            self.consent_topics: request_type is RequestType.CONSENT_WITHDRAWAL
            and not self.consent_topics.data
            and "Choose at least one thing to stop.",
            self.purposes: request_type in (RequestType.RESTRICTION, RequestType.OBJECTION)
            and not self.purposes.data
            and "Choose at least one kind of processing.",
            self.subject_name: self.is_agent.data
            and not (self.subject_name.data or "").strip()
            and "Tell us who you are acting for.",
            self.agent_authority: self.is_agent.data
            and not (self.agent_authority.data or "").strip()
            and "Tell us how you are authorised to act for them.",
        }
        if request_type is RequestType.CORRECTION and not self.correction_pairs():
            first = self.corrections.entries[0].field_name
            first.errors = [*first.errors, "Tell us at least one thing to correct and what it should say."]
            self.corrections.errors = [entry.errors for entry in self.corrections.entries]
            valid = False
        for field, problem in problems.items():
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        return valid

    def correction_pairs(self) -> list[dict[str, str]]:
        return [
            {"field": entry.field_name.data.strip(), "value": entry.new_value.data.strip()}
            for entry in self.corrections.entries
            if (entry.field_name.data or "").strip() and (entry.new_value.data or "").strip()
        ]

    def phone_digits(self) -> str | None:
        return re.sub(r"[^\d+]", "", self.phone.data) if self.phone.data else None


def intake_form(profile: OrganisationProfile, form_class: type[IntakeForm] = IntakeForm, **kwargs) -> IntakeForm:
    """The form with this profile's choices; the API passes its own subclass and the JSON it was sent."""
    form = form_class(**kwargs)
    form.request_type.choices = choices((t.value, t.label) for t in profile.rights)
    form.jurisdiction.choices = choices((j.value, j.label) for j in profile.jurisdictions)
    form.consent_topics.choices = choices((t.key, t.label) for t in profile.consent_topics)
    form.purposes.choices = choices((p.key, p.label) for p in profile.purposes)
    if not form.is_submitted():
        form.jurisdiction.data = profile.default_jurisdiction.value
    return form


class CodeForm(FlaskForm):
    channel = HiddenField(validators=[DataRequired()])
    code = StringField(
        "6-digit code",
        validators=[DataRequired("Enter the 6-digit code."), Regexp(r"^\s*\d{6}\s*$", message="The code is 6 digits.")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8},
    )
    submit = SubmitField("Confirm")


class ResendForm(FlaskForm):
    channel = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Send me a new code")


class ConfirmLinkForm(FlaskForm):
    submit = SubmitField("Yes, this is my request")


class StatusLookupForm(FlaskForm):
    reference = StringField(
        "Request reference",
        filters=[strip],
        validators=[DataRequired(), Regexp(REFERENCE_PATTERN, message="References look like DSR-2026-7K3Q-M9XD.")],
        description="It is in the emails we sent you, for example DSR-2026-7K3Q-M9XD.",
    )
    email = EmailField("Email address you used", filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField("Email me a link")


class ReplyForm(FlaskForm):
    body = TextAreaField("Your message", validators=[Optional(), Length(max=5000)])
    attachments = MultipleFileField("Attach files (optional)", render_kw={"accept": ACCEPTED_FILES})
    submit = SubmitField("Send")

    def __init__(self, *args, limits: UploadLimits | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits  # None: the form is only shown, never checked

    def validate(self, extra_validators=None) -> bool:
        """A message, files, or both; each file a PDF, PNG or JPEG by its content, within the size limit."""
        valid = super().validate(extra_validators)
        files = self.files()
        if not (self.body.data or "").strip() and not files:
            self.body.errors = [*self.body.errors, "Write your message."]
            valid = False
        if self.limits is not None and len(files) > self.limits.max_files:
            self.attachments.errors = [f"Attach at most {self.limits.max_files} files to one message."]
            return False
        problems = [problem for upload in files if self.limits and (problem := upload_problem(upload, self.limits))]
        if problems:
            self.attachments.errors = problems
            valid = False
        return valid

    def files(self) -> list[IncomingFile]:
        return [IncomingFile(upload.filename, upload.stream) for upload in self.attachments.data or []]


class DownloadForm(FlaskForm):
    code = StringField(
        "Download code",
        validators=[
            DataRequired("Enter the 6-digit code from the email."),
            Regexp(r"^\s*\d{6}\s*$", message="The code is 6 digits."),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8},
    )
    submit = SubmitField("Download my data")


class WithdrawForm(FlaskForm):
    confirm = BooleanField("Yes, withdraw this request", validators=[DataRequired("Tick the box to confirm.")])
    submit = SubmitField("Withdraw request")


class PreferencesForm(FlaskForm):
    """One Allow / Don't allow choice per consent topic (fields `topic_<key>`, added per profile)."""

    submit = SubmitField("Save my choices")

    def topic_fields(self) -> list:
        return [field for name, field in self._fields.items() if name.startswith("topic_")]

    def chosen(self) -> dict[str, bool]:
        return {
            field.name.removeprefix("topic_"): field.data == "granted"
            for field in self.topic_fields()
            if field.data in ("granted", "withdrawn")
        }


def preferences_form(states) -> PreferencesForm:
    """The form for these TopicStates, showing each topic's current choice."""

    class Form(PreferencesForm):
        pass

    for state in states:
        field = RadioField(
            state.topic.label,
            choices=choices([("granted", "Allow"), ("withdrawn", "Don't allow")]),
            validators=[Optional()],
            validate_choice=False,
        )
        setattr(Form, f"topic_{state.topic.key}", field)
    form = Form()
    if not form.is_submitted():
        for state, field in zip(states, form.topic_fields(), strict=True):
            field.data = state.state if state.granted is not None else None
    return form
