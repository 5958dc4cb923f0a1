"""Interactions (every contact in every medium), cases, preferences and the consent ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, utcnow

CHANNELS = (
    "web",
    "app",
    "call_centre",
    "store",
    "email",
    "direct_mail",
    "phone",
    "chat",
    "sms",
    "social",
)
DIRECTIONS = ("inbound", "outbound")
CASE_STATUSES = ("open", "in_progress", "resolved", "closed")
PREFERENCE_SOURCES = ("observed", "declared")
CONSENT_STATUSES = ("granted", "withdrawn")


class Interaction(Base):
    """One contact with a customer in any medium."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("source", "interaction_id"),
        Index("ix_interactions_customer_occurred", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    interaction_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    occurred_at: Mapped[datetime]
    duration_seconds: Mapped[int | None]
    type: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A complaint or an error, recorded until resolved and kept afterwards."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("source", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    category: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    channel: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Preference(Base):
    """What a customer likes: observed from behaviour or declared by the customer."""

    __tablename__ = "preferences"
    __table_args__ = (Index("ix_preferences_customer_key", "customer_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None]
    evidence_count: Mapped[int | None]
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    """One entry of the append-only consent ledger: purpose x channel, granted or withdrawn."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer_purpose", "customer_id", "purpose", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(100))
