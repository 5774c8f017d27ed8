"""Finding one person's rows in the `sql` systems of the data inventory.

One statement per table: a table's rows belong to the person when one of its identity columns
matches, or when it joins a matched row of a parent table (nested `IN (SELECT …)`, so references
are followed in the database, however many levels deep). Results stream in batches from a
server-side cursor and are never turned into ORM objects, so memory stays flat at a million rows.
Dates, times and decimals are cast to text in the database: the bundle writes them as text anyway,
and the driver then has nothing to parse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Interval,
    Numeric,
    Select,
    String,
    TableClause,
    Time,
    Uuid,
    cast,
    column,
    exists,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy import table as table_clause
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from dsr.domain.dataset import Dataset, IdentityKind, SubjectIdentities, System, SystemKind, Table
from dsr.sources.sql_connection import SourceError, connect, describe_error, system_url

BATCH_SIZE = 5_000
ColumnTypes = dict[str, dict[str, TypeEngine]]  # table → column → the database's type
# Characters people put in phone numbers; stripping them in SQL works alike on SQLite, PostgreSQL and MySQL.
PHONE_PUNCTUATION = (" ", "-", "(", ")", "+", ".", "/")


@dataclass(frozen=True)
class RowBatch:
    """Some rows of one table, as plain tuples in the order of `table.columns`."""

    system: System
    table: Table
    rows: list[tuple]


class _Statements:
    """Builds the SELECT for each table of one system, for one person's identities."""

    def __init__(self, system: System, identities: SubjectIdentities, types: ColumnTypes) -> None:
        self.system = system
        self.identities = identities.items()
        self.types = types
        self.clauses = {
            t.name: table_clause(t.name, *(column(c) for c in t.columns), schema=t.schema) for t in system.tables
        }
        self.matching = cache(self._matching)

    def _identity_condition(self, table: Table, clause: TableClause) -> list[ColumnElement[bool]]:
        conditions = []
        columns = dict(table.identity)
        for kind, value in self.identities:
            if kind not in columns:
                continue
            target = clause.c[columns[kind]]
            if kind is IdentityKind.EMAIL:
                conditions.append(func.lower(func.trim(target)) == value)
            elif kind is IdentityKind.PHONE:
                digits = target
                for character in PHONE_PUNCTUATION:
                    digits = func.replace(digits, character, "")
                conditions.append(digits == value)
            elif not isinstance(self.types[table.name][columns[kind]], Integer):
                conditions.append(target == value)
            elif value.isdigit():  # a number column: compare numbers (PostgreSQL refuses 'AC-1' = 42)
                conditions.append(target == int(value))
        return conditions

    def _matching(self, name: str) -> ColumnElement[bool] | None:
        """WHERE clause for the person's rows of table `name`, or None if nothing can match."""
        table, clause = self.system.table(name), self.clauses[name]
        conditions = self._identity_condition(table, clause)
        for parent, reference in self.system.parents_of(name):
            parent_condition = self.matching(parent.name)
            if parent_condition is None:
                continue
            parent_clause = self.clauses[parent.name]
            if len(reference.join) == 1:
                ((parent_column, child_column),) = reference.join
                parent_keys = select(parent_clause.c[parent_column]).where(parent_condition).correlate(None)
                conditions.append(clause.c[child_column].in_(parent_keys))
            else:
                joined = [parent_clause.c[p] == clause.c[c] for p, c in reference.join]
                conditions.append(exists().where(parent_condition, *joined).correlate(clause))
        return or_(*conditions) if conditions else None

    def rows(self, name: str) -> Select | None:
        """The person's rows of table `name`; dates, times and decimals come back as text."""
        condition = self.matching(name)
        if condition is None:
            return None
        table, clause = self.system.table(name), self.clauses[name]
        types = self.types[name]
        columns = [
            cast(clause.c[c], String).label(c) if _reads_as_text(types[c]) else clause.c[c] for c in table.columns
        ]
        return select(*columns).where(condition).order_by(*(clause.c[c] for c in table.primary_key))

    def count(self, name: str) -> Select | None:
        condition = self.matching(name)
        return None if condition is None else select(func.count()).select_from(self.clauses[name]).where(condition)


