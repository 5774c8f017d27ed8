"""Encryption at rest for files of any size, written and read as streams in constant memory.

Fernet needs the whole message in memory, so big files (export bundles) use AES-256-GCM in
chunks, after the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015):

    file   = header || chunk*                       (at least one chunk: the final one)
    header = b"DSRSTRM1" || key id (8) || salt (16)
    chunk  = length (4, big-endian, of the ciphertext) || AES-GCM ciphertext with its 16-byte tag

Each file gets its own key, HKDF-SHA256(master key, salt, "dsr-desk file v1"); the key id is the
first 8 bytes of SHA-256 of the master key, so rotated keys (Cipher.file_keys(), newest first)
still open old files. Chunk n is sealed with nonce = n (8 bytes, big-endian) || 0 0 0 || last-flag,
and the header as associated data: reordered, altered, truncated or extended files are refused.
Plaintext chunks are at most 64 KiB.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"DSRSTRM1"
CHUNK = 64 * 1024
TAG = 16
HEADER = len(MAGIC) + 8 + 16
_LENGTH = struct.Struct(">I")


class EncryptedFileError(ValueError):
    """The file was altered, cut short, is not ours, or its key is gone."""


def key_id(master: bytes) -> bytes:
    return hashlib.sha256(master).digest()[:8]


def _file_cipher(master: bytes, salt: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"dsr-desk file v1").derive(master)
    return AESGCM(key)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(8, "big") + b"\x00\x00\x00" + (b"\x01" if last else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only, non-seekable stream that encrypts into `target`; close() seals the final chunk.

    tell() counts plaintext bytes, which is what zipfile needs to write a ZIP into it.
    """

    def __init__(self, target: BinaryIO, master: bytes) -> None:
        super().__init__()
        salt = os.urandom(16)
        self._header = MAGIC + key_id(master) + salt
        self._cipher = _file_cipher(master, salt)
        self._target = target
        self._buffer = bytearray()
        self._counter = 0
        self._position = 0
        target.write(self._header)

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        self._position += len(data)
        # Keep at least one byte back: only close() knows which chunk is the last.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plaintext: bytes, last: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self._counter, last), plaintext, self._header)
        self._target.write(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._target.flush()
        super().close()


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    while data and len(data) < size:
        more = source.read(size - len(data))
        if not more:
            break
        data += more
    return data


def decrypt_stream(source: BinaryIO, masters: Sequence[bytes]) -> Iterator[bytes]:
    """Plaintext chunks of an encrypted stream; raises EncryptedFileError on any tampering.

    Chunks are only yielded once authenticated; a file cut short fails at its end, so a caller
    streaming a download must treat an exception mid-way as a failed download.
    """
    header = _read_exactly(source, HEADER)
    if len(header) != HEADER or not header.startswith(MAGIC):
        raise EncryptedFileError("This is not an encrypted DSR Desk file.")
    wanted = header[len(MAGIC) : len(MAGIC) + 8]
    master = next((m for m in masters if key_id(m) == wanted), None)
    if master is None:
        raise EncryptedFileError("The key this file was encrypted with is no longer configured.")
    cipher = _file_cipher(master, header[len(MAGIC) + 8 :])
    counter = 0
    sealed = _next_chunk(source)
    if sealed is None:
        raise EncryptedFileError("The encrypted file is cut short.")
    while True:
        following = _next_chunk(source)
        try:
            plaintext = cipher.decrypt(_nonce(counter, following is None), sealed, header)
        except InvalidTag:
            raise EncryptedFileError("The encrypted file was altered or cut short.") from None
        if plaintext:
            yield plaintext
        if following is None:
            return
        sealed, counter = following, counter + 1


def _next_chunk(source: BinaryIO) -> bytes | None:
    prefix = _read_exactly(source, _LENGTH.size)
    if not prefix:
        return None
    (length,) = _LENGTH.unpack(prefix) if len(prefix) == _LENGTH.size else (-1,)
    if not TAG <= length <= CHUNK + TAG:
        raise EncryptedFileError("The encrypted file was altered or cut short.")
    sealed = _read_exactly(source, length)
    if len(sealed) != length:
        raise EncryptedFileError("The encrypted file was altered or cut short.")
    return sealed


def decrypt_file(path: str | os.PathLike[str], masters: Sequence[bytes]) -> Iterator[bytes]:
    """Plaintext chunks of an encrypted file, e.g. for a streamed download (see decrypt_stream)."""
    with open(path, "rb") as source:
        yield from decrypt_stream(source, masters)
