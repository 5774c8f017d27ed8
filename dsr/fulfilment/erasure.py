"""Running an approved erasure plan against the `sql` systems: in batches, resumable, never twice.

Each table (children first) is erased in batches of the person's rows that still hold something to
erase, taken in key order: one SELECT … FOR UPDATE of the batch's keys, then one UPDATE and/or one
DELETE by key, all in the batch's own transaction — so every field of a row changes at once, and a
batch either happened or did not.

The caller keeps a Checkpoint (`load() -> dict | None`, `save(state: dict)`; the state is plain JSON):

    {"version": 1, "plan": "<plan digest>",
     "tables": {"<system>.<table>": {"deleted": 0, "updated": 0, "retained": 0, "batches": 0,
                                     "after": [<last key>] | null, "swept": false, "done": false}},
     "in_flight": {"table": "<system>.<table>", "first": [...], "last": [...], "deleted": 0, "updated": 0} | null}

It is saved twice per batch: with `in_flight` just before the batch commits, and with the batch
counted just after. A run that stops anywhere (an exception, a killed process) is resumed by calling
`execute_erasure` again with the same checkpoint: a batch that committed but was not counted is found
to have nothing left to erase in its key range and is counted then; one that did not commit is done
again. Nothing is ever erased twice, because batches pick only rows still to erase (a hashed value
is never hashed again). After walking a table to its end, the run looks once more from its first key,
for rows added behind it while it ran.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Delete
from sqlalchemy.exc import SQLAlchemyError

from dsr.domain.dataset import Dataset, SubjectIdentities, System, SystemKind
from dsr.domain.errors import DomainError
from dsr.fulfilment.erasure_plan import ErasurePlan, dataset_digest, field_plans
from dsr.fulfilment.erasure_rules import Operation, TableRule, erasure_rules
from dsr.fulfilment.erasure_sql import Batch, ErasureStatements
from dsr.sources.sql_connection import SourceError, connect, describe_error, system_url
from dsr.sources.sql_writes import column_specs, writing

BATCH_SIZE = 10_000
MAX_BATCH_SIZE = 20_000  # keys bound per statement stay well under every driver's limit
STATE_VERSION = 1


class Checkpoint(Protocol):
    def load(self) -> dict | None: ...

    def save(self, state: dict) -> None: ...


class MemoryCheckpoint:
    """A checkpoint kept in memory (tests, one-off runs); the app keeps its own in its database."""

    def __init__(self, state: dict | None = None) -> None:
        self.state = copy.deepcopy(state)

    def load(self) -> dict | None:
        return copy.deepcopy(self.state)

    def save(self, state: dict) -> None:
        self.state = copy.deepcopy(state)


class ErasureError(DomainError):
    """The erasure cannot run as asked; nothing was changed by this call."""


@dataclass(frozen=True)
class BatchDone:
    """Told to `progress` after each batch has committed and been saved; never holds an erased value."""

    system: str
    table: str
    deleted: int
    updated: int
    first_key: tuple | None
    last_key: tuple | None
    rows_done: int  # deleted + updated so far, all tables, this run and earlier ones
    rows_planned: int  # what the plan expected


@dataclass(frozen=True)
class TableOutcome:
    system: str
    table: str
    label: str
    operation: str
    deleted: int
    updated: int
    retained: int  # rows of keep_rows tables, left as they were
    batches: int


@dataclass(frozen=True)
class ErasureResult:
    """Counts for the receipt, per table (the plan says which fields were kept, and why)."""

    tables: tuple[TableOutcome, ...]
    resumed: bool  # this call continued an earlier, interrupted one

    def totals(self) -> dict[str, int]:
        return {n: sum(getattr(t, n) for t in self.tables) for n in ("deleted", "updated", "retained")}

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "totals": self.totals()}


def execute_erasure(
    plan: ErasurePlan,
    dataset: Dataset,
    identities: SubjectIdentities,
    checkpoint: Checkpoint,
    *,
    secret: bytes | None = None,
    batch_size: int = BATCH_SIZE,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[BatchDone], None] | None = None,
) -> ErasureResult:
    """Erase what the approved `plan` says from every `sql` system; resumes from `checkpoint`.

    `secret` keys the hashes (needed when `plan.needs_secret`). Raises ErasureError before changing
    anything if the plan cannot run; SourceError if a database refuses (the batch rolls back; run again).
    """
    if not plan.can_execute:
        raise ErasureError("This plan has problems to solve first: " + " ".join(plan.problems))
    if plan.dataset_digest != dataset_digest(dataset):
        raise ErasureError("The data inventory changed since this plan was made: make and approve a new plan.")
    if plan.needs_secret and not secret:
        raise ErasureError("This plan hashes identifiers: the hashing secret is needed.")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ErasureError(f"The batch size must be between 1 and {MAX_BATCH_SIZE:,}.")
    state = checkpoint.load()
    resumed = bool(state)
    if state and (state.get("version") != STATE_VERSION or state.get("plan") != plan.digest):
        raise ErasureError("This checkpoint belongs to another erasure plan.")
    state = state or {"version": STATE_VERSION, "plan": plan.digest, "tables": {}, "in_flight": None}
    run = _Run(plan, identities, checkpoint, state, secret, batch_size, progress)
    systems = [s for s in dataset.of_kind(SystemKind.SQL) if not run.finished(s)]
    for system in systems:  # every system still fits the plan, before any is changed
        run.check(system, environ)
    for system in systems:
        run.system(system, environ)
    counts = ("deleted", "updated", "retained", "batches")
    outcomes = [
        TableOutcome(
            system_plan.system,
            table.table,
            table.label,
            table.operation,
            **{n: state["tables"].get(f"{system_plan.system}.{table.table}", {}).get(n, 0) for n in counts},
        )  # fmt: skip
        for system_plan in plan.systems
        for table in system_plan.tables
    ]
    return ErasureResult(tuple(outcomes), resumed)


def _json_key(key: tuple) -> list | None:
    """A key as the checkpoint stores it; None when it is not plain JSON (the run then starts tables afresh)."""
    return list(key) if all(isinstance(v, int | float | str) for v in key) else None


class _Run:
    def __init__(
        self,
        plan: ErasurePlan,
        identities: SubjectIdentities,
        checkpoint: Checkpoint,
        state: dict,
        secret: bytes | None,
        batch_size: int,
        progress: Callable[[BatchDone], None] | None,
    ) -> None:
        self.plan = plan
        self.identities = identities
        self.checkpoint = checkpoint
        self.state = state
        self.secret = secret
        self.batch_size = batch_size
        self.progress = progress
        self.planned = plan.totals["rows_to_delete"] + plan.totals["rows_to_update"]

    def save(self) -> None:
        self.checkpoint.save(self.state)

    def finished(self, system: System) -> bool:
        return all(self.state["tables"].get(f"{system.key}.{t.name}", {}).get("done") for t in system.tables)

    def check(self, system: System, environ: Mapping[str, str] | None) -> None:
        rules, _ = erasure_rules(system)
        engine = connect(system, environ)
        try:
            with engine.connect() as connection:
                statements = ErasureStatements(system, self.identities, column_specs(connection, system), rules)
        except SQLAlchemyError as exc:
            raise SourceError(
                f"{system.name}: could not read the database ({describe_error(exc, system_url(system, environ))})."
            ) from exc
        finally:
            engine.dispose()
        self._check_columns(system, rules, statements)

    def system(self, system: System, environ: Mapping[str, str] | None) -> None:
        rules, _ = erasure_rules(system)
        with writing(system, environ) as connection:
            with connection.begin():
                statements = ErasureStatements(system, self.identities, column_specs(connection, system), rules)
            self._check_columns(system, rules, statements)
            for rule in rules:
                key = f"{system.key}.{rule.table.name}"
                entry = self.state["tables"].setdefault(key, _fresh())
                stage = _Stage(connection, statements, system, rule, key, entry)
                if not stage.entry["done"]:
                    with connection.begin():
                        statements.resolve_parents(connection, rule)
                    self._resolve_in_flight(stage)
                    self._table(stage)

    def _check_columns(self, system: System, rules: tuple[TableRule, ...], statements: ErasureStatements) -> None:
        planned = {t.table: t for s in self.plan.systems if s.system == system.key for t in s.tables}
        for rule in rules:
            table = planned.get(rule.table.name)
            now = (field_plans(rule, statements), field_plans(rule, statements, kept=True))
            if table is None or now != (table.fields, table.kept_rows_fields) or statements.problems:
                raise ErasureError(
                    f"{system.name}: the columns of {rule.table.name} changed since the plan was made: "
                    "make and approve a new plan."
                )

    def _resolve_in_flight(self, stage: _Stage) -> None:
        """A batch saved as in flight either committed (nothing left in its key range: count it) or did not."""
        flight, entry = self.state.get("in_flight"), stage.entry
        if not flight or flight["table"] != stage.key:
            return
        if flight["first"] is not None and flight["last"] is not None:
            with stage.connection.begin():
                statement = stage.statements.count_pending(stage.rule, tuple(flight["first"]), tuple(flight["last"]))
                left = stage.connection.scalar(statement) if statement is not None else 0
            if left == 0:
                entry["deleted"] += flight["deleted"]
                entry["updated"] += flight["updated"]
                entry["batches"] += 1
                entry["after"] = flight["last"]
        self.state["in_flight"] = None
        self.save()

    def _table(self, stage: _Stage) -> None:
        connection, entry = stage.connection, stage.entry
        if stage.rule.operation is Operation.KEEP_ROWS:
            statement = stage.statements.count(stage.rule)
            with connection.begin():
                entry["retained"] = int(connection.execute(statement).one()[0]) if statement is not None else 0
            entry["done"] = True
            self.save()
            return
        after = tuple(entry["after"]) if entry["after"] is not None else None
        while True:
            with connection.begin():
                batch = stage.statements.next_batch(connection, stage.rule, after, self.batch_size)
                if batch is not None:
                    deleted, updated = self._erase_batch(stage, batch)
            if batch is None:
                if after is None or entry["swept"]:
                    entry["done"] = True
                    self.save()
                    return
                after, entry["after"], entry["swept"] = None, None, True  # once more from the start (see above)
                self.save()
                continue
            after = batch.last
            entry["deleted"] += deleted
            entry["updated"] += updated
            entry["batches"] += 1
            entry["after"] = _json_key(batch.last)
            self.state["in_flight"] = None
            self.save()
            if self.progress is not None:
                done = sum(e["deleted"] + e["updated"] for e in self.state["tables"].values())
                where = (stage.system.key, stage.rule.table.name)
                self.progress(BatchDone(*where, deleted, updated, batch.first, batch.last, done, self.planned))

    def _erase_batch(self, stage: _Stage, batch: Batch) -> tuple[int, int]:
        """The batch's UPDATE/DELETE, then the in-flight save; the caller's transaction commits after it."""
        deleted = updated = 0
        for write in stage.statements.writes(stage.rule, batch, self.secret):
            count = stage.connection.execute(write).rowcount
            if isinstance(write, Delete):
                deleted += count
            else:
                updated += count
        self.state["in_flight"] = {
            "table": stage.key, "first": _json_key(batch.first), "last": _json_key(batch.last),
            "deleted": deleted, "updated": updated,
        }  # fmt: skip
        self.save()
        return deleted, updated


@dataclass(frozen=True)
class _Stage:
    """One table being erased: its connection and statements, and its entry in the checkpoint state."""

    connection: Connection
    statements: ErasureStatements
    system: System
    rule: TableRule
    key: str
    entry: dict


def _fresh() -> dict:
    return {"deleted": 0, "updated": 0, "retained": 0, "batches": 0, "after": None, "swept": False, "done": False}