def _reads_as_text(type_: TypeEngine) -> bool:
    if isinstance(type_, Numeric):
        return not isinstance(type_, Float)
    return isinstance(type_, Date | DateTime | Time | Interval | Uuid | JSON)


def column_types(connection: Connection, system: System) -> ColumnTypes:
    """The database's type of each declared column; refuses tables or columns that are not there."""
    inspector = inspect(connection)
    found: dict[tuple[str | None, str], dict[str, TypeEngine]] = {}
    for schema in {t.schema for t in system.tables}:  # one catalogue query per schema, not per table
        names = [t.name for t in system.tables if t.schema == schema]
        for (_, name), columns in inspector.get_multi_columns(schema=schema, filter_names=names).items():
            found[(schema, name)] = {c["name"]: c["type"] for c in columns}
    types = {}
    for table in system.tables:
        if (table.schema, table.name) not in found:
            raise SourceError(f"{system.name}: the table {table.name} does not exist.")
        present = found[(table.schema, table.name)]
        missing = [c for c in table.columns if c not in present]
        if missing:
            raise SourceError(f"{system.name}: {table.name} has no column {', '.join(missing)}.")
        types[table.name] = {c: present[c] for c in table.columns}
    return types


class SubjectRecords:
    """The person's rows across every `sql` system, as an iterator of RowBatch.

    Iterate once; `counts` ((system key, table name) → rows) is complete when iteration ends.
    """

    def __init__(
        self,
        dataset: Dataset,
        identities: SubjectIdentities,
        environ: Mapping[str, str] | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.dataset = dataset
        self.identities = identities
        self.environ = environ
        self.batch_size = batch_size
        self.counts: dict[tuple[str, str], int] = {}

    def __iter__(self) -> Iterator[RowBatch]:
        for system in self.dataset.of_kind(SystemKind.SQL):
            yield from self._system(system)

    def _system(self, system: System) -> Iterator[RowBatch]:
        for table in system.tables:
            self.counts[(system.key, table.name)] = 0
        if not self.identities.items():
            return
        engine = connect(system, self.environ)
        try:
            with engine.connect() as connection:
                statements = _Statements(system, self.identities, column_types(connection, system))
                streaming = connection.execution_options(yield_per=self.batch_size)
                for table in system.tables:
                    statement = statements.rows(table.name)
                    if statement is None:
                        continue
                    result = streaming.execute(statement)
                    for partition in result.partitions():
                        self.counts[(system.key, table.name)] += len(partition)
                        yield RowBatch(system, table, partition)
        except SQLAlchemyError as exc:
            raise _unreadable(system, exc, self.environ) from exc
        finally:
            engine.dispose()


def find_subject(
    dataset: Dataset,
    identities: SubjectIdentities,
    environ: Mapping[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> SubjectRecords:
    """Every row of the person's across the `sql` systems, streamed; nothing runs until it is iterated."""
    return SubjectRecords(dataset, identities, environ, batch_size)


def count_subject_rows(
    dataset: Dataset, identities: SubjectIdentities, environ: Mapping[str, str] | None = None
) -> dict[tuple[str, str], int]:
    """How many rows each table holds about the person (one COUNT per table), e.g. for an erasure plan."""
    counts: dict[tuple[str, str], int] = {}
    for system in dataset.of_kind(SystemKind.SQL):
        engine = connect(system, environ)
        try:
            with engine.connect() as connection:
                statements = _Statements(system, identities, column_types(connection, system))
                for table in system.tables:
                    statement = statements.count(table.name)
                    counts[(system.key, table.name)] = connection.scalar(statement) if statement is not None else 0
        except SQLAlchemyError as exc:
            raise _unreadable(system, exc, environ) from exc
        finally:
            engine.dispose()
    return counts


def _unreadable(system: System, exc: SQLAlchemyError, environ: Mapping[str, str] | None) -> SourceError:
    """The driver's error as a SourceError (what callers catch), without the password."""
    return SourceError(
        f"{system.name}: could not read the database ({describe_error(exc, system_url(system, environ))})."
    )
