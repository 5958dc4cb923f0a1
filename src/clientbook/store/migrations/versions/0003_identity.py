"""identity: merge log, review queue, runs

Revision ID: 0003_identity
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_identity"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "identity_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("absorbed_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column(
            "filled",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_merges")),
    )
    with op.batch_alter_table("identity_merges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_merges_kind_absorbed", ["kind", "absorbed_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_merges_survivor_id"), ["survivor_id"], unique=False
        )

    op.create_table(
        "identity_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("left_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("probability", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_reviews")),
        sa.UniqueConstraint(
            "kind", "left_id", "right_id", name=op.f("uq_identity_reviews_kind_left_id_right_id")
        ),
    )
    with op.batch_alter_table("identity_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_reviews_status"), ["status"], unique=False)

    op.create_table(
        "identity_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_source_record_id", sa.Integer(), nullable=False),
        sa.Column("last_identifier_id", sa.Integer(), nullable=False),
        sa.Column("last_account_id", sa.Integer(), nullable=False),
        sa.Column(
            "stats",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "model",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_runs")),
    )
    op.create_table(
        "identity_merge_drops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=100), nullable=False),
        sa.Column(
            "row",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["identity_merges.id"],
            name=op.f("fk_identity_merge_drops_merge_id_identity_merges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_merge_drops")),
    )
    with op.batch_alter_table("identity_merge_drops", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_merge_drops_merge_id"), ["merge_id"], unique=False
        )

    op.create_table(
        "identity_merge_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=100), nullable=False),
        sa.Column("row_key", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["identity_merges.id"],
            name=op.f("fk_identity_merge_moves_merge_id_identity_merges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_merge_moves")),
    )
    with op.batch_alter_table("identity_merge_moves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_merge_moves_merge_id"), ["merge_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("identity_merge_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_merge_moves_merge_id"))

    op.drop_table("identity_merge_moves")
    with op.batch_alter_table("identity_merge_drops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_merge_drops_merge_id"))

    op.drop_table("identity_merge_drops")
    op.drop_table("identity_runs")
    with op.batch_alter_table("identity_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_reviews_status"))

    op.drop_table("identity_reviews")
    with op.batch_alter_table("identity_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_merges_survivor_id"))
        batch_op.drop_index("ix_identity_merges_kind_absorbed")

    op.drop_table("identity_merges")
