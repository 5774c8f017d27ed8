"""Admin → Webhooks: the systems told about status and consent changes, their secrets, and what was sent.

A generated secret is shown once, on the page the POST renders (never through a redirect); an admin
may instead paste a secret the receiving system gave them.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from dsr.domain.api import WebhookEvent
from dsr.domain.errors import DomainError
from dsr.encryption import current_cipher
from dsr.extensions import db
from dsr.models import WebhookSubscriber
from dsr.services import webhook_subscribers as service
from dsr.web.admin.views import bp
from dsr.web.choices import choices
from dsr.web.public.forms import MultiCheckboxField, strip
from dsr.web.sessions import current_actor, now

LOG_PAGE = 50
SECRET_CHOICES = [("generate", "Generate a secret (shown once)"), ("set", "Use a secret the receiving system gave me")]


class SecretFields(FlaskForm):
    secret_choice = RadioField("Secret", default="generate")
    secret = StringField(
        "Their secret", filters=[strip], validators=[Optional(), Length(min=service.SECRET_MIN_LENGTH, max=200)]
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.secret_choice.data == "set" and not self.secret.data:
            self.secret.errors = [*self.secret.errors, "Paste the secret, or choose to generate one."]
            return False
        return valid


class SubscriberForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=100)])
    url = StringField(
        "Address",
        filters=[strip],
        validators=[DataRequired(), Length(max=1000), Regexp(r"^https?://\S+$", message="Start with https://.")],
        description="Deliveries are POSTed here. Use https:// outside a private network.",
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    events = MultiCheckboxField("Events", validators=[DataRequired("Choose at least one kind of event.")])
    include_identifiers = BooleanField(
        "May receive identifiers: consent events also carry the person's verified email and phone",
        description="Leave off unless the system must find the person by email or phone to honour the change.",
    )
    active = BooleanField("Active (inactive subscribers get no new events)", default=True)
    submit = SubmitField("Save")


class NewSubscriberForm(SubscriberForm, SecretFields):
    submit = SubmitField("Add subscriber")


class SecretForm(SecretFields):
    submit = SubmitField("Replace the secret")


def prepared(form: FlaskForm) -> FlaskForm:
    if "events" in form:
        form.events.choices = choices((e.value, f"{e.value}: {e.label}") for e in WebhookEvent)
    if "secret_choice" in form:
        form.secret_choice.choices = choices(SECRET_CHOICES)
    return form


def settings_from(form: SubscriberForm) -> service.SubscriberSettings:
    return service.SubscriberSettings(
        name=form.name.data,
        url=form.url.data,
        events=frozenset(WebhookEvent(value) for value in form.events.data),
        include_identifiers=form.include_identifiers.data,
        active=form.active.data,
    )


def chosen_secret(form: SecretFields) -> tuple[str, str | None]:
    """The secret to store, and the same again when it was generated here (to show once)."""
    if form.secret_choice.data == "set":
        return form.secret.data, None
    secret = service.new_secret()
    return secret, secret


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks():
    form = prepared(NewSubscriberForm())
    if form.validate_on_submit():
        secret, shown = chosen_secret(form)
        try:
            added = service.create_subscriber(
                db.session, current_actor(), now(), current_cipher(), settings_from(form), secret
            )
        except DomainError as exc:
            form.url.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"“{added.name}” will receive the events chosen.", "success")
            if shown is None:
                return redirect(url_for("admin.webhook_subscriber", subscriber_id=added.public_id))
            return subscriber_page(added, shown=shown)  # rendered, not redirected: the secret is shown once
    return render_template("admin/webhooks.html", subscribers=service.subscribers(db.session), form=form)


def subscriber_or_404(subscriber_id: str) -> WebhookSubscriber:
    found = service.by_public_id(db.session, subscriber_id)
    if found is None:
        abort(404)
    return found


@bp.route("/webhooks/<subscriber_id>", methods=["GET", "POST"])
def webhook_subscriber(subscriber_id: str):
    subscriber = subscriber_or_404(subscriber_id)
    form = prepared(SubscriberForm(obj=subscriber))
    if form.validate_on_submit():
        try:
            service.update_subscriber(db.session, current_actor(), now(), subscriber, settings_from(form))
        except DomainError as exc:
            form.url.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("admin.webhook_subscriber", subscriber_id=subscriber.public_id))
    return subscriber_page(subscriber, form=form)


@bp.route("/webhooks/<subscriber_id>/secret", methods=["POST"])
def webhook_secret(subscriber_id: str):
    subscriber = subscriber_or_404(subscriber_id)
    form = prepared(SecretForm())
    if not form.validate_on_submit():
        return subscriber_page(subscriber, secret_form=form)
    secret, shown = chosen_secret(form)
    service.replace_secret(db.session, current_actor(), now(), current_cipher(), subscriber, secret)
    db.session.commit()
    flash("The secret is replaced: every delivery from now on, retries included, is signed with it.", "success")
    return subscriber_page(subscriber, shown=shown)


def subscriber_page(
    subscriber: WebhookSubscriber,
    form: SubscriberForm | None = None,
    secret_form: SecretForm | None = None,
    shown: str | None = None,
):
    before = request.args.get("before", type=int)
    rows = service.deliveries(db.session, subscriber, LOG_PAGE + 1, before)
    return render_template(
        "admin/webhook_subscriber.html",
        subscriber=subscriber,
        form=form or prepared(SubscriberForm(formdata=None, obj=subscriber)),
        secret_form=secret_form or prepared(SecretForm(formdata=None)),
        shown_secret=shown,
        deliveries=rows[:LOG_PAGE],
        older=rows[LOG_PAGE - 1].id if len(rows) > LOG_PAGE else None,
        paged=bool(before),
    )
