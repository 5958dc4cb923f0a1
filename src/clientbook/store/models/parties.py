"""Customers (persons), the source records they were built from, their identifiers, accounts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientbook.store.models.base import Base, utcnow

#: Relationship kinds between two accounts: ``account`` is KIND of ``related_account``.
ACCOUNT_RELATIONSHIP_KINDS = ("customer_of", "intermediary", "channel_partner", "reseller")


class Customer(Base):
    """A resolved person. ``merged_into_id`` points at the survivor once merged away."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[date | None]
    gender: Mapped[str | None] = mapped_column(String(16))
    street: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(32))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourceRecord(Base):
    """One record of one source (a CRM row, a loyalty card holder, a web user) and its customer."""

    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("source", "source_record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_record_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identifier(Base):
    """A normalised identifier (type, value) seen for a customer, and where it came from."""

    __tablename__ = "identifiers"
    __table_args__ = (
        UniqueConstraint("type", "value", "customer_id"),
        Index("ix_identifiers_type_value", "type", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(100))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Account(Base):
    """An organisation: a B2B customer, an intermediary, a channel partner or a reseller."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("source", "source_account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_account_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None]
    domain: Mapped[str | None] = mapped_column(String(200))
    registration_number: Mapped[str | None] = mapped_column(String(50))
    street: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountRelationship(Base):
    """``account`` is ``kind`` of ``related_account`` (e.g. a reseller of the brand owner)."""

    __tablename__ = "account_relationships"
    __table_args__ = (UniqueConstraint("account_id", "related_account_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    related_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountMember(Base):
    """A person attached to an account, with a role (buyer, contact, owner, ...)."""

    __tablename__ = "account_members"
    __table_args__ = (UniqueConstraint("customer_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
