"""audit trail hash chain (issue 9)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

Adds each audit event's chain position, previous hash and own hash, the one-row `audit_head` that
writers lock to append (dsr.services.audit_chain), and the indexes of the audit log page. Events
already recorded are chained here in id order, in batches, so an upgraded database verifies.
"""

import sqlalchemy as sa
from alembic import op

from dsr.domain.audit_chain import GENESIS, LinkFields, link_hash
from dsr.models.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_audit_event_action")
        batch_op.create_index("ix_audit_event_action_id", ["action", "id"], unique=False)
        batch_op.create_index("ix_audit_event_actor_id", ["actor_user_id", "id"], unique=False)
        batch_op.create_index("ux_audit_event_chain_seq", ["chain_seq"], unique=True)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    seq, digest = chain_existing_events(op.get_bind())
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("entry_hash")),
        [{"id": 1, "seq": seq, "entry_hash": digest}],
    )


def chain_existing_events(connection) -> tuple[int, str]:
    """Chain the events recorded before this revision, in id order, a batch at a time."""
    events = sa.table(
        "audit_event",
        sa.column("id", sa.BigInteger()),
        sa.column("occurred_at", UTCDateTime()),
        sa.column("actor_kind", sa.String()),
        sa.column("actor_user_id", sa.Integer()),
        sa.column("actor_label", sa.String()),
        sa.column("request_id", sa.Integer()),
        sa.column("action", sa.String()),
        sa.column("details", sa.JSON()),
        sa.column("chain_seq", sa.BigInteger()),
        sa.column("prev_hash", sa.String()),
        sa.column("entry_hash", sa.String()),
    )
    store = (
        sa.update(events)
        .where(events.c.id == sa.bindparam("event_id"))
        .values(chain_seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev"), entry_hash=sa.bindparam("digest"))
    )
    seq, prev, after = 0, GENESIS, None
    while True:
        query = sa.select(events).order_by(events.c.id).limit(BATCH)
        if after is not None:
            query = query.where(events.c.id > after)
        rows = connection.execute(query).all()
        if not rows:
            return seq, prev
        links = []
        for row in rows:
            seq += 1
            fields = LinkFields(
                seq=seq,
                occurred_at=row.occurred_at,
                actor_kind=row.actor_kind,
                actor_user_id=row.actor_user_id,
                actor_label=row.actor_label,
                request_id=row.request_id,
                action=row.action,
                details=row.details,
            )
            digest = link_hash(fields, prev)
            links.append({"event_id": row.id, "seq": seq, "prev": prev, "digest": digest})
            prev = digest
        connection.execute(store, links)
        after = rows[-1].id


def downgrade():
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ux_audit_event_chain_seq")
        batch_op.drop_index("ix_audit_event_actor_id")
        batch_op.drop_index("ix_audit_event_action_id")
        batch_op.create_index("ix_audit_event_action", ["action"], unique=False)
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_seq")
