"""The customer base at a glance, from orders, interactions and cases (the dashboard's own part).

Model-based figures (CLV, P(alive), RFM) come from the value analytics; what is here needs only
SQL aggregates over the operational store.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select

from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Case, Interaction
from clientbook.store.models.parties import Customer


class ChannelFigures(BaseModel):
    """Revenue, cost of goods and contacts of one channel."""

    channel: str
    orders: int
    revenue: float
    cost: float | None
    contacts: int


class TopCustomer(BaseModel):
    """A customer ranked by revenue to date."""

    id: int
    name: str
    orders: int
    revenue: float


class Overview(BaseModel):
    """Counts, channel figures, concentration, lifecycle counts, monthly revenue, cohorts."""

    customers: int
    buyers: int
    orders: int
    revenue: float
    interactions: int
    open_cases: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    channels: list[ChannelFigures]
    revenue_share_top10: float | None
    revenue_share_top20: float | None
    lifecycle: dict[str, int]
    monthly_revenue: list[tuple[str, float]]
    cohort_labels: list[str]
    cohort_retention: list[list[float | None]]
    top_customers: list[TopCustomer]
    rfm_grid: list[list[int]]
    rfm_revenue: list[list[float | None]]


def _month(value: datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def _months_between(start: str, end: str) -> int:
    return (int(end[:4]) - int(start[:4])) * 12 + int(end[5:]) - int(start[5:])


def _share_of_top(values: list[float], fraction: float) -> float | None:
    total = sum(values)
    if not values or total <= 0:
        return None
    count = max(1, round(len(values) * fraction))
    return sum(sorted(values, reverse=True)[:count]) / total


def _quintiles(values: list[float]) -> list[int]:
    """Score 1..5 by percentile rank, 5 for the highest values, as ``analytics.rfm`` scores:
    ``min(5, 1 + floor(values below / (n - 1) * 5))``, so equal values share a score."""
    ordered = sorted(values)
    spread = max(1, len(values) - 1)
    return [min(5, 1 + math.floor(bisect_left(ordered, v) / spread * 5)) for v in values]


def rfm_grid(
    rows: list[tuple[datetime, int, float]],
) -> tuple[list[list[int]], list[list[float | None]]]:
    """Buyers counted by recency score (rows, 5 = most recent) x frequency score (columns).

    Quintile scores over the buyers (Hughes' RFM): recency by the day of the last order,
    frequency by the number of orders; also the mean revenue per cell.
    """
    recency = _quintiles([last.date().toordinal() for last, _, _ in rows])
    frequency = _quintiles([float(n) for _, n, _ in rows])
    counts = [[0] * 5 for _ in range(5)]
    money = [[0.0] * 5 for _ in range(5)]
    for r, f, (_, _, revenue) in zip(recency, frequency, rows, strict=True):
        counts[5 - r][f - 1] += 1
        money[5 - r][f - 1] += revenue
    means = [
        [money[i][j] / counts[i][j] if counts[i][j] else None for j in range(5)] for i in range(5)
    ]
    return counts, means


def main_currency(url: str) -> str | None:
    """The currency most orders are in (None in a store without orders)."""
    with session_scope(url, write=False) as session:
        return session.scalar(
            select(Order.currency)
            .group_by(Order.currency)
            .order_by(func.count(Order.id).desc(), Order.currency)
            .limit(1)
        )


def overview(url: str, *, cohorts: int = 12, months: int = 12, top: int = 10) -> Overview:
    """Everything the dashboard shows that needs no model; cohorts by month of first order."""
    with session_scope(url, write=False) as session:
        customers = session.scalar(
            select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None))
        )
        orders, revenue, first, last = session.execute(
            select(
                func.count(Order.id),
                func.coalesce(func.sum(Order.revenue), 0.0),
                func.min(Order.ordered_at),
                func.max(Order.ordered_at),
            )
        ).one()
        interactions = session.scalar(select(func.count(Interaction.id))) or 0
        open_cases = (
            session.scalar(
                select(func.count(Case.id)).where(Case.status.in_(("open", "in_progress")))
            )
            or 0
        )
        by_channel = session.execute(
            select(
                Order.channel,
                func.count(Order.id),
                func.sum(Order.revenue),
                func.sum(Order.cost),
                func.count(Order.cost),
            ).group_by(Order.channel)
        ).all()
        contacts = dict(
            session.execute(  # type: ignore[arg-type]
                select(Interaction.channel, func.count(Interaction.id)).group_by(
                    Interaction.channel
                )
            ).all()
        )
        lifecycle = dict(
            session.execute(  # type: ignore[arg-type]
                select(Customer.lifecycle_stage, func.count(Customer.id))
                .where(Customer.merged_into_id.is_(None))
                .group_by(Customer.lifecycle_stage)
            ).all()
        )
        per_customer = session.execute(
            select(
                Order.customer_id,
                func.count(Order.id),
                func.sum(Order.revenue),
                func.max(Order.ordered_at),
            ).group_by(Order.customer_id)
        ).all()
        ranked = sorted(per_customer, key=lambda r: -(r[2] or 0.0))[:top]
        names = {
            c.id: " ".join(p for p in (c.first_name, c.last_name) if p) or f"#{c.id}"
            for c in session.scalars(
                select(Customer).where(Customer.id.in_([r[0] for r in ranked]))
            )
        }
        purchases = session.execute(
            select(Order.customer_id, Order.ordered_at, Order.revenue)
        ).all()

    channel_rows = [
        ChannelFigures(
            channel=name or "unknown",
            orders=n,
            revenue=float(rev or 0.0),
            cost=float(cost or 0.0) if costed else None,
            contacts=int(contacts.pop(name, 0)) if name else 0,
        )
        for name, n, rev, cost, costed in by_channel
    ]
    channel_rows += [
        ChannelFigures(channel=name, orders=0, revenue=0.0, cost=None, contacts=int(count))
        for name, count in contacts.items()
    ]
    channel_rows.sort(key=lambda c: (-c.revenue, -c.contacts))

    monthly: dict[str, float] = defaultdict(float)
    first_month: dict[int, str] = {}
    active: dict[int, set[str]] = defaultdict(set)
    for customer_id, ordered_at, amount in purchases:
        month = _month(ordered_at)
        monthly[month] += float(amount or 0.0)
        active[customer_id].add(month)
        if customer_id not in first_month or month < first_month[customer_id]:
            first_month[customer_id] = month
    recent = sorted(monthly.items())[-months:]

    cohort_members: dict[str, list[int]] = defaultdict(list)
    for customer_id, month in first_month.items():
        cohort_members[month].append(customer_id)
    labels = sorted(cohort_members)[-cohorts:]
    latest = _month(last) if last else None
    retention: list[list[float | None]] = []
    for label in labels:
        members = cohort_members[label]
        back: dict[int, int] = defaultdict(int)
        for m in members:
            for offset in {_months_between(label, a) for a in active[m]}:
                back[offset] += 1
        horizon = _months_between(label, latest) if latest else -1
        retention.append([back[k] / len(members) if k <= horizon else None for k in range(months)])

    values = [float(r[2] or 0.0) for r in per_customer]
    grid, grid_revenue = rfm_grid([(r[3], int(r[1]), float(r[2] or 0.0)) for r in per_customer])
    return Overview(
        customers=customers or 0,
        buyers=len(per_customer),
        orders=orders,
        revenue=float(revenue or 0.0),
        interactions=interactions,
        open_cases=open_cases,
        first_order_at=first,
        last_order_at=last,
        channels=channel_rows,
        revenue_share_top10=_share_of_top(values, 0.10),
        revenue_share_top20=_share_of_top(values, 0.20),
        lifecycle={stage or "unknown": n for stage, n in lifecycle.items()},
        monthly_revenue=recent,
        cohort_labels=labels,
        cohort_retention=retention,
        top_customers=[
            TopCustomer(
                id=r[0], name=names.get(r[0], f"#{r[0]}"), orders=r[1], revenue=float(r[2] or 0)
            )
            for r in ranked
        ],
        rfm_grid=grid,
        rfm_revenue=grid_revenue,
    )
