"""The operational store: SQLAlchemy models, Alembic migrations, sessions and queries."""
