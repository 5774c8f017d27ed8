"""erasure plans, approvals and checkpoints, suppression list, correction items (issue 6)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

from dsr.models.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minimised_at", UTCDateTime(), nullable=True))
    op.create_table(
        "suppression_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_request.id"],
            name=op.f("fk_suppression_entry_request_id_dsr_request"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression_entry")),
        sa.UniqueConstraint("kind", "digest", name="uq_suppression_entry_kind_digest"),
    )
    op.create_table(
        "correction_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("asked_field", sa.String(length=200), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("system_key", sa.String(length=100), nullable=True),
        sa.Column("table_name", sa.String(length=100), nullable=True),
        sa.Column("column_name", sa.String(length=100), nullable=True),
        sa.Column(
            "decision",
            sa.Enum("pending", "approved", "rejected", name="decision", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["staff_user.id"],
            name=op.f("fk_correction_item_decided_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_request.id"],
            name=op.f("fk_correction_item_request_id_dsr_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_item")),
        sa.UniqueConstraint("public_id", name=op.f("uq_correction_item_public_id")),
    )
    with op.batch_alter_table("correction_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_item_request_id"), ["request_id"], unique=False)

    op.create_table(
        "erasure_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "prepared", "approved", "done", "failed", "superseded", name="planstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("prepared_by_id", sa.Integer(), nullable=True),
        sa.Column("prepared_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["staff_user.id"],
            name=op.f("fk_erasure_plan_approved_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["fulfilment_job.id"], name=op.f("fk_erasure_plan_job_id_fulfilment_job"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["prepared_by_id"],
            ["staff_user.id"],
            name=op.f("fk_erasure_plan_prepared_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["dsr_request.id"], name=op.f("fk_erasure_plan_request_id_dsr_request"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_plan")),
        sa.UniqueConstraint("public_id", name=op.f("uq_erasure_plan_public_id")),
    )
    with op.batch_alter_table("erasure_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasure_plan_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("fulfilment_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_ref", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_fulfilment_task_external_ref"), ["external_ref"])

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signing_key_ref", sa.String(length=100), nullable=True))
        batch_op.alter_column(
            "recipient", existing_type=sa.VARCHAR(length=254), type_=sa.String(length=1000), existing_nullable=False
        )


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("signing_key_ref")
        batch_op.alter_column("recipient", existing_type=sa.String(length=1000), type_=sa.String(length=254))
    with op.batch_alter_table("fulfilment_task", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_fulfilment_task_external_ref"), type_="unique")
        batch_op.drop_column("external_ref")
    op.drop_table("correction_item")
    op.drop_table("erasure_plan")
    op.drop_table("suppression_entry")
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.drop_column("minimised_at")
