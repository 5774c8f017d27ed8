"""Correction: a person's current values in the `sql` systems, and approved changes written back.

A field may be corrected unless it is a key: its category is `identifier` (account numbers, ids),
or it is a table's primary key or a column a reference joins on (changing it would move rows between
people). Each change names one field and either one row (its primary key, as `current_values` gives
it) or every row of the person in that table. All changes are checked first — the field, the row
(it must be one of the person's) and the value (turned into the column's type) — and if any is wrong
nothing is written (CorrectionError lists every problem). Then each system gets one transaction:
the person's rows are found and locked first, then changed, so correcting the email a lookup matched
on cannot lose the rows found through it; a database that refuses rolls its system back whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, String, cast, func, literal, null, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError

from dsr.domain.dataset import Dataset, SubjectIdentities, System, SystemKind, Table
from dsr.domain.errors import DomainError
from dsr.fulfilment.column_values import ColumnValueError, coerce
from dsr.sources.sql import _reads_as_text, _Statements
from dsr.sources.sql_connection import SourceError, connect, describe_error, system_url
from dsr.sources.sql_writes import ColumnSpecs, column_specs, writing

ALL_ROWS = None
KEYS_PER_STATEMENT = 5_000


@dataclass(frozen=True)
class FieldRef:
    system: str
    table: str
    column: str


@dataclass(frozen=True)
class Correction:
    system: str
    table: str
    column: str
    new_value: Any  # as proposed (text from a form is fine); None clears the field
    row_key: tuple | None = ALL_ROWS  # the row's primary key values; None: every row of the person in the table


@dataclass(frozen=True)
class TableValues:
    """The current values of some fields of a table, row by row (dates and decimals as text)."""

    system: str
    table: str
    label: str
    columns: tuple[str, ...]
    correctable: tuple[bool, ...]  # per column
    rows: tuple[tuple[tuple, dict[str, Any]], ...]  # (row key, column → value)
    total_rows: int  # the person's rows in the table; more than len(rows) when cut at `limit`


@dataclass(frozen=True)
class CorrectionResult:
    rows_changed: dict[str, dict[str, int]] = field(default_factory=dict)  # system → table → rows updated
    failed: dict[str, str] = field(default_factory=dict)  # system → why nothing was written there

    @property
    def ok(self) -> bool:
        return not self.failed


class CorrectionError(DomainError):
    """Some changes cannot be made; nothing was written. `problems` has one line per change at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def is_correctable(table: Table, column: str) -> bool:
    keys = set(table.primary_key) | {p for r in table.references for p, _ in r.join}
    return column not in keys and table.field(column).category != "identifier"


def correctable_fields(dataset: Dataset) -> list[FieldRef]:
    """Every field a correction request may name (join columns of children are excluded per table)."""
    refs = []
    for system in dataset.of_kind(SystemKind.SQL):
        joined = {(r.table, c) for t in system.tables for r in t.references for _, c in r.join}
        for table in system.tables:
            for column in table.columns:
                if is_correctable(table, column) and (table.name, column) not in joined:
                    refs.append(FieldRef(system.key, table.name, column))
    return refs


def _locate(dataset: Dataset, system_key: str, table_name: str, column: str) -> tuple[System, Table] | str:
    """The system and table of a field, or what is wrong with the reference."""
    try:
        system = dataset.system(system_key)
    except StopIteration:
        return f"{system_key}: no such system"
    if system.kind is not SystemKind.SQL:
        return f"{system_key}: a {system.kind} system, corrected by hand or by its own job"
    try:
        table = system.table(table_name)
    except StopIteration:
        return f"{system_key}.{table_name}: no such table"
    if column not in table.columns:
        return f"{system_key}.{table_name}.{column}: no such field"
    return system, table


