"""identity verification challenges, requester messages, collected factors on requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from dsr.models.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("factors_done", sa.String(length=64), server_default="", nullable=False))

    op.create_table(
        "verification_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("email", "sms", "data_point", "manual", name="factor", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "state", sa.Enum("active", "used", "void", name="challengestate", native_enum=False, length=32), nullable=False
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(), nullable=False),
        sa.Column("link_expires_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["dsr_request.id"], name=op.f("fk_verification_challenge_request_id_dsr_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_challenge")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_verification_challenge_link_hash")),
    )
    with op.batch_alter_table("verification_challenge", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_challenge_request_channel", ["request_id", "channel", "created_at"], unique=False
        )

    op.create_table(
        "request_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("note", "to_requester", "from_requester", name="messagekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_user.id"], name=op.f("fk_request_message_author_id_staff_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["dsr_request.id"], name=op.f("fk_request_message_request_id_dsr_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_message")),
    )
    with op.batch_alter_table("request_message", schema=None) as batch_op:
        batch_op.create_index("ix_request_message_request_time", ["request_id", "created_at"], unique=False)


def downgrade():
    op.drop_table("request_message")
    op.drop_table("verification_challenge")
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.drop_column("factors_done")
