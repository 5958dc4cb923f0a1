"""Preferences, observed from behaviour and declared by the customer: writes and reads."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from clientbook.errors import UsageError
from clientbook.store.customer360 import PreferenceOut, resolve_survivor
from clientbook.store.models.base import utcnow
from clientbook.store.models.contacts import Preference

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: Keys the analytics write (declared preferences may use these or any other well-formed key).
OBSERVED_KEYS = (
    "brand",
    "category",
    "size",
    "colour",
    "price_range",
    "preferred_channel",
    "contact_orientation",
    "message_style",
)


@dataclass(frozen=True)
class ObservedPreference:
    """One affinity computed from behaviour, with its confidence and evidence."""

    customer_id: int
    key: str
    value: str
    confidence: float
    evidence_count: int
    origin: str


def clean_key_value(key: str, value: object) -> tuple[str, str]:
    """Validate a preference key and turn the value into plain text (never interpreted)."""
    key = (key or "").strip().lower()
    if not _KEY.fullmatch(key):
        raise UsageError(
            f"{key!r} is not a preference key.",
            hint="Use lower-case letters, digits and _ (e.g. brand, size, contact_time).",
        )
    text = str(value).strip() if value is not None else ""
    if not text:
        raise UsageError(f"The preference {key!r} needs a value.")
    if len(text) > 200:
        raise UsageError(f"The value of {key!r} is longer than 200 characters.")
    return key, text


def add_declared(
    session: Session,
    customer_id: int,
    key: str,
    value: object,
    origin: str,
    at: datetime | None = None,
) -> PreferenceOut:
    """Append a declared preference (the customer said so) for the surviving customer."""
    key, text = clean_key_value(key, value)
    origin = (origin or "").strip()[:200]
    if not origin:
        raise UsageError("A declared preference needs an origin (the form or agent it came from).")
    customer = resolve_survivor(session, customer_id)
    row = Preference(
        customer_id=customer.id,
        key=key,
        value=text,
        source="declared",
        origin=origin,
        confidence=1.0,
        evidence_count=1,
        learned_at=at or utcnow(),
    )
    session.add(row)
    session.flush()
    return PreferenceOut.model_validate(row, from_attributes=True)


def replace_observed(
    session: Session, keys: Iterable[str], rows: Iterable[ObservedPreference]
) -> int:
    """Replace every observed preference of ``keys`` by ``rows`` (one recomputation)."""
    session.execute(
        delete(Preference).where(Preference.source == "observed", Preference.key.in_(list(keys)))
    )
    now = utcnow()
    values = [
        {
            "customer_id": r.customer_id,
            "key": r.key,
            "value": r.value[:200],
            "source": "observed",
            "origin": r.origin[:200],
            "confidence": round(float(r.confidence), 4),
            "evidence_count": int(r.evidence_count),
            "learned_at": now,
        }
        for r in rows
    ]
    for start in range(0, len(values), 5000):
        session.execute(insert(Preference), values[start : start + 5000])
    return len(values)


def list_preferences(
    session: Session, customer_id: int, source: str | None = None
) -> list[PreferenceOut]:
    """A customer's preferences, newest first, each with where it came from."""
    query = select(Preference).where(Preference.customer_id == customer_id)
    if source:
        query = query.where(Preference.source == source)
    rows = session.scalars(query.order_by(Preference.learned_at.desc(), Preference.id.desc()))
    return [PreferenceOut.model_validate(r, from_attributes=True) for r in rows]
