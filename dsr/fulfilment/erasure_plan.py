"""Erasure plans: what a deletion request will do, system by system and table by table (a dry run).

An admin approves a plan; `dsr.fulfilment.erasure.execute_erasure` then does exactly that plan, and
refuses if the dataset or the database's columns have changed since. A plan holds no personal data —
counts, column names and actions only — so it can be stored and shown as it is (`to_json`).

What happens to a table's rows (the person's rows, found as the access lookup finds them):

- delete_rows: every field is delete_row, so the rows are deleted — except rows that rows kept in a
  child table still refer to (invoices kept for tax law pointing at a customer row): those are kept,
  with their keys (primary key, reference columns) intact and every other field redacted, and the plan
  says so as a conflict. A row is never left half-deleted to satisfy a foreign key, and the plan
  states this before anything runs rather than failing half-way.
- update_rows: the fields mix actions; each row is kept, its null/hash/redact fields are overwritten
  in one UPDATE (all fields of a row change together), and its retain fields stay as they are.
- keep_rows: every field is retained (with its legal basis and retention period): nothing changes.

What an erased field becomes: `null` → NULL (a NOT NULL column is a problem: use redact); `redact` →
the marker '[erased]' in text columns, otherwise NULL or, for NOT NULL columns, a neutral value
(dsr.fulfilment.column_values); `hash` → a keyed HMAC-SHA256 of the normalised value
(dsr.fulfilment.erasure_values), stable across runs and requests, so "do not contact" checks work.
A primary key, or a column that kept rows join on, is never changed (reported as a conflict).

Counts: rows_found = to_delete + to_update + to_keep + already_erased, where already_erased are the
person's rows with nothing left to erase (an erasure run before, or fields already empty).
`problems` are what stops the plan from running (an unreachable system, an action a column cannot take);
`conflicts` are what the erasure does differently from the dataset, and why.

`manual_tasks` and `webhook_jobs` name the systems no query reaches: a task for staff
(`dsr.sources.manual.manual_tasks`) and a signed job (`dsr.fulfilment.erasure_external`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dsr.domain.dataset import Dataset, Erasure, SubjectIdentities, System, SystemKind
from dsr.domain.requests import RequestType
from dsr.fulfilment.erasure_rules import Conflict, Operation, TableRule, erasure_rules
from dsr.fulfilment.erasure_sql import ErasureStatements
from dsr.sources.manual import manual_tasks
from dsr.sources.sql_connection import SourceError, connect, describe_error, system_url
from dsr.sources.sql_writes import column_specs

PLAN_VERSION = 1


@dataclass(frozen=True)
class FieldPlan:
    column: str
    category: str
    action: str  # delete_row | null | hash | redact | retain
    becomes: str = ""  # null / hash / redact: what is written, e.g. NULL, '[erased]', keyed hash (…)
    legal_basis: str = ""  # retain
    retention: str = ""  # retain
    reason: str = ""  # why the action is not the dataset's, or why a kept row keeps it
    note: str = ""  # the dataset's note on the field, for the person reading the plan


@dataclass(frozen=True)
class TablePlan:
    table: str
    label: str
    operation: str  # delete_rows | update_rows | keep_rows
    rows_found: int
    rows_to_delete: int
    rows_to_update: int
    rows_to_keep: int  # kept whole (keep_rows)
    rows_already_erased: int
    fields: tuple[FieldPlan, ...]
    kept_rows_fields: tuple[FieldPlan, ...] = ()  # delete_rows: rows kept because kept rows refer to them
    kept_for: tuple[str, ...] = ()  # child tables whose kept rows keep these rows, or their keys


@dataclass(frozen=True)
class SystemPlan:
    system: str
    name: str
    tables: tuple[TablePlan, ...]  # in the order the erasure runs: children first


@dataclass(frozen=True)
class ExternalStep:
    system: str
    name: str
    title: str
    instructions: str = ""  # manual: what staff do


@dataclass(frozen=True)
class ErasurePlan:
    dataset_digest: str
    identity_kinds: tuple[str, ...]
    systems: tuple[SystemPlan, ...]
    manual_tasks: tuple[ExternalStep, ...] = ()
    webhook_jobs: tuple[ExternalStep, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    problems: tuple[str, ...] = ()
    needs_secret: bool = False  # some field is hashed: execution needs the secret
    version: int = PLAN_VERSION
    totals: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        names = ("rows_found", "rows_to_delete", "rows_to_update", "rows_to_keep", "rows_already_erased")
        tables = [t for s in self.systems for t in s.tables]
        object.__setattr__(self, "totals", {n: sum(getattr(t, n) for t in tables) for n in names})

    @property
    def can_execute(self) -> bool:
        return not self.problems

    def table(self, system: str, table: str) -> TablePlan:
        return next(t for s in self.systems if s.system == system for t in s.tables if t.table == table)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def digest(self) -> str:
        """Names this plan (a checkpoint belongs to one plan)."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ErasurePlan:
        if data.get("version") != PLAN_VERSION:
            raise ValueError(f"Not an erasure plan of version {PLAN_VERSION}.")

        def table(t: Mapping[str, Any]) -> TablePlan:
            fields = {k: tuple(FieldPlan(**f) for f in t[k]) for k in ("fields", "kept_rows_fields")}
            return TablePlan(**{**t, **fields, "kept_for": tuple(t["kept_for"])})

        return cls(
            data["dataset_digest"],
            tuple(data["identity_kinds"]),
            tuple(SystemPlan(s["system"], s["name"], tuple(table(t) for t in s["tables"])) for s in data["systems"]),
            tuple(ExternalStep(**m) for m in data["manual_tasks"]),
            tuple(ExternalStep(**w) for w in data["webhook_jobs"]),
            tuple(Conflict(**c) for c in data["conflicts"]),
            tuple(data["problems"]),
            data["needs_secret"],
        )


