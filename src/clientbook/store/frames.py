"""Bulk reads of the store into pandas frames for the needs analytics, and their bulk writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Executable, delete, insert, select

from clientbook.store.db import get_engine, session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import Case, Interaction
from clientbook.store.models.needs import CustomerNeeds, NeedsCluster, ResponseRate
from clientbook.store.models.parties import Customer


def read_frame(url: str, query: Executable) -> pd.DataFrame:
    """Run a SQLAlchemy query and return the rows as a DataFrame."""
    with get_engine(url).connect() as connection:
        return pd.read_sql(query, connection)


def campaign_contacts(url: str) -> pd.DataFrame:
    """Outbound campaign contacts: customer_id, channel, style, outcome, occurred_at."""
    return read_frame(
        url,
        select(
            Interaction.customer_id,
            Interaction.channel,
            Interaction.properties["style"].as_string().label("style"),
            Interaction.outcome,
            Interaction.occurred_at,
        ).where(Interaction.direction == "outbound", Interaction.type == "campaign"),
    )


def inbound_contacts(url: str) -> pd.DataFrame:
    """Inbound contacts per customer and channel: customer_id, channel, contacts."""
    frame = read_frame(
        url,
        select(Interaction.customer_id, Interaction.channel).where(
            Interaction.direction == "inbound"
        ),
    )
    return frame.groupby(["customer_id", "channel"]).size().rename("contacts").reset_index()


def web_events(url: str, customer_id: int | None = None) -> pd.DataFrame:
    """Web interactions (of everyone, or of one customer): customer_id, occurred_at, type,
    properties."""
    query = select(
        Interaction.customer_id,
        Interaction.occurred_at,
        Interaction.type,
        Interaction.properties,
    ).where(Interaction.channel == "web")
    if customer_id is not None:
        query = query.where(Interaction.customer_id == customer_id)
    return read_frame(url, query)


def orders_frame(url: str, customer_id: int | None = None) -> pd.DataFrame:
    """Orders (of everyone, or of one customer): id, customer_id, ordered_at, revenue, channel."""
    query = select(Order.id, Order.customer_id, Order.ordered_at, Order.revenue, Order.channel)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    return read_frame(url, query)


def order_lines_frame(url: str) -> pd.DataFrame:
    """Order lines with their product: customer_id, ordered_at, quantity, revenue, category,
    brand, list price and product name."""
    return read_frame(
        url,
        select(
            Order.customer_id,
            Order.ordered_at,
            OrderLine.quantity,
            OrderLine.revenue,
            Product.category,
            Product.price,
            Product.name,
            OrderLine.brand.label("line_brand"),
            Product.brand.label("product_brand"),
        )
        .join(Order, Order.id == OrderLine.order_pk)
        .outerjoin(Product, Product.sku == OrderLine.sku),
    )


def service_frame(url: str) -> pd.DataFrame:
    """Service use per customer: cases and inbound call-centre contacts."""
    cases = read_frame(url, select(Case.customer_id))
    calls = read_frame(
        url,
        select(Interaction.customer_id).where(
            Interaction.channel == "call_centre", Interaction.direction == "inbound"
        ),
    )
    return pd.DataFrame(
        {
            "cases": cases.groupby("customer_id").size(),
            "calls": calls.groupby("customer_id").size(),
        }
    ).fillna(0)


def live_customer_ids(url: str) -> list[int]:
    """Ids of customers not merged away."""
    with session_scope(url, write=False) as session:
        return list(session.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))


def needs_assignments(url: str) -> pd.DataFrame:
    """customer_id, cluster, label of the latest needs clustering."""
    return read_frame(
        url, select(CustomerNeeds.customer_id, CustomerNeeds.cluster, CustomerNeeds.label)
    )


def write_response_rates(url: str, dimension: str, rows: Iterable[dict[str, Any]]) -> int:
    """Replace the response rates of one dimension (channel or style)."""
    now = utcnow()
    values = [{**r, "dimension": dimension, "computed_at": now} for r in rows]
    with session_scope(url) as session:
        session.execute(delete(ResponseRate).where(ResponseRate.dimension == dimension))
        for start in range(0, len(values), 5000):
            session.execute(insert(ResponseRate), values[start : start + 5000])
    return len(values)


def write_needs(
    url: str, model_version: str, clusters: list[dict[str, Any]], assignments: pd.DataFrame
) -> None:
    """Store a needs-clustering run: its clusters and each customer's cluster."""
    with session_scope(url) as session:
        session.execute(delete(CustomerNeeds))
        session.execute(delete(NeedsCluster).where(NeedsCluster.model_version == model_version))
        session.execute(
            insert(NeedsCluster), [{**c, "model_version": model_version} for c in clusters]
        )
        labels = {c["cluster"]: c["label"] for c in clusters}
        values = [
            {
                "customer_id": int(cid),
                "model_version": model_version,
                "cluster": int(k),
                "label": labels[int(k)],
            }
            for cid, k in zip(assignments.customer_id, assignments.cluster, strict=True)
        ]
        for start in range(0, len(values), 5000):
            session.execute(insert(CustomerNeeds), values[start : start + 5000])


def latest_clusters(url: str) -> list[dict[str, Any]]:
    """The clusters of the newest needs run."""
    with session_scope(url, write=False) as session:
        version = session.scalar(
            select(NeedsCluster.model_version).order_by(NeedsCluster.created_at.desc()).limit(1)
        )
        rows = session.scalars(
            select(NeedsCluster)
            .where(NeedsCluster.model_version == version)
            .order_by(NeedsCluster.cluster)
        ).all()
        return [
            {
                "cluster": r.cluster,
                "label": r.label,
                "description": r.description,
                "size": r.size,
                "profile": r.profile,
                "model_version": r.model_version,
            }
            for r in rows
        ]


def customer_rates(url: str, customer_id: int) -> list[dict[str, Any]]:
    """The stored response rates of one customer."""
    with session_scope(url, write=False) as session:
        rows = session.scalars(
            select(ResponseRate)
            .where(ResponseRate.customer_id == customer_id)
            .order_by(ResponseRate.dimension, ResponseRate.value)
        ).all()
        return [
            {
                "dimension": r.dimension,
                "value": r.value,
                "contacts": r.contacts,
                "responses": r.responses,
                "prior_rate": r.prior_rate,
                "rate": r.rate,
                "lower": r.lower,
                "upper": r.upper,
            }
            for r in rows
        ]
