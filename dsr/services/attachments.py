"""Files requesters attach to their replies: checked by content and size, encrypted at rest under
random names outside the web root, linked to the reply, and deleted with the request's other data.

Checks happen twice on purpose: the reply form gives the requester a clear message, and `attach`
refuses anything the form let through (a future caller, an API, a bug) before a byte is kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.domain.uploads import IncomingFile, UploadLimits, display_name, upload_problem
from dsr.encrypted_files import CHUNK, EncryptingWriter, decrypt_file
from dsr.models import DataSubjectRequest, RequestAttachment, RequestMessage
from dsr.services.audit import record_event


class UploadStore:
    """Encrypted files in one directory, each under a random name (AES-GCM streams, dsr.encrypted_files)."""

    def __init__(self, directory: Path, keys: Sequence[bytes] = ()) -> None:
        self.directory = Path(directory)
        self.keys = list(keys)  # newest first; only needed to write and read, not to delete
        self._written: list[Path] = []

    @classmethod
    def from_config(cls, config, cipher=None) -> UploadStore:
        return cls(Path(config["DSR_UPLOAD_DIR"]), cipher.file_keys() if cipher is not None else ())

    def save(self, stream: BinaryIO) -> tuple[str, int, str]:
        """Encrypt the stream into a new file: (its name, plaintext size, plaintext SHA-256)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = secrets.token_hex(16) + ".enc"
        path = self.directory / name
        digest, size = hashlib.sha256(), 0
        stream.seek(0)
        # O_EXCL: never write through a name that already exists (or a link planted there).
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as target:
            self._written.append(path)
            writer = EncryptingWriter(target, self.keys[0])
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
            writer.close()
        return name, size, digest.hexdigest()

    def chunks(self, name: str) -> Iterator[bytes]:
        return decrypt_file(self._path(name), self.keys)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError("Not a stored file name.")
        return self.directory / name

    @contextmanager
    def removed_on_failure(self) -> Iterator[None]:
        """Files written inside the block are deleted again if it fails (the rows were rolled back)."""
        start = len(self._written)
        try:
            yield
        except BaseException:
            for path in self._written[start:]:
                path.unlink(missing_ok=True)
            del self._written[start:]
            raise


def attach(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    message: RequestMessage,
    uploads: Sequence[IncomingFile],
    store: UploadStore,
    limits: UploadLimits,
) -> list[RequestAttachment]:
    """Keep the files with the requester's message; refuses the lot if any one is not acceptable."""
    if not uploads:
        return []
    if message.request_id != request.id:
        raise DomainError("The message does not belong to this request.")
    if len(uploads) > limits.max_files:
        raise DomainError(f"At most {limits.max_files} files can be attached to one message.")
    kept = session.scalar(select(func.count(RequestAttachment.id)).where(RequestAttachment.request_id == request.id))
    if kept + len(uploads) > limits.max_per_request:
        raise DomainError(f"This request already has {kept} files; at most {limits.max_per_request} can be kept.")
    problems = [problem for upload in uploads if (problem := upload_problem(upload, limits))]
    if problems:
        raise DomainError(" ".join(problems))
    attachments = []
    for upload in uploads:
        kind = upload.kind
        file_name, size, sha256 = store.save(upload.stream)
        attachment = RequestAttachment(
            request_id=request.id,
            message=message,
            file_name=file_name,
            display_name=display_name(upload.name, kind),
            kind=kind,
            size=size,
            sha256=sha256,
            created_at=now,
        )
        session.add(attachment)
        attachments.append(attachment)
    # File names can be personal ("passport-ada-lovelace.pdf"): the audit trail keeps counts only.
    record_event(session, Actor.requester(), "attachment.added", now, request, files=len(attachments))
    session.flush()
    return attachments


def attachment_of(session: Session, request: DataSubjectRequest, public_id: str) -> RequestAttachment | None:
    return session.scalar(
        select(RequestAttachment).where(
            RequestAttachment.public_id == public_id, RequestAttachment.request_id == request.id
        )
    )


def delete_for_request(session: Session, request: DataSubjectRequest, store: UploadStore | None) -> int:
    """Delete the request's files and their rows; returns how many there were."""
    names = session.scalars(select(RequestAttachment.file_name).where(RequestAttachment.request_id == request.id)).all()
    if not names:
        return 0
    if store is None:
        raise ValueError("This request has attachments: pass the upload store so their files are deleted too.")
    for name in names:
        store.delete(name)
    session.execute(delete(RequestAttachment).where(RequestAttachment.request_id == request.id))
    return len(names)
