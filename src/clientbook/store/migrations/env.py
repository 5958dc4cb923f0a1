"""Alembic environment: runs migrations on the engine handed over by ``clientbook.store.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from clientbook.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run online migrations (Clientbook never emits offline SQL scripts)."""
    engine = config.attributes.get("engine") or create_engine(
        config.get_main_option("sqlalchemy.url") or ""
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
