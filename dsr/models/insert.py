"""Inserting one new row at once, without the unit of work, for the paths that run on every request filed.

`session.add(row)` then `flush()` runs the ORM's unit of work: it sorts the session's changes, walks
every relationship of every object for cascades and dependencies, and then issues the INSERT. For
one wide row that is several times the cost of the INSERT itself (bench/README.md: intake). Here the
row's own column values go into one Core INSERT (column defaults are applied by Core as the ORM would
apply them), and the object joins the session as persistent, with its id and every value that was
inserted, as if it had been flushed: later changes to it are flushed as UPDATEs as usual.

What it does not do: cascade. Relationships set on the object are neither inserted nor read for
foreign keys, so the caller sets foreign key columns (`request_id=request.id`), not relationships.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from sqlalchemy import Insert, event, inspect
from sqlalchemy.orm import InstanceState, Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

Row = TypeVar("Row")
_INSERTED = "dsr_inserted_rows"  # (table, id) of the rows inserted here in the current transaction


@cache
def _plan(mapper: Mapper) -> tuple[Insert, Insert, tuple[tuple[str, str], ...], str]:
    """Built once per model: the INSERT, the same returning the ids in the order of its rows, each
    (attribute, column key) pair, and the primary key attribute."""
    (primary_key,) = mapper.primary_key
    pairs = tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs)
    statement = mapper.local_table.insert()
    numbered = statement.returning(primary_key, sort_by_parameter_order=True)
    return statement, numbered, pairs, mapper.get_property_by_column(primary_key).key


def inserted_here(session: Session, table: str, row_id: int) -> bool:
    """Whether insert_now or insert_all_now inserted this row in the session's current transaction."""
    return (table, row_id) in session.info.get(_INSERTED, ())


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_INSERTED, None)


def insert_now(session: Session, row: Row) -> Row:
    """INSERT this new object's row now, in the session's transaction, and make it persistent there."""
    state = _checked(row)
    statement, _, pairs, primary_key = _plan(state.mapper)
    result = session.connection().execute(statement, _values(state, pairs))
    inserted = result.last_inserted_params()
    set_committed_value(row, primary_key, result.inserted_primary_key[0])
    _remember(session, state, result.inserted_primary_key[0])
    for attribute, column in pairs:
        if column in inserted:
            set_committed_value(row, attribute, inserted[column])
    _attach(session, row)
    return row


def insert_all_now(session: Session, rows: Sequence[Row]) -> None:
    """INSERT these new objects of one model, which set the same attributes, in one call: one multi-row
    INSERT … RETURNING on PostgreSQL and MariaDB, one INSERT per row on SQLite (which does not promise
    RETURNING's order for multi-row INSERTs). Ids follow the order given. Attributes left to a column
    default are loaded when first read."""
    if not rows:
        return
    states = [_checked(row) for row in rows]
    _, numbered, pairs, primary_key = _plan(states[0].mapper)
    values = [_values(state, pairs) for state in states]
    one_model = all(state.mapper is states[0].mapper for state in states)
    if not one_model or any(v.keys() != values[0].keys() for v in values):
        raise ValueError("insert_all_now takes objects of one model that set the same attributes")
    ids = session.connection().execute(numbered, values).scalars().all()
    for row, row_id in zip(rows, ids, strict=True):
        set_committed_value(row, primary_key, row_id)
        _remember(session, inspect(row), row_id)
        _attach(session, row)


def _checked(row: object) -> InstanceState:
    state = inspect(row)
    if not state.transient:
        raise ValueError("insert_now takes a new object that is not in a session yet")
    if any(state.dict.get(prop.key) for prop in state.mapper.relationships):  # an empty collection is fine
        raise ValueError("insert_now does not cascade: set the foreign key columns, not relationships")
    return state


def _values(state: InstanceState, pairs: tuple[tuple[str, str], ...]) -> dict:
    values = state.dict
    return {column: values[attribute] for attribute, column in pairs if attribute in values}


def _remember(session: Session, state: InstanceState, row_id: int) -> None:
    session.info.setdefault(_INSERTED, set()).add((state.mapper.local_table.name, row_id))


def _attach(session: Session, row: object) -> None:
    """Persistent from now on: what it holds counts as loaded, anything else loads when read."""
    make_transient_to_detached(row)
    session.add(row)
