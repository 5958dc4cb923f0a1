"""The consent ledger: append-only entries; the current state is the latest entry that applies.

An entry is (customer, purpose, channel, granted|withdrawn, when, source). Channel ``all`` covers
every channel: the state for (purpose, channel) is the newest entry whose channel is that channel
or ``all`` (ties broken by ledger order). No entry means no consent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from clientbook.errors import UsageError
from clientbook.store.customer360 import ConsentState, resolve_survivor
from clientbook.store.models.base import utcnow
from clientbook.store.models.contacts import CHANNELS, CONSENT_STATUSES, Consent

#: What a customer may consent to.
CONSENT_PURPOSES = ("marketing", "personalisation", "profiling")
#: The channel value that covers every channel.
ALL_CHANNELS = "all"


def check_purpose_channel(purpose: str, channel: str) -> None:
    """Refuse a purpose or channel outside the vocabularies."""
    if purpose not in CONSENT_PURPOSES:
        raise UsageError(
            f"Unknown consent purpose {purpose!r}.",
            hint=f"Use one of {', '.join(CONSENT_PURPOSES)}.",
        )
    if channel != ALL_CHANNELS and channel not in CHANNELS:
        raise UsageError(
            f"Unknown channel {channel!r}.", hint=f"Use 'all' or one of {', '.join(CHANNELS)}."
        )


def append_entry(
    session: Session,
    customer_id: int,
    purpose: str,
    channel: str,
    status: str,
    source: str,
    at: datetime | None = None,
) -> ConsentState:
    """Append one ledger entry for the surviving customer; never updates an earlier one."""
    check_purpose_channel(purpose, channel)
    if status not in CONSENT_STATUSES:
        raise UsageError(f"Consent status must be one of {', '.join(CONSENT_STATUSES)}.")
    source = (source or "").strip()[:100]
    if not source:
        raise UsageError("A consent entry needs a source (where the customer said so).")
    customer = resolve_survivor(session, customer_id)
    row = Consent(
        customer_id=customer.id,
        purpose=purpose,
        channel=channel,
        status=status,
        source=source,
        recorded_at=at or utcnow(),
    )
    session.add(row)
    session.flush()
    return ConsentState(
        purpose=purpose, channel=channel, status=status, since=row.recorded_at, source=source
    )


def granted_clause(
    customer_id: SQLColumnExpression[int], purpose: str, channel: str
) -> ColumnElement[bool]:
    """SQL condition: the customer's current consent for (purpose, channel) is granted.

    ``customer_id`` is the (correlated) customer id column; values are bound parameters.
    """
    check_purpose_channel(purpose, channel)
    channels = [channel, ALL_CHANNELS] if channel != ALL_CHANNELS else [ALL_CHANNELS]
    newer = aliased(Consent)
    later_exists = exists().where(
        newer.customer_id == Consent.customer_id,
        newer.purpose == Consent.purpose,
        newer.channel.in_(channels),
        or_(
            newer.recorded_at > Consent.recorded_at,
            and_(newer.recorded_at == Consent.recorded_at, newer.id > Consent.id),
        ),
    )
    return (
        exists()
        .where(
            Consent.customer_id == customer_id,
            Consent.purpose == purpose,
            Consent.channel.in_(channels),
            Consent.status == "granted",
            ~later_exists,
        )
        .correlate_except(Consent, newer)
    )


def ledger(session: Session, customer_id: int) -> list[Consent]:
    """Every entry of a customer, oldest first (rows stay inside ``store``)."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.customer_id == customer_id)
            .order_by(Consent.recorded_at, Consent.id)
        ).all()
    )


def is_granted(session: Session, customer_id: int, purpose: str, channel: str) -> bool:
    """Whether the customer's current consent for (purpose, channel) is granted."""
    check_purpose_channel(purpose, channel)
    state = "withdrawn"
    for row in ledger(session, customer_id):
        if row.purpose == purpose and row.channel in (channel, ALL_CHANNELS):
            state = row.status
    return state == "granted"
