"""A ZIP written front to back into any writable stream, with each entry's size and SHA-256 recorded.

zipfile writes to a non-seekable stream with data descriptors, so the archive can go straight
into an encrypting writer (dsr.encrypted_files) without ever being whole in memory or on disk.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, TextIO

BUFFER = 256 * 1024


@dataclass(frozen=True)
class ZipEntry:
    name: str
    size: int  # bytes before compression
    sha256: str


class _HashingWriter(io.RawIOBase):
    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.hash.update(data)
        self.size += len(data)
        self.target.write(data)
        return len(data)


class _ExplicitZipFile(zipfile.ZipFile):
    def __del__(self) -> None:
        """Only ZipStream.close() finishes the archive: one abandoned on an error (its stream perhaps
        closed already) must not try to write its central directory when it is garbage-collected."""


class ZipStream:
    """Entries are written one at a time; `entries` lists what has been written so far."""

    def __init__(self, out: BinaryIO, compresslevel: int = 1) -> None:
        # Level 1: a bundle is read once and deleted; speed beats the last few percent of size.
        self._zip = _ExplicitZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.entries: list[ZipEntry] = []

    @contextmanager
    def binary(self, name: str, large: bool = False) -> Iterator[BinaryIO]:
        """`large` entries may pass 2 GiB, which a non-seekable ZIP must announce up front (ZIP64)."""
        with self._zip.open(name, "w", force_zip64=large) as raw:
            hashing = _HashingWriter(raw)  # type: ignore[arg-type]
            buffered = io.BufferedWriter(hashing, BUFFER)
            yield buffered  # type: ignore[misc]
            buffered.flush()
        self.entries.append(ZipEntry(name, hashing.size, hashing.hash.hexdigest()))

    @contextmanager
    def text(self, name: str, large: bool = False) -> Iterator[TextIO]:
        with self.binary(name, large) as binary:
            wrapper = io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=False)
            yield wrapper
            wrapper.flush()
            wrapper.detach()

    def close(self) -> None:
        self._zip.close()