def dataset_digest(dataset: Dataset) -> str:
    """Everything in the dataset an erasure depends on; a plan runs only against the dataset it was made from."""
    systems = [
        {
            "key": s.key,
            "kind": str(s.kind),
            "url": s.url,
            "tables": [
                {
                    "name": t.name,
                    "schema": t.schema,
                    "primary_key": t.primary_key,
                    "identity": [(str(k), c) for k, c in t.identity],
                    "references": [(r.table, r.join) for r in t.references],
                    "fields": [
                        (f.name, f.category, str(f.erasure), f.legal_basis, str(f.retention or ""), f.note)
                        for f in t.fields
                    ],
                }
                for t in s.tables
            ],
        }
        for s in dataset.systems
    ]
    return hashlib.sha256(json.dumps(systems, sort_keys=True).encode()).hexdigest()


def field_plans(rule: TableRule, statements: ErasureStatements, kept: bool = False) -> tuple[FieldPlan, ...]:
    """What happens to each field (of a kept row, with `kept`); the executor checks it against the plan."""
    plans = []
    for column in rule.kept_columns if kept else rule.columns:
        declared = rule.table.field(column.column)
        done = statements.replacements[(rule.table.name, kept)].get(column.column)
        retained = column.action is Erasure.RETAIN
        plans.append(
            FieldPlan(
                column.column,
                declared.category,
                str(column.action),
                done.shown if done else "",
                declared.legal_basis if retained and declared.erasure is Erasure.RETAIN else "",
                str(declared.retention) if retained and declared.retention else "",
                column.reason,
                declared.note,
            )
        )
    return tuple(plans)


def _table_plan(rule: TableRule, statements: ErasureStatements, connection: Connection) -> TablePlan:
    statement = statements.count(rule)
    found, first, second = connection.execute(statement).one() if statement is not None else (0, 0, 0)
    found, first, second = int(found), int(first), int(second)
    delete = update = keep = already = 0
    if rule.operation is Operation.KEEP_ROWS:
        keep = found
    elif rule.operation is Operation.UPDATE_ROWS:
        update, already = first, found - first
    else:
        delete, update, already = found - first, second, first - second
    return TablePlan(
        rule.table.name,
        rule.table.title,
        str(rule.operation),
        found,
        delete,
        update,
        keep,
        already,
        field_plans(rule, statements),
        field_plans(rule, statements, kept=True),
        tuple(r.table for r in rule.kept_by),
    )


def _system_plan(
    system: System, identities: SubjectIdentities, environ: Mapping[str, str] | None
) -> tuple[SystemPlan, tuple[Conflict, ...], list[str], bool]:
    rules, conflicts = erasure_rules(system)
    engine = connect(system, environ)
    try:
        with engine.connect() as connection:
            statements = ErasureStatements(system, identities, column_specs(connection, system), rules)
            tables = tuple(_table_plan(rule, statements, connection) for rule in rules)
    except SQLAlchemyError as exc:
        problem = f"{system.name}: could not read the database ({describe_error(exc, system_url(system, environ))})."
        return SystemPlan(system.key, system.name, ()), conflicts, [problem], False
    finally:
        engine.dispose()
    hashes = any(statements.hash_columns(rule) for rule in rules if rule.operation is Operation.UPDATE_ROWS)
    return SystemPlan(system.key, system.name, tables), conflicts, statements.problems, hashes


def plan_erasure(
    dataset: Dataset, identities: SubjectIdentities, environ: Mapping[str, str] | None = None
) -> ErasurePlan:
    """The dry run: the person's rows per table and what the erasure will do to them; nothing is changed."""
    systems, conflicts, problems, needs_secret = [], [], [], False
    for system in dataset.of_kind(SystemKind.SQL):
        try:
            plan, found, trouble, hashes = _system_plan(system, identities, environ)
        except SourceError as exc:
            plan, found, trouble, hashes = SystemPlan(system.key, system.name, ()), (), [str(exc)], False
        systems.append(plan)
        conflicts.extend(found)
        problems.extend(trouble)
        needs_secret = needs_secret or hashes
    manual = tuple(
        ExternalStep(task.system_key, dataset.system(task.system_key).name, task.title, task.instructions)
        for task in manual_tasks(dataset, RequestType.DELETION, identities)
    )
    webhooks = tuple(
        ExternalStep(s.key, s.name, f"Send a signed deletion job to {s.name}")
        for s in dataset.of_kind(SystemKind.WEBHOOK)
    )
    return ErasurePlan(
        dataset_digest(dataset),
        tuple(str(kind) for kind, _ in identities.items()),
        tuple(systems),
        manual,
        webhooks,
        tuple(conflicts),
        tuple(problems),
        needs_secret,
    )
