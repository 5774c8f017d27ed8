"""Admin → Export a data bundle: find a person by email, phone or customer id, preview what the
systems hold about them, and download their bundle ZIP there and then.

How the download streams: the bundle is written (by `write_bundle`, in constant memory) into an
anonymous temporary file, encrypted under a key that exists only in this request, and only then
sent to the browser chunk by chunk, decrypted on the way out; the file disappears when the response
closes (or the process dies: it never has a name on disk). A queue feeding the response while the
ZIP is written would start the download sooner, but this way:

- the internal request and its audit event are committed only once the bundle is complete, and a
  system that fails half-way gives the admin an error page, not a truncated ZIP and a false record;
- the organisation's databases are released before the download starts, so a slow browser never
  holds a snapshot open on a production system;
- the response carries a Content-Length, so the browser shows real progress.

Memory stays bounded either way; disk use is the size of one compressed bundle.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from flask import Response, flash, render_template
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, StringField, SubmitField, TelField
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

from dsr.domain.dataset import SubjectIdentities
from dsr.domain.errors import DomainError
from dsr.encrypted_files import EncryptingWriter, decrypt_stream
from dsr.extensions import db
from dsr.fulfilment.bundle import BundleKind
from dsr.services.exports import export_bundle, preview_export
from dsr.web.admin.views import bp
from dsr.web.choices import choices
from dsr.web.public.forms import PHONE_PATTERN, strip
from dsr.web.sessions import current_actor, dataset, now, organisation

AT_LEAST_ONE = "Enter at least one: an email address, a phone number or a customer id."
KINDS = [
    (str(BundleKind.ACCESS), "Access: everything, with a readable index.html and the facts about the processing"),
    (str(BundleKind.PORTABILITY), "Portability: the machine-readable part only (data.json and CSV)"),
]


class SearchForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[Optional(), Email("Enter an email address like name@example.com."), Length(max=254)],
    )
    phone = TelField(
        "Phone number",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=32),
            Regexp(PHONE_PATTERN, message="Enter a phone number like +44 7700 900123."),
        ],
    )
    customer_id = StringField("Customer id", filters=[strip], validators=[Optional(), Length(max=64)])
    submit = SubmitField("Find their data")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.email.data or self.phone.data or self.customer_id.data):
            self.email.errors = [*self.email.errors, AT_LEAST_ONE]
            return False
        return valid

    def identities(self) -> SubjectIdentities:
        return SubjectIdentities.of(self.email.data, self.phone.data, self.customer_id.data)


class ExportForm(SearchForm):
    """The preview's export button: the search again (as hidden fields) plus the kind of bundle."""

    kind = RadioField("Kind of bundle", default=str(BundleKind.ACCESS), validators=[InputRequired()])
    submit = SubmitField("Export bundle")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(KINDS)


@bp.route("/export", methods=["GET", "POST"])
def export():
    form = SearchForm()
    if form.validate_on_submit():  # POST, not GET: identifiers stay out of URLs and access logs
        try:
            preview = preview_export(db.session, current_actor(), now(), dataset(), form.identities())
        except DomainError as problem:
            db.session.rollback()
            flash(str(problem), "error")
        else:
            db.session.commit()
            export_form = ExportForm(formdata=None, data=form.data)
            return render_template("admin/export_preview.html", preview=preview, form=export_form)
    return render_template("admin/export.html", form=form)


@bp.post("/export/bundle")
def export_download():
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("admin/export.html", form=form), 400
    spool = EncryptedSpool()
    try:
        with spool.writing() as out:
            result = export_bundle(
                db.session,
                current_actor(),
                now(),
                out,
                dataset(),
                organisation(),
                form.identities(),
                BundleKind(form.kind.data),
            )
        db.session.commit()
    except DomainError as problem:
        db.session.rollback()
        flash(f"No bundle was exported: {problem}", "error")
        return render_template("admin/export.html", form=form)
    headers = {
        "Content-Disposition": f'attachment; filename="{result.request.reference}.zip"',
        "Content-Length": str(spool.size),
    }
    return Response(spool.chunks(), mimetype="application/zip", headers=headers)


class EncryptedSpool:
    """An anonymous temporary file holding one ZIP, encrypted under a key that lives only in this object."""

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by chunks() or on failure)
        self.size = 0  # plaintext bytes, once written

    @contextmanager
    def writing(self) -> Iterator[BinaryIO]:
        """Yields the stream to write the ZIP into; on failure the file is deleted at once."""
        writer = EncryptingWriter(self._file, self._key)  # type: ignore[arg-type]
        try:
            yield writer  # type: ignore[misc]
            self.size = writer.tell()
            writer.close()
            self._file.seek(0)
        except BaseException:
            self._file.close()
            raise

    def chunks(self) -> Iterator[bytes]:
        """The plaintext ZIP, chunk by chunk; the file goes when the response is closed."""
        try:
            yield from decrypt_stream(self._file, [self._key])  # type: ignore[arg-type]
        finally:
            self._file.close()
