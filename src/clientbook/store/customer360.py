"""The customer 360 read path: everything known about one customer, as pydantic models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientbook.errors import NotFound
from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Case, Consent, Interaction, Preference
from clientbook.store.models.parties import (
    Account,
    AccountMember,
    Customer,
    Identifier,
)
from clientbook.store.value import CustomerValue, customer_value


class IdentifierOut(BaseModel):
    type: str
    value: str
    source: str
    first_seen_at: datetime


class AccountLink(BaseModel):
    account_id: int
    name: str
    industry: str | None
    employees: int | None
    role: str | None


class OrderSummary(BaseModel):
    orders: int
    revenue: float
    margin: float | None
    first_order_at: datetime | None
    last_order_at: datetime | None


class InteractionOut(BaseModel):
    id: int
    channel: str
    direction: str
    occurred_at: datetime
    type: str | None
    duration_seconds: int | None
    outcome: str | None
    agent: str | None
    subject: str | None
    notes: str | None


class CaseOut(BaseModel):
    id: int
    case_id: str
    category: str
    status: str
    channel: str | None
    opened_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    description: str | None


class PreferenceOut(BaseModel):
    key: str
    value: str
    source: str
    origin: str | None
    confidence: float | None
    learned_at: datetime


class ConsentState(BaseModel):
    purpose: str
    channel: str
    status: str
    since: datetime
    source: str


class Customer360(BaseModel):
    """One customer: traits, identifiers, accounts, orders, contacts, cases, likes, consents."""

    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    birth_date: date | None
    gender: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None
    traits: dict[str, Any]
    lifecycle_stage: str | None
    created_at: datetime
    identifiers: list[IdentifierOut]
    accounts: list[AccountLink]
    orders: OrderSummary
    interactions: list[InteractionOut]
    open_cases: list[CaseOut]
    preferences: list[PreferenceOut]
    consents: list[ConsentState]
    #: RFM, segment, CLV, P(alive) history, profitability, stage (after `clientbook analyse`).
    value: CustomerValue | None = None


def resolve_survivor(session: Session, customer_id: int) -> Customer:
    """The customer with this id, following merges to the surviving record."""
    customer = session.get(Customer, customer_id)
    seen = set()
    while customer is not None and customer.merged_into_id is not None:
        if customer.id in seen:  # pragma: no cover - a cycle would be a merge bug
            break
        seen.add(customer.id)
        customer = session.get(Customer, customer.merged_into_id)
    if customer is None:
        raise NotFound(
            f"No customer with id {customer_id}.",
            hint="Find one with `clientbook customer find TYPE:VALUE`.",
        )
    return customer


def current_consents(session: Session, customer_id: int) -> list[ConsentState]:
    """The latest ledger entry per purpose and channel."""
    rows = session.scalars(
        select(Consent)
        .where(Consent.customer_id == customer_id)
        .order_by(Consent.recorded_at, Consent.id)
    ).all()
    latest: dict[tuple[str, str], Consent] = {}
    for row in rows:
        latest[(row.purpose, row.channel)] = row
    return [
        ConsentState(
            purpose=r.purpose,
            channel=r.channel,
            status=r.status,
            since=r.recorded_at,
            source=r.source,
        )
        for _, r in sorted(latest.items())
    ]


def customer_360(url: str, customer_id: int, *, interactions: int = 20) -> Customer360:
    """Everything known about one customer; the latest ``interactions`` contacts, newest first."""
    with session_scope(url, write=False) as session:
        c = resolve_survivor(session, customer_id)
        identifiers = session.scalars(
            select(Identifier)
            .where(Identifier.customer_id == c.id)
            .order_by(Identifier.type, Identifier.value)
        ).all()
        accounts = session.execute(
            select(Account, AccountMember.role)
            .join(AccountMember, AccountMember.account_id == Account.id)
            .where(AccountMember.customer_id == c.id)
        ).all()
        count, revenue, cost, first, last, costed = session.execute(
            select(
                func.count(Order.id),
                func.coalesce(func.sum(Order.revenue), 0.0),
                func.sum(Order.cost),
                func.min(Order.ordered_at),
                func.max(Order.ordered_at),
                func.count(Order.cost),
            ).where(Order.customer_id == c.id)
        ).one()
        contacts = session.scalars(
            select(Interaction)
            .where(Interaction.customer_id == c.id)
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(interactions)
        ).all()
        cases = session.scalars(
            select(Case)
            .where(Case.customer_id == c.id, Case.status.in_(("open", "in_progress")))
            .order_by(Case.opened_at.desc())
        ).all()
        preferences = session.scalars(
            select(Preference)
            .where(Preference.customer_id == c.id)
            .order_by(Preference.learned_at.desc())
        ).all()
        return Customer360(
            id=c.id,
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            birth_date=c.birth_date,
            gender=c.gender,
            street=c.street,
            city=c.city,
            postcode=c.postcode,
            country=c.country,
            traits=c.traits or {},
            lifecycle_stage=c.lifecycle_stage,
            created_at=c.created_at,
            identifiers=[
                IdentifierOut.model_validate(i, from_attributes=True) for i in identifiers
            ],
            accounts=[
                AccountLink(
                    account_id=a.id,
                    name=a.name,
                    industry=a.industry,
                    employees=a.employees,
                    role=role,
                )
                for a, role in accounts
            ],
            orders=OrderSummary(
                orders=count,
                revenue=float(revenue or 0),
                margin=float(revenue - (cost or 0.0)) if costed else None,
                first_order_at=first,
                last_order_at=last,
            ),
            interactions=[InteractionOut.model_validate(i, from_attributes=True) for i in contacts],
            open_cases=[CaseOut.model_validate(k, from_attributes=True) for k in cases],
            preferences=[
                PreferenceOut.model_validate(p, from_attributes=True) for p in preferences
            ],
            consents=current_consents(session, c.id),
            value=customer_value(session, c.id),
        )


def find_customer_ids(url: str, type_: str, value: str) -> list[int]:
    """Surviving customers holding the identifier (type, already-normalised value)."""
    with session_scope(url, write=False) as session:
        ids = session.scalars(
            select(Identifier.customer_id)
            .where(Identifier.type == type_, Identifier.value == value)
            .distinct()
        ).all()
        return sorted({resolve_survivor(session, i).id for i in ids})
