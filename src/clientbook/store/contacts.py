"""The agent's actions: find a customer, log a contact, open and resolve a case."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from clientbook.errors import Conflict, NotFound, UsageError
from clientbook.store.customer360 import CaseOut, InteractionOut, resolve_survivor
from clientbook.store.db import session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import CHANNELS, DIRECTIONS, Case, Interaction
from clientbook.store.models.needs import Segment, SegmentMembership
from clientbook.store.models.parties import Customer, Identifier
from clientbook.store.models.value import Score, ScoreRun

#: Where contacts logged by hand come from (the ``source`` column).
MANUAL_SOURCE = "clientbook-web"
#: The columns a customer list may be sorted by.
SORTS = ("name", "clv", "last_contact", "revenue", "orders", "created")
CASE_CATEGORIES = ("complaint", "error", "question", "request", "return")
_STAGE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


class CustomerHit(BaseModel):
    """One row of a search or list of customers."""

    id: int
    name: str
    email: str | None
    phone: str | None
    city: str | None
    lifecycle_stage: str | None
    orders: int
    revenue: float
    last_contact_at: datetime | None
    clv: float | None = None
    matched: str | None = None


class CustomerQuery(BaseModel):
    """Search, filter, sort and page a list of customers; values outside the allow-lists fail."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field("", max_length=200)
    stage: str | None = None
    segment: str | None = Field(None, max_length=100)
    sort: Literal["name", "clv", "last_contact", "revenue", "orders", "created"] = "name"
    direction: Literal["asc", "desc"] = "asc"
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(25, ge=1, le=200)

    @field_validator("stage")
    @classmethod
    def _stage_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _STAGE.fullmatch(value):
            raise ValueError("not a lifecycle stage")
        return value

    @field_validator("segment")
    @classmethod
    def _segment_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _SEGMENT.fullmatch(value):
            raise ValueError("not a segment name")
        return value


class CustomerPage(BaseModel):
    """A page of customers and the total that matched."""

    rows: list[CustomerHit]
    total: int
    page: int
    page_size: int


class InteractionIn(BaseModel):
    """A contact logged by hand (a call, a visit, an e-mail)."""

    customer_id: int
    channel: str
    direction: Literal["inbound", "outbound"] = "inbound"
    type: str | None = Field(None, max_length=64)
    outcome: str | None = Field(None, max_length=64)
    subject: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=10_000)
    duration_seconds: int | None = Field(None, ge=0, le=86_400)
    agent: str | None = Field(None, max_length=100)
    occurred_at: datetime | None = None

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel; use one of {', '.join(CHANNELS)}")
        return value


class CaseIn(BaseModel):
    """A complaint or error to record."""

    customer_id: int
    category: str = Field(max_length=64)
    description: str | None = Field(None, max_length=10_000)
    channel: str | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CASE_CATEGORIES:
            raise ValueError(f"unknown category; use one of {', '.join(CASE_CATEGORIES)}")
        return value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def segment_names(url: str) -> list[str]:
    """The segments a list can be filtered by."""
    with session_scope(url, write=False) as session:
        return list(session.scalars(select(Segment.name).order_by(Segment.name)))


def lifecycle_stages(url: str) -> list[str]:
    """The lifecycle stages customers are in now (the allow-list of the stage filter)."""
    with session_scope(url, write=False) as session:
        rows = session.scalars(
            select(Customer.lifecycle_stage)
            .where(Customer.lifecycle_stage.is_not(None), Customer.merged_into_id.is_(None))
            .distinct()
        ).all()
    return sorted(r for r in rows if r)


