"""Segments: create, list, show, refresh (on demand or when due), members and their history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from clientbook.errors import Conflict, NotFound, UsageError
from clientbook.store.consent_ledger import granted_clause
from clientbook.store.db import session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.needs import Segment, SegmentMembership, SegmentRefresh
from clientbook.store.models.parties import Customer
from clientbook.store.segment_compiler import compile_segment
from clientbook.store.segment_language import parse_document, validate_document


class SegmentOut(BaseModel):
    """A segment as shown to users."""

    name: str
    description: str | None
    definition: dict[str, Any]
    refresh_minutes: int | None
    member_count: int
    last_refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RefreshOut(BaseModel):
    """The outcome of one refresh."""

    segment: str
    refreshed_at: datetime
    trigger: str
    members: int
    entered: int
    left: int


class MemberOut(BaseModel):
    """A current (or past, with ``at``) member."""

    customer_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    entered_at: datetime


class StayOut(BaseModel):
    """One stay of a customer in a segment: entered, and left (None while still a member)."""

    customer_id: int
    entered_at: datetime
    left_at: datetime | None


def _out(row: Segment) -> SegmentOut:
    return SegmentOut.model_validate(row, from_attributes=True)


def _get(session: Session, name: str) -> Segment:
    row = session.scalar(select(Segment).where(Segment.name == name))
    if row is None:
        raise NotFound(f"No segment called {name!r}.", hint="`clientbook segment list` shows them.")
    return row


def check_definition(document: Any) -> dict[str, Any]:
    """Validate a parsed document and try compiling it (fields and values are checked there)."""
    document = validate_document(document)
    compile_segment(document["where"])
    return document


def save_segment(
    url: str, source: str | bytes | dict[str, Any], *, replace: bool = False
) -> SegmentOut:
    """Create a segment from a JSON/YAML text or a parsed document (``replace`` updates one)."""
    document = parse_document(source) if isinstance(source, (str, bytes)) else source
    document = check_definition(document)
    with session_scope(url) as session:
        row = session.scalar(select(Segment).where(Segment.name == document["name"]))
        if row is not None and not replace:
            raise Conflict(
                f"A segment called {document['name']!r} exists.",
                hint="Use --replace (PUT in the API) to change its definition.",
            )
        if row is None:
            row = Segment(name=document["name"], member_count=0)
            session.add(row)
        row.description = document.get("description")
        row.definition = document["where"]
        row.refresh_minutes = document.get("refresh_minutes")
        row.updated_at = utcnow()
        session.flush()
        return _out(row)


def list_segments(url: str) -> list[SegmentOut]:
    """Every segment, by name."""
    with session_scope(url, write=False) as session:
        return [_out(r) for r in session.scalars(select(Segment).order_by(Segment.name))]


def get_segment(url: str, name: str) -> SegmentOut:
    """One segment."""
    with session_scope(url, write=False) as session:
        return _out(_get(session, name))


def delete_segment(url: str, name: str) -> None:
    """Delete a segment with its membership history."""
    with session_scope(url) as session:
        row = _get(session, name)
        session.execute(delete(SegmentMembership).where(SegmentMembership.segment_id == row.id))
        session.execute(delete(SegmentRefresh).where(SegmentRefresh.segment_id == row.id))
        session.delete(row)


def preview_ids(url: str, where: dict[str, Any], now: datetime | None = None) -> list[int]:
    """The ids matching a condition tree now, without storing anything."""
    check_definition({"name": "preview", "where": where})
    with session_scope(url, write=False) as session:
        return list(session.scalars(compile_segment(where, now)))


def refresh_segment(
    url: str, name: str, *, trigger: str = "manual", now: datetime | None = None
) -> RefreshOut:
    """Recompute the members; record who entered and who left, and when."""
    now = now or datetime.now(UTC)
    with session_scope(url) as session:
        row = _get(session, name)
        current = set(session.scalars(compile_segment(row.definition, now)))
        open_stays: dict[int, int] = {
            customer: stay
            for customer, stay in session.execute(
                select(SegmentMembership.customer_id, SegmentMembership.id).where(
                    SegmentMembership.segment_id == row.id, SegmentMembership.left_at.is_(None)
                )
            )
        }
        entered = sorted(current - open_stays.keys())
        leaving = [open_stays[c] for c in open_stays.keys() - current]
        for start in range(0, len(leaving), 5000):
            session.execute(
                update(SegmentMembership)
                .where(SegmentMembership.id.in_(leaving[start : start + 5000]))
                .values(left_at=now)
            )
        if entered:
            session.execute(
                insert(SegmentMembership),
                [{"segment_id": row.id, "customer_id": c, "entered_at": now} for c in entered],
            )
        row.member_count = len(current)
        row.last_refreshed_at = now
        session.add(
            SegmentRefresh(
                segment_id=row.id,
                refreshed_at=now,
                trigger=trigger,
                members=len(current),
                entered=len(entered),
                left=len(leaving),
            )
        )
        return RefreshOut(
            segment=name,
            refreshed_at=now,
            trigger=trigger,
            members=len(current),
            entered=len(entered),
            left=len(leaving),
        )


def due_segments(url: str, now: datetime | None = None) -> list[str]:
    """Segments with a schedule whose last refresh is older than their ``refresh_minutes``."""
    now = now or datetime.now(UTC)
    with session_scope(url, write=False) as session:
        rows = session.scalars(select(Segment).where(Segment.refresh_minutes.is_not(None))).all()
        due = []
        for r in rows:
            last = r.last_refreshed_at
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            if last is None or last + timedelta(minutes=r.refresh_minutes or 0) <= now:
                due.append(r.name)
        return sorted(due)


def refresh_due(url: str, now: datetime | None = None) -> list[RefreshOut]:
    """Refresh every segment that is due (what the scheduler runs)."""
    return [refresh_segment(url, n, trigger="schedule", now=now) for n in due_segments(url, now)]


def segment_members(
    url: str, name: str, *, at: datetime | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[MemberOut]]:
    """Members now (or at ``at``, from the history): the total and one page."""
    if not 1 <= limit <= 100_000 or offset < 0:
        raise UsageError("limit must be 1..100000 and offset 0 or more.")
    with session_scope(url, write=False) as session:
        row = _get(session, name)
        alive: ColumnElement[bool]
        if at is None:
            alive = SegmentMembership.left_at.is_(None)
        else:
            alive = and_(
                SegmentMembership.entered_at <= at,
                or_(SegmentMembership.left_at.is_(None), SegmentMembership.left_at > at),
            )
        where = and_(SegmentMembership.segment_id == row.id, alive)
        total = session.scalar(select(func.count(SegmentMembership.id)).where(where)) or 0
        rows = session.execute(
            select(
                Customer.id,
                Customer.first_name,
                Customer.last_name,
                Customer.email,
                SegmentMembership.entered_at,
            )
            .join(Customer, Customer.id == SegmentMembership.customer_id)
            .where(where)
            .order_by(Customer.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return total, [
            MemberOut(
                customer_id=r[0], first_name=r[1], last_name=r[2], email=r[3], entered_at=r[4]
            )
            for r in rows
        ]


def member_ids(url: str, name: str) -> list[int]:
    """Every current member's id."""
    with session_scope(url, write=False) as session:
        row = _get(session, name)
        return list(
            session.scalars(
                select(SegmentMembership.customer_id)
                .where(SegmentMembership.segment_id == row.id, SegmentMembership.left_at.is_(None))
                .order_by(SegmentMembership.customer_id)
            )
        )


