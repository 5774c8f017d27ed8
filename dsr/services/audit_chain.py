"""Sealing audit events into the hash chain when the transaction that wrote them commits.

Why at commit, under a lock on one `audit_head` row:

- One chain, never forked. Appending reads the head (last position and hash) and writes it back; the
  head row is read with SELECT … FOR UPDATE on PostgreSQL and MariaDB, so a second writer waits until
  the first commits and then reads the head the first one left. SQLite has one writer at a time: the
  sealing transaction has already inserted its events, so it holds the write lock while it reads.
- Short and deadlock-free. `record_event` only adds the row (no extra query). At commit, the session
  first flushes everything else and inserts its events, so every other row lock is taken, then locks
  the head last and touches nothing but its own new events and the head. Nobody holding the head ever
  waits on anything, so waits cannot form a cycle, and the head is held only for the commit's last
  statements (a job that sends mail for a minute does not stall the web workers' audit writes). One
  shortcut keeps that promise: events about a request this same transaction inserted, with no staff
  user, are inserted after the head is locked, already chained (`seal_new`, what every filed request
  does: one statement fewer), since the only row locks their foreign keys need are already held.
- Hash what is stored, without reading it back. After the flush, the session holds each event's facts
  as the database will return them to `flask dsr audit verify`: `occurred_at` is an aware UTC time
  whose microseconds all three keep (`UTCDateTime`: SQLite text, PostgreSQL `timestamp`, MariaDB
  `DATETIME(6)`); `details` is hashed as `json.loads(json.dumps(details))`, which is what its JSON
  column returns, since each database keeps the text it is sent (SQLite and MariaDB as text,
  PostgreSQL's `json` type verbatim); the rest are integers and strings stored as given (MariaDB's
  default strict mode refuses an over-long string rather than cutting it). Nothing else writes an
  event row: events are only inserted, then sealed here. (Deleting a request or staff user would
  null an event's reference through its foreign key and show up as altered, sealed or not; the app
  deletes neither.) `tests/services/test_audit_chain.py` holds each database to this.

Chain order is `chain_seq`, the position handed out under the lock; ids come from the database's
sequence when rows are inserted and may interleave between transactions, so verification walks
`chain_seq`, not `id`. Until its transaction commits an event is invisible to everyone else; once
committed it is chained, so a committed event without a position was not written by this code.

What it does not protect against: anyone able to write the database can recompute every hash after
their edit (SHA-256 has no secret); the head hash that verification prints (and records as an
`audit.verified` event) is what to keep somewhere else to notice that. Rows written by code that
bypasses the ORM session are left unchained and reported as inserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import Row, bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dsr.domain.audit_chain import GENESIS, LinkFields, link_hash
from dsr.models.audit import AuditEvent, AuditHead
from dsr.models.insert import insert_all_now, inserted_here

HEAD_ID = 1
_UNSEALED = "dsr_audit_unsealed"
E = AuditEvent
LINK_COLUMNS = (
    E.id,
    E.chain_seq,
    E.occurred_at,
    E.actor_kind,
    E.actor_user_id,
    E.actor_label,
    E.request_id,
    E.action,
    E.details,
    E.prev_hash,
    E.entry_hash,
)


def link_fields(row: Row | AuditEvent, seq: int) -> LinkFields:
    """The hashed facts of an event row selected with LINK_COLUMNS (or of the event itself)."""
    return LinkFields(
        seq=seq,
        occurred_at=row.occurred_at,
        actor_kind=row.actor_kind,
        actor_user_id=row.actor_user_id,
        actor_label=row.actor_label,
        request_id=row.request_id,
        action=row.action,
        details=row.details,
    )


@event.listens_for(Session, "after_flush")
def _remember_new_events(session: Session, flush_context) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if new:
        session.info.setdefault(_UNSEALED, []).extend(new)


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction seals when it commits
    pending = sorted((obj for obj in session.new if isinstance(obj, AuditEvent)), key=lambda e: inspect(e).insert_order)
    if not session.info.get(_UNSEALED) and not pending:
        return
    # The events still waiting for a flush go in with one multi-row INSERT of their own, after the rest
    # is flushed (the rows they refer to exist by then): cheaper than the unit of work, same lock order.
    for waiting in pending:
        session.expunge(waiting)
    session.flush()  # every other row lock first; the head is always the last lock taken
    flushed = [e for e in session.info.pop(_UNSEALED, []) if inspect(e).persistent and e.chain_seq is None]
    if pending and not flushed and all(waits_on_no_one(session, e) for e in pending):
        seal_new(session, pending)
        return
    insert_all_now(session, pending)
    if flushed or pending:
        seal(session, flushed + pending)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_UNSEALED, None)


# Built once: the seal runs in every committing transaction that wrote events, and building a statement
# costs more than running it. They go straight to the session's connection (there is nothing to autoflush).
HEAD = AuditHead.__table__
_LOCK_HEAD = select(HEAD.c.seq, HEAD.c.entry_hash).where(HEAD.c.id == HEAD_ID).with_for_update()
_MOVE_HEAD = update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=bindparam("seq"), entry_hash=bindparam("digest"))
_LINK = (
    update(E.__table__)
    .where(E.__table__.c.id == bindparam("event_id"))
    .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"), entry_hash=bindparam("digest"))
)


def seal(session: Session, events: Iterable[AuditEvent]) -> None:
    """Chain these flushed, unsealed events after the current head, in id order."""
    ordered = sorted(events, key=lambda e: e.id)
    seq, prev = lock_head(session)
    links = []
    for sealed in ordered:
        seq += 1
        digest = link_hash(stored_fields(sealed, seq), prev)
        links.append({"event_id": sealed.id, "seq": seq, "prev": prev, "digest": digest})
        prev = digest
    connection = session.connection()
    connection.execute(_LINK, links)
    connection.execute(_MOVE_HEAD, {"seq": seq, "digest": prev})
    for sealed, link in zip(ordered, links, strict=True):
        set_committed_value(sealed, "chain_seq", link["seq"])
        set_committed_value(sealed, "prev_hash", link["prev"])
        set_committed_value(sealed, "entry_hash", link["digest"])


def waits_on_no_one(session: Session, event: AuditEvent) -> bool:
    """Whether inserting this event can wait for another transaction: not when it names no staff user
    and its request is one this transaction inserted, whose row lock its foreign key check needs and
    this transaction already holds (on SQLite: the write lock, taken before the head is read)."""
    return (
        event.actor_user_id is None
        and event.request_id is not None
        and inserted_here(session, "dsr_request", event.request_id)
    )


def seal_new(session: Session, events: list[AuditEvent]) -> None:
    """Chain these new, not yet inserted events after the head and insert them chained: one statement
    fewer than inserting then sealing. Only for events that wait on no one (`waits_on_no_one`), since
    their rows are written while the head is held."""
    seq, prev = lock_head(session)
    for new in events:
        seq += 1
        digest = link_hash(stored_fields(new, seq), prev)
        new.chain_seq, new.prev_hash, new.entry_hash = seq, prev, digest
        prev = digest
    insert_all_now(session, events)
    session.connection().execute(_MOVE_HEAD, {"seq": seq, "digest": prev})


def stored_fields(event: AuditEvent, seq: int) -> LinkFields:
    """The hashed facts of a flushed event as the database gives them back (see the module docstring)."""
    return replace(link_fields(event, seq), details=json.loads(json.dumps(event.details)))


def lock_head(session: Session) -> tuple[int, str]:
    """The head's position and hash, locked until commit; created when missing (a fresh database)."""
    head = session.connection().execute(_LOCK_HEAD).one_or_none()
    if head is not None:
        return head.seq, head.entry_hash
    seq, digest = last_link(session)
    session.execute(insert(HEAD).values(id=HEAD_ID, seq=seq, entry_hash=digest))
    return seq, digest


def last_link(session: Session) -> tuple[int, str]:
    """The last chained event's position and hash, (0, GENESIS) when there is none."""
    row = session.execute(
        select(E.chain_seq, E.entry_hash).where(E.chain_seq.is_not(None)).order_by(E.chain_seq.desc()).limit(1)
    ).one_or_none()
    return (row.chain_seq, row.entry_hash) if row else (0, GENESIS)


def read_head(session: Session) -> tuple[int, str] | None:
    head = session.execute(select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == HEAD_ID)).one_or_none()
    return (head.seq, head.entry_hash) if head else None