def _text_match(
    session: Session, q: str, phone: str | None
) -> tuple[ColumnElement[bool], dict[int, str]]:
    """A condition on customers matching ``q``, and what matched for identifier hits."""
    pattern = f"%{_escape_like(q.lower())}%"
    prefix = f"{_escape_like(q.lower())}%"
    full_name = func.lower(
        func.coalesce(Customer.first_name, "")
        + literal(" ")
        + func.coalesce(Customer.last_name, "")
    )
    conditions: list[ColumnElement[bool]] = [
        full_name.like(pattern, escape="\\"),
        func.lower(func.coalesce(Customer.email, "")).like(pattern, escape="\\"),
    ]
    values: list[ColumnElement[bool]] = [func.lower(Identifier.value).like(prefix, escape="\\")]
    if phone:
        conditions.append(Customer.phone == phone)
        values.append(Identifier.value == phone)
    if q.isdigit():
        conditions.append(Customer.id == int(q))
    hits = session.execute(
        select(Identifier.customer_id, Identifier.type, Identifier.value)
        .where(or_(*values), Identifier.type != "anonymous_id")
        .limit(200)
    ).all()
    matched: dict[int, str] = {}
    for customer_id, type_, value in hits:
        survivor = resolve_survivor(session, customer_id).id
        matched.setdefault(survivor, f"{type_}: {value}")
    if matched:
        conditions.append(Customer.id.in_(matched))
    return or_(*conditions), matched


def _listing(where: list[ColumnElement[bool]], run_id: int | None) -> Select[Any]:
    orders = (
        select(
            Order.customer_id.label("cid"),
            func.count(Order.id).label("n"),
            func.sum(Order.revenue).label("revenue"),
        )
        .group_by(Order.customer_id)
        .subquery()
    )
    contacts = (
        select(Interaction.customer_id.label("cid"), func.max(Interaction.occurred_at).label("at"))
        .group_by(Interaction.customer_id)
        .subquery()
    )
    # CLV of the latest finished value run (NULL before the first `clientbook analyse`).
    scores = (
        select(Score.customer_id.label("cid"), Score.clv.label("clv"))
        .where(Score.run_id == (run_id if run_id is not None else -1))
        .subquery()
    )
    return (
        select(
            Customer,
            func.coalesce(orders.c.n, 0).label("orders"),
            func.coalesce(orders.c.revenue, 0.0).label("revenue"),
            contacts.c.at.label("last_contact"),
            scores.c.clv.label("clv"),
        )
        .outerjoin(orders, orders.c.cid == Customer.id)
        .outerjoin(contacts, contacts.c.cid == Customer.id)
        .outerjoin(scores, scores.c.cid == Customer.id)
        .where(*where)
    )


def _latest_run_id(session: Session) -> int | None:
    return session.scalar(select(func.max(ScoreRun.id)).where(ScoreRun.finished_at.is_not(None)))


def customer_names(url: str, ids: list[int]) -> dict[int, str]:
    """Display names of customers by id."""
    with session_scope(url, write=False) as session:
        rows = session.execute(
            select(Customer.id, Customer.first_name, Customer.last_name).where(Customer.id.in_(ids))
        ).all()
    return {i: " ".join(p for p in (first, last) if p) or f"#{i}" for i, first, last in rows}


