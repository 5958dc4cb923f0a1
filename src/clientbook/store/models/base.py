"""Declarative base, naming convention and column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON documents: JSONB on PostgreSQL, JSON text elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")
#: Money: exact in the database, float in Python (analytics wants floats).
Money = Numeric(14, 2, asdecimal=False)
#: Instants, always stored in UTC.
Instant = DateTime(timezone=True)


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {dict[str, Any]: JSONDoc, datetime: Instant}
