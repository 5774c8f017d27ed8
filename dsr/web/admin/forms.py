from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from dsr.domain.errors import DomainError
from dsr.domain.rules import Period


def period_text(required: bool):
    def check(form, field):
        if not field.data and not required:
            return
        try:
            Period.parse(field.data or "")
        except DomainError as exc:
            raise ValidationError(str(exc)) from None

    return check


class RuleForm(FlaskForm):
    respond_within = StringField(
        "Respond within",
        validators=[DataRequired(), Length(max=40), period_text(True)],
        description="For example '1 month', '45 days' or '15 business days'.",
    )
    extension = StringField(
        "Extension (leave empty for none)", validators=[Optional(), Length(max=40), period_text(False)]
    )
    acknowledge_within = StringField(
        "Acknowledge receipt within (leave empty for none)", validators=[Optional(), Length(max=40), period_text(False)]
    )
    pause_allowed = BooleanField("The clock may stop while waiting for the requester")
    roll_forward = BooleanField("A due date on a weekend or holiday moves to the next working day")
    extension_notice_required = BooleanField("An extension must be notified before the original due date")
    holiday_calendar = SelectField("Public holidays", validate_choice=True)
    reference = StringField("Legal reference", validators=[Length(max=200)])
    notes = TextAreaField("Notes", validators=[Length(max=2000)])
    submit = SubmitField("Save rule")
