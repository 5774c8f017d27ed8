"""casework: open flag and name search for the queue, confidential and duplicate links, letter templates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from dsr.domain.letters import DEFAULT_LETTERS
from dsr.models.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = ("submitted", "verified", "in_progress", "awaiting_requester")


def upgrade():
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_open", sa.Boolean(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("search_name", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("confidential", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dsr_request_duplicate_of_id_dsr_request"), "dsr_request", ["duplicate_of_id"], ["id"],
            ondelete="SET NULL",
        )
        # The new assignee index must exist before the old one goes: MariaDB's foreign key needs one.
        batch_op.create_index("ix_dsr_request_assignee_open_due", ["assignee_id", "is_open", "due_on", "id"])
        batch_op.drop_index("ix_dsr_request_assignee_status_due")
        batch_op.create_index("ix_dsr_request_open_due", ["is_open", "due_on", "id", "confidential", "assignee_id"])
        batch_op.create_index("ix_dsr_request_open_counts", ["is_open", "confidential", "status", "due_on"])
        batch_op.create_index("ix_dsr_request_search_name", ["search_name"])
        batch_op.create_index("ix_dsr_request_open_type_due", ["is_open", "request_type", "due_on", "id"])

    requests = sa.table(
        "dsr_request", sa.column("status"), sa.column("is_open", sa.Boolean()), sa.column("search_name"),
        sa.column("requester_name"),
    )
    op.execute(requests.update().values(is_open=requests.c.status.in_(OPEN), search_name=sa.func.lower(requests.c.requester_name)))

    op.create_table(
        "response_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_template")),
        sa.UniqueConstraint("key", name=op.f("uq_response_template_key")),
    )
    templates = sa.table(
        "response_template", sa.column("key"), sa.column("title"), sa.column("subject"), sa.column("body"),
        sa.column("updated_at", UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        templates,
        [{"key": t.key, "title": t.title, "subject": t.subject, "body": t.body, "updated_at": now} for t in DEFAULT_LETTERS],
    )


def downgrade():
    op.drop_table("response_template")
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.create_index("ix_dsr_request_assignee_status_due", ["assignee_id", "status", "due_on", "id"])
        batch_op.drop_index("ix_dsr_request_open_type_due")
        batch_op.drop_index("ix_dsr_request_search_name")
        batch_op.drop_index("ix_dsr_request_open_counts")
        batch_op.drop_index("ix_dsr_request_open_due")
        batch_op.drop_index("ix_dsr_request_assignee_open_due")
        batch_op.drop_constraint(batch_op.f("fk_dsr_request_duplicate_of_id_dsr_request"), type_="foreignkey")
        batch_op.drop_column("duplicate_of_id")
        batch_op.drop_column("confidential")
        batch_op.drop_column("search_name")
        batch_op.drop_column("is_open")
