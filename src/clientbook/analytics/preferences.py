"""Preferences, observed and declared: the entry points the web application and the API call."""

from __future__ import annotations

from datetime import datetime

from clientbook.store.customer360 import PreferenceOut, resolve_survivor
from clientbook.store.db import session_scope
from clientbook.store.preferences import add_declared, list_preferences


def record_declared_preference(
    url: str,
    customer_id: int,
    key: str,
    value: object,
    *,
    origin: str,
    at: datetime | None = None,
) -> PreferenceOut:
    """Store what a customer declared (``origin``: the form, questionnaire or agent it came from).

    The value is kept as plain text; a new declaration is appended, and readers show the newest
    first, so earlier declarations remain as history.
    """
    with session_scope(url) as session:
        return add_declared(session, customer_id, key, value, origin, at)


def customer_preferences(
    url: str, customer_id: int, source: str | None = None
) -> list[PreferenceOut]:
    """A customer's preferences (``observed``, ``declared`` or both), newest first."""
    with session_scope(url, write=False) as session:
        return list_preferences(session, resolve_survivor(session, customer_id).id, source)
