"""Raw events as received by the collector (append-only) and the write keys that send them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, utcnow

#: Big integers on PostgreSQL; plain INTEGER on SQLite, where only that aliases the rowid.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class WriteKey(Base):
    """A collector write key, stored as its SHA-256 digest; it may only append events."""

    __tablename__ = "write_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Event(Base):
    """One message of the Segment spec, kept as received; unique on (source, message_id).

    The message itself never changes; ``processed_at`` and ``error`` record what the processor
    made of it (interactions, orders, ... carry the customer).
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "message_id"),
        Index(
            "ix_events_pending",
            "id",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(100))
    write_key_id: Mapped[int] = mapped_column(ForeignKey("write_keys.id"))
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    anonymous_id: Mapped[str | None] = mapped_column(String(200))
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    timestamp_flag: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))
