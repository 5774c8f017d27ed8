"""Admin → Data inventory: the systems of the dataset file (DSR_DATASET), what each field is and what
erasure does to it, and a connection test for databases.

Secrets never reach these pages: URLs are shown as declared (a dataset file may not hold a password,
only ${VARIABLES}), a webhook's signing secret only by the name of its variable, and connection
errors come from `test_connection`, which blots out passwords.
"""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from dsr.domain.dataset import DATA_CATEGORIES, Dataset, DatasetError, Erasure, System, SystemKind, variables_in
from dsr.extensions import db
from dsr.services.inventory import check_connection
from dsr.web.admin.views import bp
from dsr.web.sessions import current_actor, dataset, now, organisation

KIND_LABELS = {
    SystemKind.SQL: "Database, queried by DSR Desk",
    SystemKind.MANUAL: "Checked by a person",
    SystemKind.WEBHOOK: "Webhook: sent a signed job",
}
ERASURE_LABELS = {
    Erasure.DELETE_ROW: "Delete the row",
    Erasure.NULL: "Empty the field",
    Erasure.HASH: "Replace with a hash",
    Erasure.REDACT: "Redact",
    Erasure.RETAIN: "Keep",
}
IDENTITY_LABELS = {"email": "Email address", "phone": "Phone number", "customer_id": "Customer id"}
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)([^/@\s]+)(@)")
_ONLY_A_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


class ConnectionTestForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


@bp.route("/systems")
def systems():
    path = current_app.config["DSR_DATASET"]
    try:
        inventory = dataset()
    except DatasetError as problem:
        return render_template("admin/systems.html", path=path, systems=(), problems=problem.problems)
    return render_template(
        "admin/systems.html", path=path, systems=inventory.systems, problems=(), kind_labels=KIND_LABELS
    )


@bp.route("/systems/<system_key>")
def system(system_key: str):
    found = _system(system_key)
    return render_template(
        "admin/system.html",
        system=found,
        url=shown_url(found.url),
        form=ConnectionTestForm(),
        kind_label=KIND_LABELS[found.kind],
        categories=DATA_CATEGORIES,
        purposes={p.key: p.label for p in organisation().purposes},
        erasure_labels=ERASURE_LABELS,
        identity_labels=IDENTITY_LABELS,
        secret_variables=[name for name, _ in variables_in(found.secret)],
    )


@bp.post("/systems/<system_key>/connection-test")
def system_connection_test(system_key: str):
    found = _system(system_key)
    if found.kind is not SystemKind.SQL or not ConnectionTestForm().validate_on_submit():
        abort(400)
    check = check_connection(db.session, current_actor(), now(), found)
    db.session.commit()
    flash(check.message, "success" if check.ok else "error")
    return redirect(url_for("admin.system", system_key=found.key))


def shown_url(url: str) -> str:
    """The URL as declared, but with any literal password blotted out (the file check misses some, e.g. with a $)."""

    def blot(match: re.Match) -> str:
        password = match.group(2)
        return match.group(0) if _ONLY_A_VARIABLE.fullmatch(password) else f"{match.group(1)}***{match.group(3)}"

    return _URL_PASSWORD.sub(blot, url)


def _system(key: str) -> System:
    """The system with this key, or 404 (a dataset file that does not load sends you to the list)."""
    try:
        inventory: Dataset = dataset()
    except DatasetError:
        abort(redirect(url_for("admin.systems")))
    try:
        return inventory.system(key)
    except StopIteration:
        abort(404)
