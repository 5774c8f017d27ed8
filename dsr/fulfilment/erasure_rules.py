"""What an erasure does to each table of a `sql` system, worked out from the dataset alone.

Tables come children first (every table before the tables that reference it), which is the order the
erasure runs in: a child's rows are found through its parent's matching row, and foreign keys let a
parent row go only once its children have.

A reference from parent P to child C *still holds* after the erasure when C keeps rows (C is not
delete_row, or C's own rows are kept for the same reason) and C's join columns are retained. Then:

- P delete_row: P's rows that kept rows of C refer to are kept, not deleted, with every field
  redacted except the keys — P's primary key, the columns those kept rows join on, and the columns
  joining P to its own parents (so a kept row keeps its context, and its parent row is kept in turn);
  the others are deleted.
- P's primary key, or a column a still-holding reference joins on, is kept even if the dataset says
  null/hash/redact: changing it would break the row's identity or the kept rows' link to it.

Each such change to what the dataset says is reported as a Conflict, shown in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsr.domain.dataset import Erasure, Reference, System, Table

ERASING = (Erasure.NULL, Erasure.HASH, Erasure.REDACT)


class Operation(StrEnum):
    DELETE_ROWS = "delete_rows"  # every field delete_row (some rows may be kept: see TableRule.kept_by)
    UPDATE_ROWS = "update_rows"  # some fields null/hash/redact, the others retained
    KEEP_ROWS = "keep_rows"  # every field retained: nothing changes


@dataclass(frozen=True)
class ColumnRule:
    column: str
    action: Erasure
    reason: str = ""  # why the action differs from the dataset's, or why a kept row keeps the column


@dataclass(frozen=True)
class TableRule:
    table: Table
    operation: Operation
    columns: tuple[ColumnRule, ...]  # what happens to each field of the person's rows
    kept_by: tuple[Reference, ...] = ()  # references that still hold afterwards (their child rows stay)
    kept_columns: tuple[ColumnRule, ...] = ()  # delete_rows: what happens to each field of a row kept for them

    def action(self, column: str) -> Erasure:
        return next(c.action for c in self.columns if c.column == column)

    def erased(self, kept: bool = False) -> tuple[ColumnRule, ...]:
        return tuple(c for c in (self.kept_columns if kept else self.columns) if c.action in ERASING)

    @property
    def may_keep_rows(self) -> bool:
        return self.operation is not Operation.DELETE_ROWS or bool(self.kept_by)


@dataclass(frozen=True)
class Conflict:
    """Where the erasure does something other than the dataset says, and why; shown in the plan."""

    system: str
    table: str
    column: str | None
    message: str


def children_first(system: System) -> list[Table]:
    order: list[Table] = []
    seen: set[str] = set()

    def visit(table: Table) -> None:
        if table.name in seen:
            return
        seen.add(table.name)
        for reference in table.references:
            visit(system.table(reference.table))
        order.append(table)

    for table in system.tables:
        visit(table)
    return order


def erasure_rules(system: System) -> tuple[tuple[TableRule, ...], tuple[Conflict, ...]]:
    """Each table's rule, children first, and the conflicts resolved on the way."""
    rules: dict[str, TableRule] = {}
    conflicts: list[Conflict] = []
    for table in children_first(system):
        kept_by = tuple(r for r in table.references if _still_holds(rules[r.table], r))
        rules[table.name] = _rule(system, table, kept_by, conflicts)
    return tuple(rules.values()), tuple(conflicts)


def _still_holds(child: TableRule, reference: Reference) -> bool:
    if not child.may_keep_rows:
        return False
    if child.operation is Operation.DELETE_ROWS:
        return True  # a kept row keeps its keys (see _kept_columns)
    return all(child.action(column) is Erasure.RETAIN for _, column in reference.join)


def _rule(system: System, table: Table, kept_by: tuple[Reference, ...], conflicts: list[Conflict]) -> TableRule:
    def titles(references: tuple[Reference, ...]) -> str:
        return ", ".join(system.table(r.table).title for r in references)

    if all(f.erasure is Erasure.DELETE_ROW for f in table.fields):
        columns = tuple(ColumnRule(f.name, Erasure.DELETE_ROW) for f in table.fields)
        if not kept_by:
            return TableRule(table, Operation.DELETE_ROWS, columns)
        kept_columns = _kept_columns(system, table, kept_by)
        conflicts.append(
            Conflict(
                system.key,
                table.name,
                None,
                f"Rows that kept rows of {titles(kept_by)} still refer to are kept instead of deleted: "
                f"{', '.join(c.column for c in kept_columns if c.action is Erasure.REDACT) or 'no field'} "
                "redacted, the keys kept.",
            )
        )
        return TableRule(table, Operation.DELETE_ROWS, columns, kept_by, kept_columns)
    links = {parent_column: r for r in kept_by for parent_column, _ in r.join}
    columns = []
    for field in table.fields:
        reason = ""
        if field.erasure in ERASING and field.name in table.primary_key:
            reason = "It is the primary key: it identifies the row and is never changed."
        elif field.erasure in ERASING and field.name in links:
            reason = f"Kept {system.table(links[field.name].table).title} refer to it."
        if reason:
            conflicts.append(Conflict(system.key, table.name, field.name, f"Kept, not {field.erasure}: {reason}"))
        columns.append(ColumnRule(field.name, Erasure.RETAIN if reason else field.erasure, reason))
    operation = Operation.UPDATE_ROWS if any(c.action in ERASING for c in columns) else Operation.KEEP_ROWS
    return TableRule(table, operation, tuple(columns), kept_by)


def _kept_columns(system: System, table: Table, kept_by: tuple[Reference, ...]) -> tuple[ColumnRule, ...]:
    """A delete_row table's row kept for its children: keys stay (so the links hold), everything else is redacted."""
    keys = set(table.primary_key)
    keys.update(parent_column for r in kept_by for parent_column, _ in r.join)
    keys.update(child_column for _, r in system.parents_of(table.name) for _, child_column in r.join)
    because = ", ".join(system.table(r.table).title for r in kept_by)
    return tuple(
        ColumnRule(f.name, Erasure.RETAIN, f"A key of a row kept because {because} refer to it.")
        if f.name in keys
        else ColumnRule(f.name, Erasure.REDACT)
        for f in table.fields
    )
