"""Identity resolution's own tables: the merge log (with what each merge moved), the review
queue of doubtful pairs, and the resolution runs that mark what is new."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, utcnow

#: What a merge or a review pair is about.
IDENTITY_KINDS = ("customer", "account")
#: Rules that merge: shared identifier, Splink match, a reviewer's decision.
MERGE_RULES = ("deterministic", "probabilistic", "review", "manual")
REVIEW_STATUSES = ("pending", "merged", "kept_apart")


class IdentityMerge(Base):
    """``absorbed_id`` was merged into ``survivor_id`` (customers or accounts), and why."""

    __tablename__ = "identity_merges"
    __table_args__ = (Index("ix_identity_merges_kind_absorbed", "kind", "absorbed_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    survivor_id: Mapped[int] = mapped_column(index=True)
    absorbed_id: Mapped[int]
    rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))
    run_id: Mapped[int | None]
    #: Columns of the survivor that this merge filled in, with the values they had before.
    filled: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]


class IdentityMergeMove(Base):
    """One row (table, primary key) that a merge moved from the absorbed to the survivor."""

    __tablename__ = "identity_merge_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    merge_id: Mapped[int] = mapped_column(
        ForeignKey("identity_merges.id", ondelete="CASCADE"), index=True
    )
    table_name: Mapped[str] = mapped_column(String(100))
    row_key: Mapped[str] = mapped_column(String(100))


class IdentityMergeDrop(Base):
    """A row a merge deleted because the survivor already had its twin; kept to restore it."""

    __tablename__ = "identity_merge_drops"

    id: Mapped[int] = mapped_column(primary_key=True)
    merge_id: Mapped[int] = mapped_column(
        ForeignKey("identity_merges.id", ondelete="CASCADE"), index=True
    )
    table_name: Mapped[str] = mapped_column(String(100))
    row: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IdentityReview(Base):
    """A pair that may be one person (or one organisation): pending, merged or kept apart."""

    __tablename__ = "identity_reviews"
    __table_args__ = (UniqueConstraint("kind", "left_id", "right_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    left_id: Mapped[int]
    right_id: Mapped[int]
    rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    probability: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))


class IdentityRun(Base):
    """One run of `clientbook identity resolve`: the high-water marks it reached, its counts."""

    __tablename__ = "identity_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    last_source_record_id: Mapped[int] = mapped_column(default=0)
    last_identifier_id: Mapped[int] = mapped_column(default=0)
    last_account_id: Mapped[int] = mapped_column(default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The trained match model (Splink settings JSON), reused by later runs.
    model: Mapped[dict[str, Any] | None]
