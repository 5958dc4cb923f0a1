"""Segments and their membership history, questionnaires, needs clusters and response rates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, JSONDoc, utcnow


class Segment(Base):
    """A named segment: a declarative definition (JSON) compiled to SQL at refresh time."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]]
    refresh_minutes: Mapped[int | None]
    member_count: Mapped[int] = mapped_column(default=0)
    last_refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SegmentMembership(Base):
    """One stay of a customer in a segment: entered at, left at (open while still a member)."""

    __tablename__ = "segment_memberships"
    __table_args__ = (
        Index("ix_segment_memberships_segment_left", "segment_id", "left_at"),
        Index("ix_segment_memberships_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    entered_at: Mapped[datetime]
    left_at: Mapped[datetime | None]


class SegmentRefresh(Base):
    """One refresh of a segment: when, why, and how many entered and left."""

    __tablename__ = "segment_refreshes"

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    refreshed_at: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(16))
    members: Mapped[int]
    entered: Mapped[int]
    left: Mapped[int]


class Questionnaire(Base):
    """A form that asks customers what they prefer; answers become declared preferences."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionnaireResponse(Base):
    """One submitted questionnaire: the answers as given, who gave them and through what."""

    __tablename__ = "questionnaire_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    answers: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class NeedsCluster(Base):
    """One cluster of a needs-segmentation run, described in words."""

    __tablename__ = "needs_clusters"
    __table_args__ = (UniqueConstraint("model_version", "cluster"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    size: Mapped[int]
    profile: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerNeeds(Base):
    """The needs cluster a customer belongs to (latest run)."""

    __tablename__ = "customer_needs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseRate(Base):
    """A customer's estimated response rate to one channel or one message style."""

    __tablename__ = "response_rates"
    __table_args__ = (UniqueConstraint("customer_id", "dimension", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(32))
    contacts: Mapped[int]
    responses: Mapped[int]
    prior_rate: Mapped[float]
    rate: Mapped[float]
    lower: Mapped[float]
    upper: Mapped[float]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
