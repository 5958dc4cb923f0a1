"""Units of work behind the CLI and API: review queue, merge log, unmerge, export, reports."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientbook.errors import Conflict, NotFound
from clientbook.identity.locks import lock_parties
from clientbook.identity.merging import UnmergeResult, keep_apart, merge_parties, survivor_chain
from clientbook.identity.merging import unmerge as unmerge_in
from clientbook.identity.policy import Policy
from clientbook.identity.quality import Quality, linkable_labels, pairwise_quality, read_labels
from clientbook.store.db import session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.identity import IdentityMerge, IdentityReview
from clientbook.store.models.parties import Account, Customer, Identifier, SourceRecord

Decision = Literal["merge", "keep_apart"]


class PartySummary(BaseModel):
    """What a reviewer needs to tell two people (or organisations) apart."""

    id: int
    name: str | None
    birth_date: str | None
    email: str | None
    phone: str | None
    postcode: str | None
    identifiers: list[str]


class ReviewOut(BaseModel):
    id: int
    kind: str
    rule: str
    reason: str
    probability: float | None
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    left: PartySummary
    right: PartySummary


class MergeOut(BaseModel):
    id: int
    kind: str
    survivor_id: int
    absorbed_id: int
    rule: str
    reason: str
    source: str | None
    created_at: datetime
    undone_at: datetime | None


class SharedValue(BaseModel):
    """An identifier value held by many customers: it no longer links anyone."""

    type: str
    value: str
    customers: int


def list_reviews(
    url: str, *, status: str = "pending", kind: str | None = None, limit: int = 50
) -> list[ReviewOut]:
    """Review pairs, the most probable first."""
    with session_scope(url, write=False) as session:
        query = select(IdentityReview).where(IdentityReview.status == status)
        if kind:
            query = query.where(IdentityReview.kind == kind)
        query = query.order_by(
            IdentityReview.probability.desc().nulls_last(), IdentityReview.id
        ).limit(limit)
        return [_review_out(session, r) for r in session.scalars(query)]


def decide_review(url: str, review_id: int, decision: Decision, *, by: str) -> ReviewOut:
    """Merge the pair, or keep it apart for good."""
    with session_scope(url) as session:
        review = session.get(IdentityReview, review_id, with_for_update=True)
        if review is None:
            raise NotFound(f"No review pair {review_id}.", hint="List them: `identity review`.")
        if review.status != "pending":
            raise Conflict(f"Review pair {review_id} was already decided ({review.status}).")
        if decision == "keep_apart":
            keep_apart(session, review.kind, review.left_id, review.right_id, decided_by=by)
        else:
            left = survivor_chain(session, review.left_id, review.kind)[-1]
            right = survivor_chain(session, review.right_id, review.kind)[-1]
            if left != right:
                lock_parties(session, (left, right), kind=review.kind)
                merge_parties(
                    session,
                    min(left, right),
                    max(left, right),
                    kind=review.kind,
                    rule="review",
                    reason=f"review {review.id} by {by}: {review.reason}",
                )
            review.status = "merged"
            review.decided_at = utcnow()
            review.decided_by = by
        session.flush()
        session.refresh(review)
        return _review_out(session, review)


def list_merges(url: str, *, party_id: int | None = None, limit: int = 50) -> list[MergeOut]:
    """The merge log, newest first; with ``party_id``, only merges that involve it."""
    with session_scope(url, write=False) as session:
        query = select(IdentityMerge).order_by(IdentityMerge.id.desc()).limit(limit)
        if party_id is not None:
            query = query.where(
                (IdentityMerge.survivor_id == party_id) | (IdentityMerge.absorbed_id == party_id)
            )
        return [MergeOut.model_validate(m, from_attributes=True) for m in session.scalars(query)]


def unmerge(
    url: str, *, merge_id: int | None = None, absorbed_id: int | None = None, by: str = "cli"
) -> UnmergeResult:
    """Undo one merge, named by its id or by the customer it absorbed."""
    with session_scope(url) as session:
        if merge_id is None:
            merge_id = session.scalar(
                select(IdentityMerge.id)
                .where(
                    IdentityMerge.kind == "customer",
                    IdentityMerge.absorbed_id == absorbed_id,
                    IdentityMerge.undone_at.is_(None),
                )
                .order_by(IdentityMerge.id.desc())
            )
            if merge_id is None:
                raise NotFound(f"Customer {absorbed_id} is not merged into anyone.")
        return unmerge_in(session, merge_id, decided_by=by)


def export_records(url: str, out: Path) -> int:
    """Write ``source, source_record_id, customer_id`` (the survivor) for every record."""
    with session_scope(url, write=False) as session:
        parent: dict[int, int] = {
            c: m
            for c, m in session.execute(
                select(Customer.id, Customer.merged_into_id).where(
                    Customer.merged_into_id.is_not(None)
                )
            ).all()
            if m is not None
        }
        rows = session.execute(
            select(
                SourceRecord.source, SourceRecord.source_record_id, SourceRecord.customer_id
            ).order_by(SourceRecord.source, SourceRecord.source_record_id)
        ).all()
        count = 0
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source", "source_record_id", "customer_id"])
            for source, record_id, customer_id in rows:
                while customer_id in parent:
                    customer_id = parent[customer_id]
                writer.writerow([source, record_id, customer_id])
                count += 1
        return count


def evaluate(url: str, truth: Path) -> tuple[Quality, Quality]:
    """Pairwise quality against ``truth`` (CSV: source, source_record_id, person_id), and the
    same on linkable pairs only (:func:`~clientbook.identity.quality.linkable_labels`: there,
    only the recall means something)."""
    labels = read_labels(truth, "person_id")
    with tempfile.TemporaryDirectory() as folder:
        exported = Path(folder) / "export.csv"
        export_records(url, exported)
        predicted = read_labels(exported, "customer_id")
    with session_scope(url, write=False) as session:
        attributes = {
            (source, record_id): attrs or {}
            for source, record_id, attrs in session.execute(
                select(SourceRecord.source, SourceRecord.source_record_id, SourceRecord.attributes)
            )
        }
    linkable = linkable_labels({r: p for r, p in labels.items() if r in predicted}, attributes)
    return pairwise_quality(predicted, labels), pairwise_quality(predicted, linkable)


def shared_values(url: str, policy: Policy, *, limit: int = 100) -> list[SharedValue]:
    """Values held by ``identity_shared_limit`` customers or more (family e-mails, shop phones)."""
    with session_scope(url, write=False) as session:
        holders = func.count(func.distinct(Identifier.customer_id))
        rows = session.execute(
            select(Identifier.type, Identifier.value, holders)
            .group_by(Identifier.type, Identifier.value)
            .having(holders >= policy.shared_limit)
            .order_by(holders.desc(), Identifier.type, Identifier.value)
            .limit(limit)
        ).all()
        return [SharedValue(type=t, value=v, customers=n) for t, v, n in rows]


def _review_out(session: Session, review: IdentityReview) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        kind=review.kind,
        rule=review.rule,
        reason=review.reason,
        probability=review.probability,
        status=review.status,
        created_at=review.created_at,
        decided_at=review.decided_at,
        decided_by=review.decided_by,
        left=_summary(session, review.kind, review.left_id),
        right=_summary(session, review.kind, review.right_id),
    )


def _summary(session: Session, kind: str, party_id: int) -> PartySummary:
    if kind == "account":
        account = session.get(Account, party_id)
        if account is None:
            return PartySummary(
                id=party_id,
                name=None,
                birth_date=None,
                email=None,
                phone=None,
                postcode=None,
                identifiers=[],
            )
        return PartySummary(
            id=party_id,
            name=account.name,
            birth_date=None,
            email=account.domain,
            phone=None,
            postcode=account.postcode,
            identifiers=[x for x in (account.registration_number,) if x],
        )
    customer = session.get(Customer, party_id)
    identifiers = session.execute(
        select(Identifier.type, Identifier.value)
        .where(Identifier.customer_id == party_id)
        .order_by(Identifier.type, Identifier.value)
        .limit(20)
    ).all()
    name = None
    if customer is not None:
        name = " ".join(x for x in (customer.first_name, customer.last_name) if x) or None
    return PartySummary(
        id=party_id,
        name=name,
        birth_date=customer.birth_date.isoformat() if customer and customer.birth_date else None,
        email=customer.email if customer else None,
        phone=customer.phone if customer else None,
        postcode=customer.postcode if customer else None,
        identifiers=[f"{t}:{v}" for t, v in identifiers],
    )
