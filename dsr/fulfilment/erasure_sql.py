"""The SQL of one system's erasure for one person, built on the subject lookup (dsr.sources.sql).

The lookup's WHERE clause finds the person's rows of a table; around it this module adds:

- pending: the rows that still hold something to erase — a delete_row row that exists (and is not
  kept), a row with a null field not NULL, a redact field not redacted, a hash field not hashed.
  Batches only ever pick pending rows, so a batch applied a second time finds nothing to do.
- kept: whether a row of a delete_row table is still referred to by rows its children keep. At
  execution the children are done already, so "is referred to" is the test; the plan, made before
  anything changed, predicts it from what each child will keep.
- per batch, one SELECT of its first and last keys (and the values to hash), then one UPDATE and/or
  one DELETE of the person's rows still to erase in that key range. Hashes are computed here (HMAC
  needs the secret) and written with a CASE over the batch's distinct values; a batch with more than
  MAX_DISTINCT distinct values is written in several statements, by key.
- the parents' matching keys, listed once per table (`resolve_parents`) instead of a subquery run in
  every batch: the database then walks the child's foreign-key index in key order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Select,
    TableClause,
    Update,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    tuple_,
    update,
)

from dsr.domain.dataset import Erasure, SubjectIdentities, System
from dsr.fulfilment.column_values import ColumnValueError, holds_text
from dsr.fulfilment.erasure_rules import Operation, TableRule
from dsr.fulfilment.erasure_values import HASH_PREFIX, Replacement, replacement
from dsr.sources.sql import _Statements
from dsr.sources.sql_writes import ColumnSpecs

MAX_DISTINCT = 64  # distinct values to hash per UPDATE statement
MAX_RESOLVED = 1_000  # parent keys listed in a child's WHERE clause; more stay a subquery
Key = tuple


@dataclass(frozen=True)
class Batch:
    first: Key
    last: Key
    size: int
    rows: Sequence[Sequence[Any]] = ()  # keys then values to hash, when there are values to hash


class ErasureStatements:
    def __init__(
        self, system: System, identities: SubjectIdentities, specs: ColumnSpecs, rules: Sequence[TableRule]
    ) -> None:
        types = {table: {c: spec.type for c, spec in columns.items()} for table, columns in specs.items()}
        self.lookup = _Statements(system, identities, types)
        self.specs = specs
        self.rules = {r.table.name: r for r in rules}
        self.resolved: dict[str, ColumnElement[bool]] = {}  # table → its matching, with parents' keys listed
        self.problems: list[str] = []  # columns an action cannot apply to: the plan cannot run
        self.replacements = {(r.table.name, kept): self._replacements(r, kept) for r in rules for kept in (False, True)}

    def _replacements(self, rule: TableRule, kept: bool) -> dict[str, Replacement]:
        identity = {column: kind for kind, column in rule.table.identity}
        found = {}
        for column in rule.erased(kept):
            try:
                spec = self.specs[rule.table.name][column.column]
                found[column.column] = replacement(column.action, spec, identity.get(column.column))
            except ColumnValueError as exc:
                self.problems.append(f"{self.lookup.system.name}: {rule.table.name}.{column.column} {exc}.")
        return found

    def clause(self, rule: TableRule) -> TableClause:
        return self.lookup.clauses[rule.table.name]

    def matching(self, rule: TableRule) -> ColumnElement[bool] | None:
        if rule.table.name in self.resolved:
            return self.resolved[rule.table.name]
        return self.lookup.matching(rule.table.name)

    def resolve_parents(self, connection: Connection, rule: TableRule) -> None:
        """Before erasing a table: list its parents' matching keys instead of re-querying them in every batch.

        Its parents are untouched until it is done (children first), so the list stays true; the database
        can then walk the child's foreign-key index in key order rather than sort every match per batch.
        """
        table, clause = rule.table, self.clause(rule)
        conditions = self.lookup._identity_condition(table, clause)
        for parent, reference in self.lookup.system.parents_of(table.name):
            parent_condition = self.lookup.matching(parent.name)
            if parent_condition is None:
                continue
            if len(reference.join) != 1:
                return  # a composite join stays as the lookup writes it
            ((parent_column, child_column),) = reference.join
            parent_clause = self.lookup.clauses[parent.name]
            keys = select(parent_clause.c[parent_column]).where(parent_condition).distinct().limit(MAX_RESOLVED + 1)
            values = connection.scalars(keys).all()
            if len(values) > MAX_RESOLVED:
                return
            if values:
                conditions.append(clause.c[child_column].in_(values))
        self.resolved[table.name] = or_(*conditions) if conditions else false()

    def hash_columns(self, rule: TableRule) -> list[str]:
        return [c for c, r in self.replacements[(rule.table.name, False)].items() if r.action is Erasure.HASH]

    # -- conditions ------------------------------------------------------------------------------

    def _not_erased(self, rule: TableRule, column: str, kept: bool) -> ColumnElement[bool]:
        target = self.clause(rule).c[column]
        done = self.replacements[(rule.table.name, kept)][column]
        type_ = self.specs[rule.table.name][column].type
        if done.action is Erasure.HASH:
            return and_(target.is_not(None), target != "", not_(target.like(HASH_PREFIX + "%")))
        if done.value is None:
            return target.is_not(None)
        if not holds_text(type_) and isinstance(done.value, dict | bytes):
            return true()  # JSON and binary do not compare alike everywhere: rewrite them, harmlessly
        return and_(target.is_not(None), target != literal(done.value, type_))

    def _still_to_erase(self, rule: TableRule, kept: bool) -> ColumnElement[bool]:
        columns = self.replacements[(rule.table.name, kept)]
        return or_(*(self._not_erased(rule, c, kept) for c in columns)) if columns else false()

    def _referred(self, rule: TableRule, predict: bool) -> ColumnElement[bool]:
        parent = self.clause(rule)
        parts = []
        for reference in rule.kept_by:
            child_rule = self.rules[reference.table]
            child = self.clause(child_rule)
            conditions = [child.c[c] == parent.c[p] for p, c in reference.join]
            if predict and child_rule.operation is Operation.DELETE_ROWS:
                conditions.append(self._referred(child_rule, predict))  # the child row must itself be kept
            parts.append(exists().where(*conditions).correlate(parent))
        return or_(*parts)

    def kept_now(self, rule: TableRule) -> ColumnElement[bool]:
        return self._referred(rule, predict=False)

    def pending(self, rule: TableRule) -> ColumnElement[bool] | None:
        """Rows (among the person's) that still hold something to erase; None: every one of them."""
        if rule.operation is Operation.UPDATE_ROWS:
            return self._still_to_erase(rule, kept=False)
        if rule.operation is Operation.DELETE_ROWS and rule.kept_by:
            return or_(not_(self.kept_now(rule)), self._still_to_erase(rule, kept=True))
        return None

    # -- statements ------------------------------------------------------------------------------

    def count(self, rule: TableRule) -> Select | None:
        """Before anything changes: (rows found, A, B) — update_rows: A rows still to erase; delete_rows
        with kept rows: A rows that will be kept, B of them still to redact."""
        condition = self.matching(rule)
        if condition is None:
            return None

        def how_many(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

        first, second = literal(0), literal(0)
        if rule.operation is Operation.UPDATE_ROWS:
            first = how_many(self._still_to_erase(rule, kept=False))
        elif rule.operation is Operation.DELETE_ROWS and rule.kept_by:
            kept = self._referred(rule, predict=True)
            first, second = how_many(kept), how_many(kept, self._still_to_erase(rule, kept=True))
        return select(func.count(), first, second).select_from(self.clause(rule)).where(condition)

    def count_pending(self, rule: TableRule, first: Key | None = None, last: Key | None = None) -> Select | None:
        """Rows still to erase (between two keys, when given): 0 once a batch over them has committed."""
        condition = self.matching(rule)
        if condition is None:
            return None
        if first is not None and last is not None:
            conditions = self._range(rule, first, last)
        else:
            conditions = [condition, self.pending(rule) if self.pending(rule) is not None else true()]
        return select(func.count()).select_from(self.clause(rule)).where(*conditions)

    def next_batch(self, connection: Connection, rule: TableRule, after: Key | None, size: int) -> Batch | None:
        """The next (at most) `size` rows still to erase, in key order after `after`; None when there are none.

        Only the first and last keys come back — the database counts the rows — unless values must be
        hashed (then the rows, locked, with those values) or the key has several columns.
        """
        condition = self.matching(rule)
        if condition is None:
            return None
        clause, keys = self.clause(rule), [self.clause(rule).c[c] for c in rule.table.primary_key]
        conditions = [condition]
        if (pending := self.pending(rule)) is not None:
            conditions.append(pending)
        if after is not None:
            conditions.append(self._key(rule) > _as_key(after))
        hashed = [clause.c[c] for c in self.hash_columns(rule)]
        chosen = select(*keys, *hashed).where(*conditions).order_by(*keys).limit(size)
        if len(keys) == 1 and not hashed:
            batch = chosen.subquery()
            key = batch.c[keys[0].name]
            count, first, last = connection.execute(select(func.count(), func.min(key), func.max(key))).one()
            return Batch((first,), (last,), count) if count else None
        rows = connection.execute(chosen.with_for_update()).all()
        if not rows:
            return None
        width = len(keys)
        return Batch(tuple(rows[0][:width]), tuple(rows[-1][:width]), len(rows), rows)

    def writes(self, rule: TableRule, chosen: Batch, secret: bytes | None) -> list[Update | Delete]:
        """The statements that erase a batch, each counted as deleted or updated.

        They name the batch by its key range and the conditions that chose it, checked again as they
        write: the person's rows in that range still to erase — the batch's rows, and no list of keys.
        """
        clause, width, rows = self.clause(rule), len(rule.table.primary_key), chosen.rows
        batch = self._range(rule, chosen.first, chosen.last)
        if rule.operation is Operation.DELETE_ROWS:
            if not rule.kept_by:
                return [delete(clause).where(*batch)]
            kept = self.kept_now(rule)
            values = self.fixed_values(rule, kept=True)
            redact = [update(clause).where(*batch, kept).values(values)] if values else []
            return [*redact, delete(clause).where(*batch, not_(kept))]
        fixed = self.fixed_values(rule, kept=False)
        hashed = self.hash_columns(rule)
        if not hashed:
            return [update(clause).where(*batch).values(fixed)]
        if secret is None:
            raise ValueError("A secret is needed to hash identifiers.")
        statements = []
        groups = _groups(rows, width)
        for group in groups:
            values = dict(fixed)
            for index, column in enumerate(hashed):
                done = self.replacements[(rule.table.name, False)][column]
                originals = {row[width + index] for row in group}
                mapping = {v: h for v in originals if (h := done.hashed(secret, v)) != v}
                if mapping:
                    values[column] = case(mapping, value=clause.c[column], else_=clause.c[column])
            chosen = batch if len(groups) == 1 else [self._in(rule, [tuple(r[:width]) for r in group])]
            statements.append(update(clause).where(*chosen).values(values))
        return statements

    def _range(self, rule: TableRule, first: Key, last: Key) -> list[ColumnElement[bool]]:
        conditions = [self.matching(rule), self._key(rule) >= _as_key(first), self._key(rule) <= _as_key(last)]
        if (pending := self.pending(rule)) is not None:
            conditions.append(pending)
        return conditions

    def fixed_values(self, rule: TableRule, kept: bool) -> dict[str, Any]:
        types = self.specs[rule.table.name]
        return {
            column: null() if done.value is None else literal(done.value, types[column].type)
            for column, done in self.replacements[(rule.table.name, kept)].items()
            if done.action is not Erasure.HASH
        }

    def _key(self, rule: TableRule) -> ColumnElement:
        columns = [self.clause(rule).c[c] for c in rule.table.primary_key]
        return columns[0] if len(columns) == 1 else tuple_(*columns)

    def _in(self, rule: TableRule, keys: list[Key]) -> ColumnElement[bool]:
        if len(rule.table.primary_key) == 1:
            return self._key(rule).in_([key[0] for key in keys])
        return self._key(rule).in_(keys)


def _as_key(key: Key) -> Any:
    return key[0] if len(key) == 1 else tuple_(*(literal(v) for v in key))


def _groups(rows: Sequence[Sequence[Any]], width: int) -> list[list[Sequence[Any]]]:
    """The rows in groups holding at most MAX_DISTINCT distinct values to hash (usually one group)."""
    ordered = sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row[width:]))
    groups: list[list[Sequence[Any]]] = []
    distinct: set[tuple] = set()
    for row in ordered:
        values = tuple(row[width:])
        if not groups or (values not in distinct and len(distinct) >= MAX_DISTINCT):
            groups.append([])
            distinct = set()
        distinct.add(values)
        groups[-1].append(row)
    return groups
