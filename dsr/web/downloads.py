"""Streaming a bundle file to a browser, decrypted chunk by chunk (never whole in memory)."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, stream_with_context

from dsr.encryption import current_cipher
from dsr.fulfilment.bundle import open_bundle
from dsr.models import Bundle


def stream_bundle(bundle: Bundle, filename: str) -> Response:
    path = Path(current_app.config["DSR_BUNDLE_DIR"]) / bundle.file_name
    if not path.is_file():
        abort(404)
    chunks = open_bundle(path, current_cipher().file_keys())
    return Response(
        stream_with_context(chunks),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
