"""Uploads are judged by their content and size, never by name or claimed type; a refused reply keeps
nothing (no message, no row, no file); files live encrypted outside the web root."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import BASE_DIR, ConfigurationError
from dsr import create_app
from dsr.models import RequestAttachment, RequestMessage
from tests.web.test_attachments import JPEG, PDF, PNG, awaiting, reply, upload

HTML_AS_PDF = b"<!doctype html><script>fetch('/staff/').then(r => r.text()).then(alert)</script>"
JS_AS_PDF = b"alert(document.cookie)//%PDF-1.4"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 40
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"

DISGUISED = [
    ("html named .pdf, sent as a PDF", HTML_AS_PDF, "passport.pdf", "application/pdf"),
    ("javascript named .pdf", JS_AS_PDF, "scan.pdf", "application/pdf"),
    ("svg with a script", SVG, "photo.svg", "image/svg+xml"),
    ("svg named .png, sent as a PNG", SVG, "photo.png", "image/png"),
    ("windows program named .png", EXE, "selfie.png", "image/png"),
    ("zip named .jpg", ZIP, "id.jpg", "image/jpeg"),
    ("gif (not on the list)", GIF, "id.gif", "image/gif"),
    ("empty file named .pdf", b"", "blank.pdf", "application/pdf"),
]


def kept(session, folder: Path, before: set[Path]) -> tuple[int, int, set[Path]]:
    session.expire_all()
    files = set(folder.iterdir()) - before
    rows = session.scalar(select(func.count()).select_from(RequestAttachment))
    replies = session.scalar(select(func.count()).select_from(RequestMessage).where(RequestMessage.body == "see file"))
    return rows, replies, files


@pytest.mark.parametrize(("label", "data", "name", "claimed"), DISGUISED, ids=[d[0] for d in DISGUISED])
def test_a_file_that_is_not_really_pdf_png_or_jpeg_is_refused(app, client, session, label, data, name, claimed):
    filed = awaiting(client, session)
    folder = Path(app.config["DSR_UPLOAD_DIR"])
    before = set(folder.iterdir())
    response = reply(client, filed.reference, "see file", [upload(data, name, claimed)])
    page = response.get_data(as_text=True)
    assert response.status_code == 400, label
    assert "Only PDF, PNG or JPEG files can be attached." in page or "is empty" in page
    assert 'enctype="multipart/form-data"' in page and "see file" in page  # the form again, text kept
    assert kept(session, folder, before) == (0, 0, set())


def test_one_bad_file_refuses_the_whole_reply(app, client, session):
    filed = awaiting(client, session)
    folder = Path(app.config["DSR_UPLOAD_DIR"])
    before = set(folder.iterdir())
    files = [upload(PDF, "good.pdf"), upload(EXE, "bad.png", "image/png"), upload(JPEG, "good.jpg")]
    response = reply(client, filed.reference, "see file", files)
    assert response.status_code == 400 and "“bad.png” is not a PDF, PNG or JPEG file" in response.get_data(as_text=True)
    assert kept(session, folder, before) == (0, 0, set())


def test_a_file_over_the_size_limit_is_refused(app, client, session):
    filed = awaiting(client, session)
    folder = Path(app.config["DSR_UPLOAD_DIR"])
    before = set(folder.iterdir())
    limit = app.config["DSR_UPLOAD_MAX_BYTES"]
    assert limit == 5 * 1024 * 1024
    big = PDF + b"0" * (limit + 1 - len(PDF))
    response = reply(client, filed.reference, "see file", [upload(big, "huge.pdf", "application/pdf")])
    assert response.status_code == 400
    assert "“huge.pdf” is too large (5.0 MB); each file may be at most 5 MB." in response.get_data(as_text=True)
    assert kept(session, folder, before) == (0, 0, set())
    exactly = PDF + b"0" * (limit - len(PDF))
    assert reply(client, filed.reference, "see file", [upload(exactly, "ok.pdf")]).status_code == 302


def test_a_body_over_the_request_limit_is_cut_off_before_it_is_read(app, client, session, monkeypatch):
    filed = awaiting(client, session)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    folder = Path(app.config["DSR_UPLOAD_DIR"])
    before = set(folder.iterdir())
    response = reply(client, filed.reference, "see file", [upload(PNG + b"0" * 70 * 1024, "big.png")])
    assert response.status_code == 413 and "Too large" in response.get_data(as_text=True)
    assert kept(session, folder, before) == (0, 0, set())


def test_the_request_limit_leaves_room_for_a_full_reply_and_no_more():
    config = create_app("test").config
    full = config["DSR_UPLOAD_MAX_FILES"] * config["DSR_UPLOAD_MAX_BYTES"]
    assert full < config["MAX_CONTENT_LENGTH"] <= full + 2 * 1024 * 1024


def test_uploads_are_stored_outside_the_web_root(app):
    static = (BASE_DIR / "static").resolve()
    default = Path(create_app("development").config["DSR_UPLOAD_DIR"]).resolve()
    assert static not in default.parents and default != static
    for inside in (static, static / "uploads"):
        with pytest.raises(ConfigurationError, match="must not be inside static"):
            create_app("test", {"DSR_UPLOAD_DIR": str(inside)})


def test_what_is_stored_is_encrypted_and_named_at_random(app, client, session):
    filed = awaiting(client, session)
    reply(client, filed.reference, "see file", [upload(PNG, "passport-ada.png", "image/png")])
    row = session.scalar(select(RequestAttachment))
    stored = (Path(app.config["DSR_UPLOAD_DIR"]) / row.file_name).read_bytes()
    assert "passport" not in row.file_name and len(row.file_name) >= 32
    assert stored.startswith(b"DSRSTRM1") and PNG not in stored
