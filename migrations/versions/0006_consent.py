"""consent ledger, restriction and objection flags, unsubscribe and keyword evidence (issue 7)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

The people whose consents are recorded (data_subject, known by keyed hashes of verified
identifiers), the append-only ledger of grants and withdrawals, restriction and objection flags,
and the jobs that carry them to the systems of the data inventory.
"""

import sqlalchemy as sa
from alembic import op

from dsr.models.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject")),
        sa.UniqueConstraint("public_id", name=op.f("uq_data_subject_public_id")),
    )
    op.create_table(
        "propagation_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("system_key", sa.String(length=100), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("consent", "restriction", name="propagationscope", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "done", "failed", name="propagationstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("rows_changed", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subject.id"],
            name=op.f("fk_propagation_job_subject_id_data_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_propagation_job")),
        sa.UniqueConstraint("public_id", name=op.f("uq_propagation_job_public_id")),
    )
    with op.batch_alter_table("propagation_job", schema=None) as batch_op:
        batch_op.create_index("ix_propagation_job_due", ["status", "run_after"], unique=False)
        batch_op.create_index("ix_propagation_job_subject", ["subject_id", "created_at"], unique=False)

    op.create_table(
        "subject_identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("email", "phone", name="identifierkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("value_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subject.id"],
            name=op.f("fk_subject_identifier_subject_id_data_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identifier")),
        sa.UniqueConstraint("kind", "digest", name="uq_subject_identifier_kind_digest"),
    )
    with op.batch_alter_table("subject_identifier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_identifier_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "consent_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "form",
                "unsubscribe_link",
                "gpc",
                "sms_keyword",
                "api",
                "staff",
                name="consentsource",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("evidence_ref", sa.String(length=200), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_user.id"],
            name=op.f("fk_consent_event_recorded_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_request.id"],
            name=op.f("fk_consent_event_request_id_dsr_request"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subject.id"],
            name=op.f("fk_consent_event_subject_id_data_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_event")),
        sa.UniqueConstraint("subject_id", "topic", "source", "evidence_ref", name="uq_consent_event_evidence"),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.create_index("ix_consent_event_subject_topic", ["subject_id", "topic", "occurred_at"], unique=False)

    op.create_table(
        "processing_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("restriction", "objection", name="flagkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["staff_user.id"],
            name=op.f("fk_processing_flag_lifted_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_request.id"],
            name=op.f("fk_processing_flag_request_id_dsr_request"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["staff_user.id"], name=op.f("fk_processing_flag_set_by_id_staff_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subject.id"],
            name=op.f("fk_processing_flag_subject_id_data_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processing_flag")),
        sa.UniqueConstraint("public_id", name=op.f("uq_processing_flag_public_id")),
    )
    with op.batch_alter_table("processing_flag", schema=None) as batch_op:
        batch_op.create_index("ix_processing_flag_subject", ["subject_id", "lifted_at"], unique=False)


def downgrade():
    # Dropping a table drops its indexes (dropping them first would trip MySQL's foreign-key checks).
    op.drop_table("processing_flag")
    op.drop_table("consent_event")
    op.drop_table("subject_identifier")
    op.drop_table("propagation_job")
    op.drop_table("data_subject")
