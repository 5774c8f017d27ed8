"""Access and portability bundles: one ZIP, written as a stream, encrypted at rest.

    index.html                 for a person to read (access only)
    data.json                  everything, structured
    csv/<system>/<table>.csv   one file per table
    manifest.json              every other file with its size and SHA-256, the request and the time

Rows arrive in batches (dsr.sources.sql.find_subject) and are written once: each table's CSV goes
straight into the ZIP, data.json is spooled to an encrypted temporary file meanwhile (a ZIP takes
one entry at a time), and index.html keeps only the first rows of each table. Memory stays flat
whatever the number of rows.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from dsr.domain.dataset import DATA_CATEGORIES, Dataset, SubjectIdentities, System, SystemKind, Table
from dsr.domain.profile import OrganisationProfile
from dsr.encrypted_files import EncryptingWriter, decrypt_file, decrypt_stream
from dsr.fulfilment.bundle_html import TablePreview, render_index
from dsr.fulfilment.bundle_json import DataJsonWriter
from dsr.fulfilment.processing_facts import processing_facts, purpose_label
from dsr.fulfilment.zip_stream import ZipEntry, ZipStream
from dsr.sources.prefetch import prefetched
from dsr.sources.sql import RowBatch, find_subject

FORMAT = "dsr-desk bundle 1"


class BundleKind(StrEnum):
    ACCESS = "access"  # everything, with index.html and the Art. 15 facts
    PORTABILITY = "portability"  # the machine-readable part only: data.json and CSV


@dataclass(frozen=True)
class BundleRequest:
    reference: str
    kind: BundleKind
    generated_at: datetime
    identities: SubjectIdentities
    # What staff (manual systems) or webhooks reported, by system key; shown in the bundle.
    findings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BundleSummary:
    entries: tuple[ZipEntry, ...]  # every file in the ZIP except manifest.json
    row_counts: dict[str, int]  # "system/table" → rows
    size: int = 0  # bytes on disk (encrypted) when written to a file


def csv_path(system: System, table: Table) -> str:
    return f"csv/{system.key}/{table.name}.csv"


class _BundleWriter:
    def __init__(
        self,
        zip_stream: ZipStream,
        spool: BinaryIO,
        dataset: Dataset,
        profile: OrganisationProfile,
        request: BundleRequest,
    ) -> None:
        self.zip, self.dataset, self.profile, self.request = zip_stream, dataset, profile, request
        self.json = DataJsonWriter(spool)
        self.previews: list[TablePreview] = []

    def tables(self) -> Iterator[tuple[System, Table]]:
        for system in self.dataset.of_kind(SystemKind.SQL):
            for table in system.tables:
                yield system, table

    def write_tables(self, batches: Iterable[RowBatch]) -> None:
        """Batches come table by table in dataset order; tables without rows get an empty CSV."""
        pending = iter(batches)
        batch = next(pending, None)
        current_system = None
        for system, table in self.tables():
            if system is not current_system:
                current_system = system
                self.json.start_system({"key": system.key, "name": system.name, "description": system.description})
            preview = TablePreview(system, table, csv_path(system, table))
            self.previews.append(preview)
            self.json.start_table(self._table_about(table))
            with self.zip.text(preview.csv_path, large=True) as out:
                writer = csv.writer(out)
                writer.writerow(table.columns)
                while batch is not None and batch.system.key == system.key and batch.table.name == table.name:
                    writer.writerows(batch.rows)
                    self.json.add_rows(table.columns, batch.rows)
                    preview.add(batch.rows)
                    batch = next(pending, None)
            self.json.end_table(preview.count)
        if batch is not None:
            raise ValueError("Row batches arrived out of dataset order.")

    def _table_about(self, table: Table) -> dict[str, Any]:
        fields = [
            {
                "name": f.name,
                "category": DATA_CATEGORIES[f.category],
                "purpose": purpose_label(self.profile, f.purpose),
            }
            for f in table.fields
        ]
        return {"name": table.name, "title": table.title, "fields": fields}

    def other_systems(self) -> list[dict[str, str]]:
        return [
            {
                "key": s.key,
                "name": s.name,
                "description": s.description,
                "finding": self.request.findings.get(s.key, ""),
            }
            for s in self.dataset.systems
            if s.kind is not SystemKind.SQL
        ]


def write_bundle(
    out: BinaryIO,
    batches: Iterable[RowBatch],
    dataset: Dataset,
    profile: OrganisationProfile,
    request: BundleRequest,
    spool_directory: str | os.PathLike[str] | None = None,
) -> BundleSummary:
    """Write the bundle ZIP into `out` (any writable stream; it need not seek)."""
    zip_stream = ZipStream(out)
    access = request.kind is BundleKind.ACCESS
    about = {
        "reference": request.reference,
        "type": str(request.kind),
        "generated_at": request.generated_at.isoformat(),
        "organisation": profile.name,
    }
    facts = processing_facts(profile, dataset) if access else None
    with tempfile.TemporaryFile(dir=spool_directory) as spool_file:
        # data.json waits here, encrypted under a key that exists only in this process.
        spool_key = os.urandom(32)
        spool = EncryptingWriter(spool_file, spool_key)  # type: ignore[arg-type]
        writer = _BundleWriter(zip_stream, spool, dataset, profile, request)  # type: ignore[arg-type]
        writer.json.start({"format": FORMAT, "request": about, "subject": _identities(request.identities)})
        writer.write_tables(batches)
        trailer: dict[str, Any] = {"other_systems": writer.other_systems()}
        if facts is not None:
            trailer["about_processing"] = facts
        writer.json.finish(trailer)
        spool.close()
        spool_file.seek(0)
        with zip_stream.binary("data.json", large=True) as data_json:
            for chunk in decrypt_stream(spool_file, [spool_key]):  # type: ignore[arg-type]
                data_json.write(chunk)
    if access:
        with zip_stream.text("index.html") as index:
            render_index(index, writer.previews, profile, about, facts or {}, writer.other_systems())
    counts = {f"{p.system.key}/{p.table.name}": p.count for p in writer.previews}
    entries = tuple(zip_stream.entries)
    manifest = {
        "format": FORMAT,
        "request": about,
        "files": [{"name": e.name, "size": e.size, "sha256": e.sha256} for e in entries],
        "row_counts": counts,
    }
    with zip_stream.binary("manifest.json") as out_manifest:
        out_manifest.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    zip_stream.close()
    return BundleSummary(entries, counts)


def _identities(identities: SubjectIdentities) -> dict[str, str]:
    return {str(kind): value for kind, value in identities.items()}


def build_bundle(
    path: str | os.PathLike[str],
    dataset: Dataset,
    profile: OrganisationProfile,
    request: BundleRequest,
    keys: Sequence[bytes],
    environ: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BundleSummary:
    """Find the person's rows and write their bundle to `path`, encrypted with keys[0] (Cipher.file_keys()).

    `progress`, when given, is called with the number of rows in each batch as it is written.

    Written to a temporary name and renamed at the end, so `path` is either complete or absent.
    """
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    # The database is read one batch ahead in a thread while this one writes (closing() stops it on failure).
    batches = prefetched(find_subject(dataset, request.identities, environ))
    try:
        with closing(batches), open(partial, "wb") as file:
            encrypted = EncryptingWriter(file, keys[0])
            summary = write_bundle(
                encrypted, _reporting(batches, progress), dataset, profile, request, spool_directory=target.parent
            )  # type: ignore[arg-type]
            encrypted.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BundleSummary(summary.entries, summary.row_counts, target.stat().st_size)


def _reporting(batches: Iterable[RowBatch], progress: Callable[[int], None] | None) -> Iterator[RowBatch]:
    """Pass batches through, reporting each one (in the writing thread) once it has been written."""
    for batch in batches:
        yield batch
        if progress is not None:
            progress(len(batch.rows))


def open_bundle(path: str | os.PathLike[str], keys: Sequence[bytes]) -> Iterator[bytes]:
    """The decrypted ZIP, chunk by chunk, for a download; raises EncryptedFileError if tampered with."""
    return decrypt_file(path, keys)


__all__ = ["BundleKind", "BundleRequest", "BundleSummary", "build_bundle", "open_bundle", "write_bundle"]
