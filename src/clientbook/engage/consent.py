"""Permission marketing: grant and withdraw consent, and read the current state from the ledger.

These are the functions the web application, the API and the CLI call. Every call appends to the
ledger (``consents``); nothing is ever updated or deleted, so the history of who said what, when
and through which source stays auditable.
"""

from __future__ import annotations

from datetime import datetime

from clientbook.store.consent_ledger import (
    ALL_CHANNELS,
    CONSENT_PURPOSES,
    append_entry,
    is_granted,
    ledger,
)
from clientbook.store.customer360 import ConsentState, current_consents, resolve_survivor
from clientbook.store.db import session_scope

__all__ = [
    "ALL_CHANNELS",
    "CONSENT_PURPOSES",
    "consent_history",
    "consent_state",
    "grant_consent",
    "has_consent",
    "withdraw_consent",
]


def grant_consent(
    url: str,
    customer_id: int,
    purpose: str,
    channel: str = ALL_CHANNELS,
    *,
    source: str,
    at: datetime | None = None,
) -> ConsentState:
    """Record that the customer grants ``purpose`` on ``channel`` (``all`` = every channel)."""
    with session_scope(url) as session:
        return append_entry(session, customer_id, purpose, channel, "granted", source, at)


def withdraw_consent(
    url: str,
    customer_id: int,
    purpose: str,
    channel: str = ALL_CHANNELS,
    *,
    source: str,
    at: datetime | None = None,
) -> ConsentState:
    """Record that the customer withdraws ``purpose`` on ``channel`` (``all`` = every channel)."""
    with session_scope(url) as session:
        return append_entry(session, customer_id, purpose, channel, "withdrawn", source, at)


def consent_state(url: str, customer_id: int) -> list[ConsentState]:
    """The current state: the latest ledger entry per purpose and channel."""
    with session_scope(url, write=False) as session:
        return current_consents(session, resolve_survivor(session, customer_id).id)


def consent_history(url: str, customer_id: int) -> list[ConsentState]:
    """Every ledger entry of the customer, oldest first."""
    with session_scope(url, write=False) as session:
        rows = ledger(session, resolve_survivor(session, customer_id).id)
        return [
            ConsentState(
                purpose=r.purpose,
                channel=r.channel,
                status=r.status,
                since=r.recorded_at,
                source=r.source,
            )
            for r in rows
        ]


def has_consent(url: str, customer_id: int, purpose: str, channel: str) -> bool:
    """Whether the customer may be contacted for ``purpose`` on ``channel`` right now."""
    with session_scope(url, write=False) as session:
        return is_granted(session, resolve_survivor(session, customer_id).id, purpose, channel)
