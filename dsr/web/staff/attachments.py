"""Staff download a file a requester attached: decrypted as it streams, never shown in the browser."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, current_app, stream_with_context

from dsr.domain.uploads import ascii_name
from dsr.encryption import current_cipher
from dsr.extensions import db
from dsr.services.attachments import UploadStore, attachment_of
from dsr.services.audit import record_event
from dsr.web.sessions import current_actor, now
from dsr.web.staff.actions import actionable
from dsr.web.staff.views import bp

# A file opened by mistake in the browser must not run anything, nor be sniffed as something else.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


@bp.route("/requests/<reference>/attachments/<attachment_id>")
def attachment(reference: str, attachment_id: str):
    found = actionable(reference)
    attached = attachment_of(db.session, found, attachment_id)
    store = UploadStore.from_config(current_app.config, current_cipher())
    if attached is None or not store.exists(attached.file_name):
        abort(404)
    record_event(db.session, current_actor(), "attachment.downloaded", now(), found, attachment=attached.public_id)
    db.session.commit()
    disposition = f"attachment; filename=\"{ascii_name(attached.display_name)}\"; filename*=UTF-8''" + quote(
        attached.display_name, safe=""
    )
    return Response(
        stream_with_context(store.chunks(attached.file_name)),
        mimetype=attached.kind.value,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(attached.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "no-store",
        },
    )
