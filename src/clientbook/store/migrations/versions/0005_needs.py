"""needs: segments, membership history, questionnaires, needs clusters, response rates

Revision ID: 0005_needs
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_needs"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "needs_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "profile",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_clusters")),
        sa.UniqueConstraint(
            "model_version", "cluster", name=op.f("uq_needs_clusters_model_version_cluster")
        ),
    )
    op.create_table(
        "questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "questions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaires")),
        sa.UniqueConstraint("key", name=op.f("uq_questionnaires_key")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("refresh_minutes", sa.Integer(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("last_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "customer_needs",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_needs_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_needs")),
    )
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_questionnaire_responses_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_questionnaire_responses_questionnaire_id_questionnaires"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_responses")),
    )
    with op.batch_alter_table("questionnaire_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_responses_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_questionnaire_responses_questionnaire_id"),
            ["questionnaire_id"],
            unique=False,
        )

    op.create_table(
        "response_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("prior_rate", sa.Double(), nullable=False),
        sa.Column("rate", sa.Double(), nullable=False),
        sa.Column("lower", sa.Double(), nullable=False),
        sa.Column("upper", sa.Double(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_response_rates_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_rates")),
        sa.UniqueConstraint(
            "customer_id",
            "dimension",
            "value",
            name=op.f("uq_response_rates_customer_id_dimension_value"),
        ),
    )
    with op.batch_alter_table("response_rates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_rates_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "segment_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_segment_memberships_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_memberships_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_memberships")),
    )
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_segment_memberships_customer", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_segment_memberships_segment_left", ["segment_id", "left_at"], unique=False
        )

    op.create_table(
        "segment_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_refreshes_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_refreshes")),
    )
    with op.batch_alter_table("segment_refreshes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segment_refreshes_segment_id"), ["segment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("segment_refreshes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_refreshes_segment_id"))

    op.drop_table("segment_refreshes")
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_memberships_segment_left")
        batch_op.drop_index("ix_segment_memberships_customer")

    op.drop_table("segment_memberships")
    with op.batch_alter_table("response_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_rates_customer_id"))

    op.drop_table("response_rates")
    with op.batch_alter_table("questionnaire_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_responses_questionnaire_id"))
        batch_op.drop_index(batch_op.f("ix_questionnaire_responses_customer_id"))

    op.drop_table("questionnaire_responses")
    op.drop_table("customer_needs")
    op.drop_table("segments")
    op.drop_table("questionnaires")
    op.drop_table("needs_clusters")
