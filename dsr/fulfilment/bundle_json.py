"""data.json written incrementally: one json.dumps per batch of rows, never of the whole document."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, BinaryIO


def json_value(value: Any) -> Any:
    """Database values JSON cannot hold as they are."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=json_value, separators=(",", ":")).encode()


class DataJsonWriter:
    """Writes {header…, "systems": [{…, "tables": [{…, "rows": [ …batches… ], "row_count": n}]}], trailer…}."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self._system_open = False
        self._first_system = True
        self._first_table = True
        self._first_rows = True

    def start(self, header: dict[str, Any]) -> None:
        self.out.write(b"{\n")
        for key, value in header.items():
            self.out.write(_dumps(key) + b": " + _dumps(value) + b",\n")
        self.out.write(b'"systems": [')

    def start_system(self, about: dict[str, Any]) -> None:
        self._end_system()
        self.out.write((b"" if self._first_system else b",") + b"\n{" + _dumps(about)[1:-1] + b',"tables":[')
        self._first_system, self._system_open, self._first_table = False, True, True

    def start_table(self, about: dict[str, Any]) -> None:
        self.out.write((b"" if self._first_table else b",") + b"\n{" + _dumps(about)[1:-1] + b',"rows":[')
        self._first_table, self._first_rows = False, True

    def add_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        encoded = _dumps([dict(zip(columns, row, strict=True)) for row in rows])
        self.out.write((b"\n" if self._first_rows else b",\n") + encoded[1:-1])
        self._first_rows = False

    def end_table(self, row_count: int) -> None:
        self.out.write(b'],"row_count":' + str(row_count).encode() + b"}")

    def _end_system(self) -> None:
        if self._system_open:
            self.out.write(b"]}")
            self._system_open = False

    def finish(self, trailer: dict[str, Any]) -> None:
        self._end_system()
        self.out.write(b"\n]")
        for key, value in trailer.items():
            self.out.write(b",\n" + _dumps(key) + b": " + _dumps(value))
        self.out.write(b"\n}\n")