def _person_keys(connection: Connection, statements: _Statements, table: Table, lock: bool = False) -> list[tuple]:
    condition = statements.matching(table.name)
    if condition is None:
        return []
    clause = statements.clauses[table.name]
    keys = [clause.c[c] for c in table.primary_key]
    query = select(*keys).where(condition).order_by(*keys)
    return [tuple(row) for row in connection.execute(query.with_for_update() if lock else query)]


def _types(specs: ColumnSpecs) -> dict:
    return {table: {c: spec.type for c, spec in columns.items()} for table, columns in specs.items()}


def current_values(
    dataset: Dataset,
    identities: SubjectIdentities,
    fields: Sequence[FieldRef],
    environ: Mapping[str, str] | None = None,
    limit: int = 200,
) -> list[TableValues]:
    """For each table named in `fields`: the person's rows (at most `limit`), by key, with those fields' values."""
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)
    problems = []
    for ref in fields:
        found = _locate(dataset, ref.system, ref.table, ref.column)
        if isinstance(found, str):
            problems.append(found)
        elif ref.column not in wanted[(ref.system, ref.table)]:
            wanted[(ref.system, ref.table)].append(ref.column)
    if problems:
        raise CorrectionError(problems)
    results = []
    for system in dataset.of_kind(SystemKind.SQL):
        tables = [(system.table(t), columns) for (s, t), columns in wanted.items() if s == system.key]
        if tables:
            results += _read_values(system, identities, tables, environ, limit)
    return results


def _read_values(system: System, identities, tables, environ, limit: int) -> list[TableValues]:
    engine = connect(system, environ)
    try:
        with engine.connect() as connection:
            specs = column_specs(connection, system)
            statements = _Statements(system, identities, _types(specs))
            results = []
            for table, columns in tables:
                condition = statements.matching(table.name)
                clause = statements.clauses[table.name]
                keys = [clause.c[c] for c in table.primary_key]
                shown = [
                    cast(clause.c[c], String) if _reads_as_text(specs[table.name][c].type) else clause.c[c]
                    for c in columns
                ]
                rows, total = [], 0
                if condition is not None:
                    query = select(*keys, *shown).where(condition).order_by(*keys).limit(limit)
                    width = len(keys)
                    rows = [
                        (tuple(r[:width]), dict(zip(columns, r[width:], strict=True)))
                        for r in connection.execute(query)
                    ]
                    total = connection.scalar(select(func.count()).select_from(clause).where(condition))
                correctable = tuple(is_correctable(table, c) for c in columns)
                results.append(
                    TableValues(system.key, table.name, table.title, tuple(columns), correctable, tuple(rows), total)
                )
            return results
    except SQLAlchemyError as exc:
        raise _unreadable(system, exc, environ) from exc
    finally:
        engine.dispose()


def _unreadable(system: System, exc: SQLAlchemyError, environ: Mapping[str, str] | None) -> SourceError:
    return SourceError(
        f"{system.name}: could not read the database ({describe_error(exc, system_url(system, environ))})."
    )


def apply_corrections(
    dataset: Dataset,
    identities: SubjectIdentities,
    changes: Sequence[Correction],
    environ: Mapping[str, str] | None = None,
) -> CorrectionResult:
    """Write approved changes, one transaction per system; CorrectionError (nothing written) if any is wrong."""
    prepared, problems = _prepare(dataset, identities, changes, environ)
    if problems:
        raise CorrectionError(sorted(problems, key=lambda p: int(p[1 : p.index(" ")])))
    result = CorrectionResult()
    for system in dataset.of_kind(SystemKind.SQL):
        if system.key not in prepared:
            continue
        try:
            result.rows_changed[system.key] = _write(system, identities, prepared[system.key], environ)
        except (SourceError, CorrectionError) as exc:
            result.failed[system.key] = str(exc)
    return result


