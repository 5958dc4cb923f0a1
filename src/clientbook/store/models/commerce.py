"""Products, orders and order lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, Money, utcnow


class Product(Base):
    """A product of the catalogue, known by its SKU."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(100))
    price: Mapped[float | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    """One purchase. Revenue and cost are the sums of its lines."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("source", "order_id"),
        Index("ix_orders_customer_ordered", "customer_id", "ordered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    ordered_at: Mapped[datetime]
    revenue: Mapped[float] = mapped_column(Money)
    cost: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    channel: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderLine(Base):
    """One product line of an order."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int]
    sku: Mapped[str | None] = mapped_column(String(100), index=True)
    quantity: Mapped[int] = mapped_column(default=1)
    revenue: Mapped[float] = mapped_column(Money)
    cost: Mapped[float | None] = mapped_column(Money)
    brand: Mapped[str | None] = mapped_column(String(100))
