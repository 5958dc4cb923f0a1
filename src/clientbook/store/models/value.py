"""Value analytics' tables: scoring runs, per-customer scores, lifecycle stage changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, utcnow

#: Lifecycle stages, in the order a customer normally moves through them.
LIFECYCLE_STAGES = (
    "anonymous_visitor",
    "registered",
    "first_purchase",
    "repeat_buyer",
    "loyal",
    "lapsing",
    "inactive",
)


class ScoreRun(Base):
    """One `clientbook analyse`: as-of date, engine, fitted models and the settings used."""

    __tablename__ = "score_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    model_version: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(16))
    customers: Mapped[int]
    models: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seconds: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set once every score of the run is stored; readers use the latest finished run.
    finished_at: Mapped[datetime | None]


class Score(Base):
    """A customer's value scores as of a date (one row per customer and run).

    RFM columns are null for customers without a purchase. ``clv`` and ``current_profitability``
    are profit (margin minus cost to serve), not revenue.
    """

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_customer_as_of", "customer_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("score_runs.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    as_of: Mapped[date]
    model_version: Mapped[str] = mapped_column(String(64))
    purchases: Mapped[int]
    recency_days: Mapped[int | None]
    frequency: Mapped[int | None]
    monetary: Mapped[float | None] = mapped_column(Float)
    r_score: Mapped[int | None]
    f_score: Mapped[int | None]
    m_score: Mapped[int | None]
    rfm_score: Mapped[str | None] = mapped_column(String(8))
    rfm_segment: Mapped[str | None] = mapped_column(String(32))
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_transactions: Mapped[float | None] = mapped_column(Float)
    expected_spend: Mapped[float | None] = mapped_column(Float)
    margin_rate: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float | None] = mapped_column(Float)
    revenue_12m: Mapped[float] = mapped_column(Float)
    margin_12m: Mapped[float] = mapped_column(Float)
    cost_to_serve_12m: Mapped[float] = mapped_column(Float)
    current_profitability: Mapped[float] = mapped_column(Float)
    lifecycle_stage: Mapped[str] = mapped_column(String(32))


class LifecycleChange(Base):
    """A customer moved from one lifecycle stage to another, on a date."""

    __tablename__ = "lifecycle_changes"
    __table_args__ = (
        Index("ix_lifecycle_changes_customer", "customer_id", "changed_on"),
        Index("ix_lifecycle_changes_to_on", "to_stage", "changed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    changed_on: Mapped[date]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("score_runs.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