def _prepare(dataset, identities, changes, environ) -> tuple[dict[str, list[tuple[Correction, Any]]], list[str]]:
    """Each change checked and its value typed, per system; or every problem found."""
    problems: list[str] = []
    located: dict[str, list[tuple[int, Correction, Table]]] = defaultdict(list)
    earlier: dict[tuple[str, str, str], list[tuple[tuple | None, int]]] = defaultdict(list)
    for number, change in enumerate(changes, start=1):
        where = f"#{number} {change.system}.{change.table}.{change.column}"
        found = _locate(dataset, change.system, change.table, change.column)
        if isinstance(found, str):
            problems.append(f"#{number} {found}.")
            continue
        system, table = found
        if not is_correctable(table, change.column):
            problems.append(f"{where}: an identifier or key; it cannot be corrected.")
            continue
        row = None if change.row_key is ALL_ROWS else _key_text(change.row_key)
        before = earlier[(change.system, change.table, change.column)]
        clash = next((n for other, n in before if row is None or other is None or other == row), None)
        if clash is not None:
            problems.append(f"{where}: the same field of the same rows is already changed by #{clash}.")
            continue
        before.append((row, number))
        located[system.key].append((number, change, table))
    prepared: dict[str, list[tuple[Correction, Any]]] = {}
    for system_key, items in located.items():
        system = dataset.system(system_key)
        engine = connect(system, environ)
        try:
            with engine.connect() as connection:
                specs = column_specs(connection, system)
                statements = _Statements(system, identities, _types(specs))
                keys = {t.name: {_key_text(k) for k in _person_keys(connection, statements, t)} for _, _, t in items}
        except SQLAlchemyError as exc:
            raise _unreadable(system, exc, environ) from exc
        finally:
            engine.dispose()
        prepared[system_key] = []
        for number, change, table in items:
            where = f"#{number} {change.system}.{change.table}.{change.column}"
            spec = specs[table.name][change.column]
            try:
                value = coerce(spec.type, spec.nullable, change.new_value)
            except ColumnValueError as exc:
                problems.append(f"{where}: {exc} (got {change.new_value!r}).")
                continue
            if change.row_key is not ALL_ROWS and _key_text(change.row_key) not in keys[table.name]:
                problems.append(f"{where}: row {list(change.row_key)} is not one of the person's rows.")
                continue
            prepared[system_key].append((change, value))
    return prepared, problems


def _key_text(key: Sequence[Any]) -> tuple[str, ...]:
    """Keys compared as text: a key that went through JSON (or a form) may come back as another type."""
    return tuple(str(v) for v in key)


def _write(system: System, identities, items: list[tuple[Correction, Any]], environ) -> dict[str, int]:
    changed: dict[str, int] = defaultdict(int)
    with writing(system, environ) as connection, connection.begin():
        specs = column_specs(connection, system)
        statements = _Statements(system, identities, _types(specs))
        tables = {change.table: system.table(change.table) for change, _ in items}
        keys = {name: _person_keys(connection, statements, table, lock=True) for name, table in tables.items()}
        groups: dict[tuple[str, tuple | None], dict[str, Any]] = defaultdict(dict)
        for change, value in items:
            groups[(change.table, None if change.row_key is ALL_ROWS else _key_text(change.row_key))][change.column] = (
                value
            )
        for (name, row_key), values in groups.items():
            table, clause = tables[name], statements.clauses[name]
            typed = {c: null() if v is None else literal(v, specs[name][c].type) for c, v in values.items()}
            rows = keys[name] if row_key is None else [k for k in keys[name] if _key_text(k) == row_key]
            if row_key is not None and not rows:
                raise CorrectionError([f"{system.key}.{name}: row {list(row_key)} is no longer the person's."])
            columns = [clause.c[c] for c in table.primary_key]
            target = columns[0] if len(columns) == 1 else tuple_(*columns)
            for start in range(0, len(rows), KEYS_PER_STATEMENT):
                chunk = rows[start : start + KEYS_PER_STATEMENT]
                chosen = target.in_([k[0] for k in chunk] if len(columns) == 1 else chunk)
                changed[name] += connection.execute(update(clause).where(chosen).values(typed)).rowcount
    return dict(changed)
