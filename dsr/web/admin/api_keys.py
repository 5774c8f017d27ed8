"""Admin → API keys: create a key for another system (shown once), see when each was last used, revoke one."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from dsr.domain.api import Scope
from dsr.domain.errors import DomainError
from dsr.encryption import derived_key
from dsr.extensions import db
from dsr.models import ApiKey
from dsr.services.api_keys import api_keys, create_api_key, revoke_api_key
from dsr.web.admin.views import bp
from dsr.web.choices import choices
from dsr.web.public.forms import MultiCheckboxField
from dsr.web.sessions import current_actor, now


class ApiKeyForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Name the system that will use the key."), Length(max=100)],
        description="The system that will use it, for example “Support desk (Zendesk)”.",
    )
    scopes = MultiCheckboxField("What it may do", validators=[DataRequired("Choose at least one scope.")])
    submit = SubmitField("Create key")


class RevokeForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


def key_form(**kwargs) -> ApiKeyForm:
    form = ApiKeyForm(**kwargs)
    form.scopes.choices = choices((s.value, f"{s.value}: {s.label}") for s in Scope)
    return form


def render(form: ApiKeyForm, created: tuple[ApiKey, str] | None = None):
    return render_template(
        "admin/api_keys.html", keys=api_keys(db.session), form=form, revoke=RevokeForm(), created=created
    )


@bp.route("/api-keys", methods=["GET", "POST"])
def api_keys_page():
    form = key_form()
    if not form.validate_on_submit():
        return render(form)
    hash_key = derived_key(current_app.config, "api_hash")
    scopes = [Scope(value) for value in form.scopes.data]
    key, secret = create_api_key(db.session, current_actor(), now(), hash_key, form.name.data, scopes)
    db.session.commit()
    # Rendered, not redirected: the key must not travel through the session cookie or the history.
    return render(key_form(formdata=None), created=(key, secret))


@bp.route("/api-keys/<key_id>/revoke", methods=["POST"])
def revoke_api_key_page(key_id: str):
    key = db.session.scalar(select(ApiKey).where(ApiKey.public_id == key_id))
    if key is None:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        revoke_api_key(db.session, current_actor(), now(), key)
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"“{key.name}” ({key.shown_as}) is revoked: calls with it are refused from now on.", "success")
    return redirect(url_for("admin.api_keys_page"))
