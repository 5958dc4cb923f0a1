"""foundation: customers, accounts, commerce, contacts, consent

Revision ID: 0001_foundation
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_account_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("domain", sa.String(length=200), nullable=True),
        sa.Column("registration_number", sa.String(length=50), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["accounts.id"], name=op.f("fk_accounts_merged_into_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint(
            "source", "source_account_id", name=op.f("uq_accounts_source_source_account_id")
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["customers.id"], name=op.f("fk_customers_merged_into_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_merged_into_id"), ["merged_into_id"], unique=False
        )

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("price", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_table(
        "account_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_members_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_account_members_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_members")),
        sa.UniqueConstraint(
            "customer_id", "account_id", name=op.f("uq_account_members_customer_id_account_id")
        ),
    )
    with op.batch_alter_table("account_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_members_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_members_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "account_relationships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("related_account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_relationships_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["related_account_id"],
            ["accounts.id"],
            name=op.f("fk_account_relationships_related_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_relationships")),
        sa.UniqueConstraint(
            "account_id",
            "related_account_id",
            "kind",
            name=op.f("uq_account_relationships_account_id_related_account_id_kind"),
        ),
    )
    with op.batch_alter_table("account_relationships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_relationships_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_relationships_related_account_id"),
            ["related_account_id"],
            unique=False,
        )

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cases_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("source", "case_id", name=op.f("uq_cases_source_case_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consents_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_customer_purpose", ["customer_id", "purpose", "channel"], unique=False
        )

    op.create_table(
        "identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_identifiers_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifiers")),
        sa.UniqueConstraint(
            "type", "value", "customer_id", name=op.f("uq_identifiers_type_value_customer_id")
        ),
    )
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identifiers_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_identifiers_type_value", ["type", "value"], unique=False)

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("interaction_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=100), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_interactions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint(
            "source", "interaction_id", name=op.f("uq_interactions_source_interaction_id")
        ),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_customer_occurred", ["customer_id", "occurred_at"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("source", "order_id", name=op.f("uq_orders_source_order_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_customer_ordered", ["customer_id", "ordered_at"], unique=False
        )

    op.create_table(
        "preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("evidence_count", sa.Integer(), nullable=True),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_preferences_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preferences")),
    )
    with op.batch_alter_table("preferences", schema=None) as batch_op:
        batch_op.create_index("ix_preferences_customer_key", ["customer_id", "key"], unique=False)

    op.create_table(
        "source_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_record_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_source_records_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
        sa.UniqueConstraint(
            "source", "source_record_id", name=op.f("uq_source_records_source_source_record_id")
        ),
    )
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_source_records_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_pk", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_pk"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_pk_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_order_pk"), ["order_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_sku"), ["sku"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_sku"))
        batch_op.drop_index(batch_op.f("ix_order_lines_order_pk"))

    op.drop_table("order_lines")
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_records_customer_id"))

    op.drop_table("source_records")
    with op.batch_alter_table("preferences", schema=None) as batch_op:
        batch_op.drop_index("ix_preferences_customer_key")

    op.drop_table("preferences")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_ordered")

    op.drop_table("orders")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_customer_occurred")

    op.drop_table("interactions")
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_identifiers_type_value")
        batch_op.drop_index(batch_op.f("ix_identifiers_customer_id"))

    op.drop_table("identifiers")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_customer_purpose")

    op.drop_table("consents")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_customer_id"))

    op.drop_table("cases")
    with op.batch_alter_table("account_relationships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_relationships_related_account_id"))
        batch_op.drop_index(batch_op.f("ix_account_relationships_account_id"))

    op.drop_table("account_relationships")
    with op.batch_alter_table("account_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_members_customer_id"))
        batch_op.drop_index(batch_op.f("ix_account_members_account_id"))

    op.drop_table("account_members")
    op.drop_table("products")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_merged_into_id"))

    op.drop_table("customers")
    op.drop_table("api_tokens")
    op.drop_table("accounts")
