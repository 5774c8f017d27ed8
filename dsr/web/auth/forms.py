from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Regexp


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Email(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=1024)], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField("Sign in")


class TotpForm(FlaskForm):
    code = StringField(
        "6-digit code from your authenticator app",
        validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="Enter the 6 digits your app shows.")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 7},
    )
    submit = SubmitField("Continue")