def segment_history(
    url: str, name: str, *, customer_id: int | None = None, limit: int = 1000
) -> tuple[list[RefreshOut], list[StayOut]]:
    """The refreshes (newest first) and the stays of members (newest first)."""
    with session_scope(url, write=False) as session:
        row = _get(session, name)
        refreshes = session.scalars(
            select(SegmentRefresh)
            .where(SegmentRefresh.segment_id == row.id)
            .order_by(SegmentRefresh.refreshed_at.desc(), SegmentRefresh.id.desc())
            .limit(limit)
        ).all()
        query = select(SegmentMembership).where(SegmentMembership.segment_id == row.id)
        if customer_id is not None:
            query = query.where(SegmentMembership.customer_id == customer_id)
        stays = session.scalars(
            query.order_by(SegmentMembership.entered_at.desc(), SegmentMembership.id.desc()).limit(
                limit
            )
        ).all()
        return (
            [
                RefreshOut(
                    segment=name,
                    refreshed_at=r.refreshed_at,
                    trigger=r.trigger,
                    members=r.members,
                    entered=r.entered,
                    left=r.left,
                )
                for r in refreshes
            ],
            [StayOut.model_validate(s, from_attributes=True) for s in stays],
        )


#: The contact columns a list for each channel carries.
CONTACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "direct_mail": ("street", "postcode", "city", "country"),
    "phone": ("phone",),
    "sms": ("phone",),
    "call_centre": ("phone",),
}
_DEFAULT_COLUMNS = ("email", "phone")


class ContactRow(BaseModel):
    """One member with the fields a contact list needs and whether consent allows the contact."""

    customer_id: int
    first_name: str | None
    last_name: str | None
    contact: dict[str, str | None]
    consented: bool


def contact_list(url: str, name: str, purpose: str, channel: str) -> list[ContactRow]:
    """Current members with their contact fields for ``channel`` and their consent state."""
    columns = CONTACT_COLUMNS.get(channel, _DEFAULT_COLUMNS)
    with session_scope(url, write=False) as session:
        row = _get(session, name)
        query = (
            select(
                Customer.id,
                Customer.first_name,
                Customer.last_name,
                granted_clause(Customer.id, purpose, channel).label("consented"),
                *(getattr(Customer, c) for c in columns),
            )
            .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
            .where(SegmentMembership.segment_id == row.id, SegmentMembership.left_at.is_(None))
            .order_by(Customer.id)
        )
        return [
            ContactRow(
                customer_id=r[0],
                first_name=r[1],
                last_name=r[2],
                consented=bool(r[3]),
                contact=dict(zip(columns, r[4:], strict=True)),
            )
            for r in session.execute(query)
        ]
