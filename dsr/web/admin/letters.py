"""Admin: the wording of the letters staff send (acknowledgement, extension, refusals, completion…)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from dsr.domain.errors import DomainError
from dsr.domain.letters import PLACEHOLDERS
from dsr.extensions import db
from dsr.models import ResponseTemplate
from dsr.services.letters import update_template
from dsr.web.admin.views import bp
from dsr.web.sessions import current_actor, now


class TemplateForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Letter", validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 16})
    submit = SubmitField("Save template")


@bp.route("/letters")
def letters():
    rows = db.session.scalars(select(ResponseTemplate).order_by(ResponseTemplate.key)).all()
    return render_template("admin/letters.html", templates=rows)


@bp.route("/letters/<key>", methods=["GET", "POST"])
def edit_letter(key: str):
    found = db.session.scalar(select(ResponseTemplate).where(ResponseTemplate.key == key))
    if found is None:
        abort(404)
    form = TemplateForm(obj=found)
    if form.validate_on_submit():
        try:
            update_template(
                db.session, current_actor(), now(), found, form.subject.data.strip(), form.body.data.strip()
            )
            db.session.commit()
            flash("Template saved. Letters drafted from now on use it.", "success")
            return redirect(url_for("admin.letters"))
        except DomainError as problem:
            db.session.rollback()
            form.body.errors.append(str(problem))
    return render_template("admin/letter_edit.html", form=form, template=found, placeholders=PLACEHOLDERS)
