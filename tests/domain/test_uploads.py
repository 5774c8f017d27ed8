"""What counts as an acceptable upload, and how an uploader's file name is made harmless."""

import io

import pytest

from dsr.domain.uploads import (
    FileKind,
    IncomingFile,
    UploadLimits,
    ascii_name,
    display_name,
    size_text,
    sniff,
    upload_problem,
)

LIMITS = UploadLimits(max_bytes=1024, max_files=3, max_per_request=20)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", FileKind.PDF),
        (b"%PDF-2.0\n", FileKind.PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", FileKind.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", FileKind.JPEG),
        (b"\xff\xd8\xff\xe1\x00\x10Exif", FileKind.JPEG),
        (b"%PDF", None),  # cut short
        (b"%PDF-x", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIDAT", None),  # a PNG always starts with IHDR
        (b"\xff\xd8\xff", None),
        (b"<!doctype html><script>", None),
        (b"<svg xmlns=", None),
        (b"<?xml version='1.0'?><svg", None),
        (b"MZ\x90\x00", None),
        (b"PK\x03\x04", None),
        (b"GIF89a", None),
        (b" %PDF-1.4", None),
        (b"", None),
    ],
)
def test_sniff_goes_by_the_first_bytes_only(head, kind):
    assert sniff(head) is kind


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("passport.pdf", FileKind.PDF, "passport.pdf"),
        ("Passport Scan (front).PDF", FileKind.PDF, "Passport Scan (front).pdf"),
        ("../../etc/passwd.png", FileKind.PNG, "passwd.png"),
        ("C:\\Users\\ada\\id.jpeg", FileKind.JPEG, "id.jpg"),
        ("photo.png", FileKind.JPEG, "photo.jpg"),  # named after what it really is
        ('"><img src=x onerror=alert(1)>.pdf', FileKind.PDF, "img src_x onerror_alert(1).pdf"),
        ("évaluation été.pdf", FileKind.PDF, "évaluation été.pdf"),
        ("line\r\nbreak\x00.pdf", FileKind.PDF, "linebreak.pdf"),
        ("", FileKind.PNG, "attachment.png"),
        (None, FileKind.PNG, "attachment.png"),
        ("....pdf", FileKind.PDF, "attachment.pdf"),
        ("a" * 300 + ".pdf", FileKind.PDF, "a" * 90 + ".pdf"),
    ],
)
def test_display_names_are_harmless(name, kind, shown):
    assert display_name(name, kind) == shown


def test_ascii_names_for_the_plain_filename_parameter():
    assert ascii_name("évaluation été.pdf") == "evaluation ete.pdf"
    assert ascii_name("身份证.pdf") == "attachment.pdf"
    assert ascii_name("scan (1).jpg") == "scan (1).jpg"
    assert ascii_name("") == "attachment"


def test_upload_problems_name_the_file_and_the_rule():
    pdf = b"%PDF-1.4 " + b"0" * 100
    assert upload_problem(IncomingFile("ok.pdf", io.BytesIO(pdf)), LIMITS) is None
    assert upload_problem(IncomingFile("x.pdf", io.BytesIO(b"")), LIMITS) == "“x.pdf” is empty."
    big = IncomingFile("big.pdf", io.BytesIO(b"%PDF-1.4" + b"0" * 2000))
    assert upload_problem(big, LIMITS) == "“big.pdf” is too large (2 KB); each file may be at most 1 KB."
    html = IncomingFile("dir/evil.pdf", io.BytesIO(b"<html>"))
    assert upload_problem(html, LIMITS) == (
        "“evil.pdf” is not a PDF, PNG or JPEG file. Only PDF, PNG or JPEG files can be attached."
    )


def test_size_text():
    assert [size_text(n) for n in (5, 2048, 5 * 1024 * 1024, 5 * 1024 * 1024 + 1)] == [
        "5 bytes",
        "2 KB",
        "5 MB",
        "5.0 MB",
    ]
