"""What a requester may upload: PDF, PNG or JPEG, recognised by their first bytes, never by the name
or by the Content-Type a browser claims (both are the uploader's to choose)."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO


class FileKind(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"

    @property
    def label(self) -> str:
        return {FileKind.PDF: "PDF", FileKind.PNG: "PNG image", FileKind.JPEG: "JPEG image"}[self]

    @property
    def extension(self) -> str:
        return {FileKind.PDF: ".pdf", FileKind.PNG: ".png", FileKind.JPEG: ".jpg"}[self]


# How many leading bytes sniff() needs to see.
SNIFF_BYTES = 16
ALLOWED_TEXT = "PDF, PNG or JPEG"
# For the file picker only (a hint to the browser); the server decides by content.
ACCEPTED_FILES = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


def sniff(head: bytes) -> FileKind | None:
    """The kind of file these leading bytes start, or None for anything not allowed (HTML, SVG, EXE…)."""
    if head.startswith(b"%PDF-") and head[5:6].isdigit():
        return FileKind.PDF
    # PNG: the 8-byte signature, then the IHDR chunk always comes first.
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return FileKind.PNG
    # JPEG: start-of-image, then another marker (APP0/APP1/DQT/SOF… all start with 0xFF).
    if head.startswith(b"\xff\xd8\xff") and len(head) >= 4:
        return FileKind.JPEG
    return None


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int  # per file
    max_files: int  # per reply
    max_per_request: int  # kept on one request in all

    @property
    def max_text(self) -> str:
        return size_text(self.max_bytes)


def size_text(size: int) -> str:
    megabyte = 1024 * 1024
    if size >= megabyte:
        return f"{size // megabyte} MB" if size % megabyte == 0 else f"{size / megabyte:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


_UNSAFE = re.compile(r"[^\w .()+-]+")


def display_name(name: str | None, kind: FileKind) -> str:
    """The uploader's file name, reduced to a harmless label: no path, no control or quote characters,
    at most 100 characters, ending in the extension of what the file really is."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(char for char in base if unicodedata.category(char)[0] != "C")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE.sub("_", stem).strip(" ._")[:90] or "attachment"
    return stem + kind.extension


def ascii_name(name: str) -> str:
    """An ASCII-only version of a display name, for the plain `filename=` of Content-Disposition."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^A-Za-z0-9 ._()+-]+", "_", folded).strip(" ._") or "attachment"
    return folded + (f".{extension}" if extension.isascii() and extension.isalnum() else "")


@dataclass(frozen=True)
class IncomingFile:
    name: str | None  # as the uploader's browser sent it: only ever shown cleaned
    stream: BinaryIO  # seekable (Werkzeug spools uploads to memory or a temporary file)

    @property
    def size(self) -> int:
        self.stream.seek(0, os.SEEK_END)
        size = self.stream.tell()
        self.stream.seek(0)
        return size

    @property
    def kind(self) -> FileKind | None:
        self.stream.seek(0)
        head = self.stream.read(SNIFF_BYTES)
        self.stream.seek(0)
        return sniff(head)


def upload_problem(upload: IncomingFile, limits: UploadLimits) -> str | None:
    """Why this file cannot be accepted, in words for the requester; None when it can."""
    size = upload.size
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:60]
    label = f"“{name}”" if name else "The file"
    if size == 0:
        return f"{label} is empty."
    if size > limits.max_bytes:
        return f"{label} is too large ({size_text(size)}); each file may be at most {limits.max_text}."
    if upload.kind is None:
        return f"{label} is not a {ALLOWED_TEXT} file. Only {ALLOWED_TEXT} files can be attached."
    return None