def search_customers(
    url: str, query: CustomerQuery, *, phone: str | None = None, stages: list[str] | None = None
) -> CustomerPage:
    """Customers matching ``query`` (names, e-mails, phones, any identifier), sorted and paged.

    ``phone`` is ``query.q`` normalised to E.164 by the caller (identity's normaliser), if it is
    a phone number; ``stages`` is the allow-list of the stage filter.
    """
    if query.stage is not None and stages is not None and query.stage not in stages:
        raise UsageError(f"Unknown lifecycle stage {query.stage!r}.")
    with session_scope(url, write=False) as session:
        where: list[ColumnElement[bool]] = [Customer.merged_into_id.is_(None)]
        matched: dict[int, str] = {}
        if query.q.strip():
            condition, matched = _text_match(session, query.q.strip(), phone)
            where.append(condition)
        if query.stage:
            where.append(Customer.lifecycle_stage == query.stage)
        if query.segment:
            segment_id = session.scalar(select(Segment.id).where(Segment.name == query.segment))
            if segment_id is None:
                raise UsageError(f"Unknown segment {query.segment!r}.")
            where.append(
                Customer.id.in_(
                    select(SegmentMembership.customer_id).where(
                        SegmentMembership.segment_id == segment_id,
                        SegmentMembership.left_at.is_(None),
                    )
                )
            )
        total = session.scalar(select(func.count(Customer.id)).where(and_(*where))) or 0
        statement = _listing(where, _latest_run_id(session))
        columns = statement.selected_columns
        key = {
            "name": func.lower(
                func.coalesce(Customer.last_name, "") + func.coalesce(Customer.first_name, "")
            ),
            "last_contact": columns.last_contact,
            "clv": columns.clv,
            "revenue": columns.revenue,
            "orders": columns.orders,
            "created": Customer.created_at,
        }[query.sort]
        ordered = key.desc().nulls_last() if query.direction == "desc" else key.asc().nulls_last()
        rows = session.execute(
            statement.order_by(ordered, Customer.id)
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).all()
        return CustomerPage(
            rows=[
                CustomerHit(
                    id=c.id,
                    name=" ".join(p for p in (c.first_name, c.last_name) if p) or f"#{c.id}",
                    email=c.email,
                    phone=c.phone,
                    city=c.city,
                    lifecycle_stage=c.lifecycle_stage,
                    orders=n,
                    revenue=float(revenue or 0),
                    last_contact_at=last,
                    clv=clv,
                    matched=matched.get(c.id),
                )
                for c, n, revenue, last, clv in rows  # type: ignore[misc]
            ],
            total=total,
            page=query.page,
            page_size=query.page_size,
        )


def log_interaction(url: str, contact: InteractionIn) -> InteractionOut:
    """Record one contact with a customer (on the surviving record if it was merged)."""
    if contact.direction not in DIRECTIONS:  # pragma: no cover - guarded by the Literal
        raise UsageError(f"Unknown direction {contact.direction!r}.")
    with session_scope(url) as session:
        customer = resolve_survivor(session, contact.customer_id)
        row = Interaction(
            source=MANUAL_SOURCE,
            interaction_id=uuid.uuid4().hex,
            customer_id=customer.id,
            channel=contact.channel,
            direction=contact.direction,
            occurred_at=contact.occurred_at or utcnow(),
            duration_seconds=contact.duration_seconds,
            type=contact.type,
            outcome=contact.outcome,
            agent=contact.agent,
            subject=contact.subject,
            notes=contact.notes,
            properties={},
        )
        session.add(row)
        session.flush()
        return InteractionOut.model_validate(row, from_attributes=True)


def open_case(url: str, case: CaseIn) -> CaseOut:
    """Open a case (a complaint or an error) for a customer."""
    with session_scope(url) as session:
        customer = resolve_survivor(session, case.customer_id)
        row = Case(
            source=MANUAL_SOURCE,
            case_id=f"WEB-{uuid.uuid4().hex[:10].upper()}",
            customer_id=customer.id,
            category=case.category,
            status="open",
            channel=case.channel,
            opened_at=utcnow(),
            description=case.description,
        )
        session.add(row)
        session.flush()
        return CaseOut.model_validate(row, from_attributes=True)


def resolve_case(
    url: str, case_pk: int, resolution: str, *, customer_id: int | None = None
) -> CaseOut:
    """Resolve an open case with a note of what was done; the case is kept, not deleted."""
    resolution = resolution.strip()
    if not resolution:
        raise UsageError("Say how the case was resolved.")
    with session_scope(url) as session:
        row = session.get(Case, case_pk)
        if row is None or (
            customer_id is not None and row.customer_id != resolve_survivor(session, customer_id).id
        ):
            raise NotFound(f"No case with id {case_pk}.")
        if row.status in ("resolved", "closed"):
            raise Conflict(f"Case {row.case_id} is already {row.status}.")
        row.status = "resolved"
        row.resolved_at = utcnow()
        row.resolution = resolution[:10_000]
        session.flush()
        return CaseOut.model_validate(row, from_attributes=True)
