"""The second baseline for the intake benchmark: the least any intake endpoint could do with the same POST.

A Flask-WTF form (CSRF checked, the same fields validated: a choice, a name, an email address, the
privacy box) and one row committed to the same database as DSR Desk's, through the same SQLAlchemy
engine settings (SQLite: WAL, synchronous=NORMAL, a busy timeout; servers: pre-ping), then a redirect.
No deadline, no audit chain, no verification code, no email: what is left of the ratio to the bare
endpoint at this floor is the price of saving anything at all, which no intake can avoid.
"""

from __future__ import annotations

import os

from flask import Flask, redirect
from flask_wtf import CSRFProtect, FlaskForm
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, insert
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["DSR_SECRET_KEY"]
CSRFProtect(app)

URL = os.environ["DSR_DATABASE_URL"]
engine = create_engine(URL, pool_pre_ping=not URL.startswith("sqlite"))
if URL.startswith("sqlite"):

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


floor = Table(
    "bench_floor",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("request_type", String(40)),
    Column("name", String(200)),
    Column("email", String(254)),
)
SAVE = insert(floor)


class FloorForm(FlaskForm):
    request_type = RadioField(choices=["access", "objection"], validators=[InputRequired()])
    jurisdiction = SelectField(choices=["eu_gdpr", "uk_gdpr"])
    name = StringField(validators=[DataRequired(), Length(max=200)])
    email = EmailField(validators=[DataRequired(), Email(), Length(max=254)])
    privacy_ack = BooleanField(validators=[DataRequired()])


@app.route("/request", methods=["GET", "POST"])
def floor_request():
    form = FloorForm()
    if form.validate_on_submit():
        with engine.begin() as connection:
            connection.execute(
                SAVE, {"request_type": form.request_type.data, "name": form.name.data, "email": form.email.data}
            )
        return redirect("/request/received")
    if form.is_submitted():
        return f"refused: {form.errors}", 400  # wrk counts it as a failure, so a broken floor cannot look fast
    return f'<input name="csrf_token" type="hidden" value="{form.csrf_token.current_token}">'


def create_table() -> None:
    floor.create(engine, checkfirst=True)
