"""Writes of what customers do, in the caller's transaction: interactions, orders, accounts.

Each write is idempotent on the natural key of its table (``(source, interaction_id)``,
``(source, order_id)``, ``sku``, ``(source, source_account_id)``), so a replayed event or two
workers racing on the same product never fail and never double a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.parties import Account, AccountMember, Identifier


@dataclass(frozen=True)
class InteractionIn:
    """One contact to record."""

    source: str
    interaction_id: str
    customer_id: int
    channel: str
    type: str | None
    occurred_at: datetime
    properties: dict[str, Any]
    direction: str = "inbound"
    subject: str | None = None


@dataclass(frozen=True)
class LineIn:
    """One product line of an order."""

    sku: str | None
    quantity: int
    price: float
    name: str | None = None
    brand: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class OrderIn:
    """One purchase with its lines."""

    source: str
    order_id: str
    customer_id: int
    ordered_at: datetime
    revenue: float
    currency: str | None
    channel: str | None
    lines: Sequence[LineIn] = field(default_factory=tuple)


@dataclass(frozen=True)
class AccountIn:
    """An organisation named by a group call."""

    source: str
    account_id: str
    name: str | None
    industry: str | None
    employees: int | None
    traits: dict[str, Any]


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def interaction_row(item: InteractionIn) -> dict[str, Any]:
    """The ``interactions`` row of a contact, as :func:`interaction_statement` inserts it."""
    return {
        "source": item.source,
        "interaction_id": item.interaction_id,
        "customer_id": item.customer_id,
        "channel": item.channel,
        "direction": item.direction,
        "occurred_at": item.occurred_at,
        "type": item.type[:64] if item.type else None,
        "subject": item.subject[:200] if item.subject else None,
        "properties": item.properties,
    }


@cache
def interaction_statement(dialect: str) -> Any:
    """The insert of contacts, once per (source, interaction_id); built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Interaction).on_conflict_do_nothing(index_elements=["source", "interaction_id"])


def add_interaction(session: Session, item: InteractionIn) -> None:
    """Record a contact once per (source, interaction_id)."""
    statement = interaction_statement(session.get_bind().dialect.name)
    session.connection().execute(statement, interaction_row(item))


def upsert_products(session: Session, lines: Sequence[LineIn]) -> None:
    """Add products not yet known by SKU; known ones keep their catalogue data."""
    rows = {
        line.sku: {
            "sku": line.sku[:100],
            "name": line.name[:200] if line.name else None,
            "brand": line.brand[:100] if line.brand else None,
            "category": line.category[:100] if line.category else None,
            "price": line.price,
        }
        for line in lines
        if line.sku
    }
    if rows:
        stmt = _insert(session)(Product).on_conflict_do_nothing(index_elements=["sku"])
        session.execute(stmt, list(rows.values()))


def add_order(session: Session, order: OrderIn) -> bool:
    """Record an order and its lines once per (source, order_id); False when already there."""
    values: dict[str, Any] = {
        "source": order.source,
        "order_id": order.order_id[:200],
        "customer_id": order.customer_id,
        "ordered_at": order.ordered_at,
        "revenue": order.revenue,
        "channel": order.channel,
    }
    if order.currency:
        values["currency"] = order.currency[:3].upper()
    order_pk = session.execute(
        _insert(session)(Order)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "order_id"])
        .returning(Order.id)
    ).scalar()
    if order_pk is None:
        return False
    upsert_products(session, order.lines)
    if order.lines:
        session.execute(
            _insert(session)(OrderLine),
            [
                {
                    "order_pk": order_pk,
                    "line_no": n,
                    "sku": line.sku[:100] if line.sku else None,
                    "quantity": line.quantity,
                    "revenue": round(line.price * line.quantity, 2),
                    "brand": line.brand[:100] if line.brand else None,
                }
                for n, line in enumerate(order.lines, start=1)
            ],
        )
    return True


def upsert_account_member(session: Session, account: AccountIn, customer_id: int) -> int:
    """Create or update the account, attach the customer to it; return the account's id."""
    insert = _insert(session)
    session.execute(
        insert(Account)
        .values(
            source=account.source,
            source_account_id=account.account_id[:200],
            name=(account.name or account.account_id)[:200],
            traits={},
        )
        .on_conflict_do_nothing(index_elements=["source", "source_account_id"])
    )
    account_pk, traits = session.execute(
        select(Account.id, Account.traits).where(
            Account.source == account.source, Account.source_account_id == account.account_id[:200]
        )
    ).one()
    changes: dict[str, Any] = {}
    if account.name:
        changes["name"] = account.name[:200]
    if account.industry:
        changes["industry"] = account.industry[:100]
    if account.employees is not None:
        changes["employees"] = account.employees
    if account.traits:
        changes["traits"] = {**(traits or {}), **account.traits}
    if changes:
        session.execute(update(Account).where(Account.id == account_pk).values(**changes))
    session.execute(
        insert(AccountMember)
        .values(customer_id=customer_id, account_id=account_pk)
        .on_conflict_do_nothing(index_elements=["customer_id", "account_id"])
    )
    return int(account_pk)


def user_id_known(session: Session, value: str) -> bool:
    """Whether some customer already holds ``value`` as a user id."""
    return (
        session.scalar(
            select(Identifier.id)
            .where(Identifier.type == "user_id", Identifier.value == value)
            .limit(1)
        )
        is not None
    )
