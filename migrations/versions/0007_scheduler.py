"""scheduler job store, reminder log and job run history (issue 8)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

apscheduler_jobs is APScheduler 3's SQLAlchemyJobStore table, created here (not by the scheduler)
so the schema has one owner; sent_reminder holds one row per reminder key, written with its outbox
message; job_run keeps the latest runs of each job for Admin → Jobs.
"""

import sqlalchemy as sa
from alembic import op

from dsr.models.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Double(), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False)

    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("scheduled", "once", "manual", name="jobtrigger", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Enum("ok", "error", name="joboutcome", native_enum=False, length=32), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["staff_user.id"],
            name=op.f("fk_job_run_requested_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index("ix_job_run_job_started", ["job_id", "started_at"], unique=False)

    op.create_table(
        "sent_reminder",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("about", sa.Date(), nullable=True),
        sa.Column("on_day", sa.Date(), nullable=True),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_message.id"],
            name=op.f("fk_sent_reminder_message_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["staff_user.id"],
            name=op.f("fk_sent_reminder_recipient_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_request.id"],
            name=op.f("fk_sent_reminder_request_id_dsr_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_reminder")),
        sa.UniqueConstraint("key", name=op.f("uq_sent_reminder_key")),
    )
    with op.batch_alter_table("sent_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_reminder_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.create_index("ix_dsr_request_open_acknowledge", ["is_open", "acknowledge_by"], unique=False)


def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key needs first).
    with op.batch_alter_table("dsr_request", schema=None) as batch_op:
        batch_op.drop_index("ix_dsr_request_open_acknowledge")
    for table in ("sent_reminder", "job_run", "apscheduler_jobs"):
        op.drop_table(table)
