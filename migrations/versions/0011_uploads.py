"""requester uploads (issue 10)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

Files a requester attaches to a reply: the file is encrypted in DSR_UPLOAD_DIR under a random
name; this table says which request and message it belongs to and what it really is.
"""

import sqlalchemy as sa
from alembic import op

from dsr.models.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "request_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("application/pdf", "image/png", "image/jpeg", name="filekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["request_message.id"],
            name=op.f("fk_request_attachment_message_id_request_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_request.id"],
            name=op.f("fk_request_attachment_request_id_dsr_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_attachment")),
        sa.UniqueConstraint("file_name", name=op.f("uq_request_attachment_file_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_request_attachment_public_id")),
    )
    with op.batch_alter_table("request_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_attachment_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_request_attachment_request_id"), ["request_id"], unique=False)


def downgrade():
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a foreign key needs first).
    op.drop_table("request_attachment")
