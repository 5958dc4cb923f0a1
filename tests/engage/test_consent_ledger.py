"""The consent ledger: append-only, current state derived, ``all`` covers every channel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from clientbook.analytics.preferences import customer_preferences, record_declared_preference
from clientbook.engage.consent import (
    consent_history,
    consent_state,
    grant_consent,
    has_consent,
    withdraw_consent,
)
from clientbook.errors import NotFound, UsageError
from clientbook.store.db import session_scope
from clientbook.store.models.contacts import Consent
from clientbook.store.models.parties import Customer


def _customer(url: str, **fields: object) -> int:
    with session_scope(url) as session:
        c = Customer(first_name="Ann", **fields)
        session.add(c)
        session.flush()
        return c.id


def test_grant_withdraw_derives_current_state(database_url: str) -> None:
    cid = _customer(database_url)
    t = [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    assert not has_consent(database_url, cid, "marketing", "email")
    grant_consent(database_url, cid, "marketing", "all", source="signup-form", at=t[0])
    assert has_consent(database_url, cid, "marketing", "email")
    assert has_consent(database_url, cid, "marketing", "direct_mail")
    withdraw_consent(database_url, cid, "marketing", "email", source="unsubscribe-link", at=t[1])
    assert not has_consent(database_url, cid, "marketing", "email")
    assert has_consent(database_url, cid, "marketing", "direct_mail")
    assert not has_consent(database_url, cid, "profiling", "email")
    grant_consent(database_url, cid, "marketing", "email", source="call-centre", at=t[2])
    assert has_consent(database_url, cid, "marketing", "email")
    withdraw_consent(database_url, cid, "marketing", "all", source="letter", at=t[3])
    assert not has_consent(database_url, cid, "marketing", "email")
    assert not has_consent(database_url, cid, "marketing", "direct_mail")
    history = consent_history(database_url, cid)
    assert [h.status for h in history] == ["granted", "withdrawn", "granted", "withdrawn"]
    assert [h.source for h in history][-1] == "letter"
    state = {(s.purpose, s.channel): s.status for s in consent_state(database_url, cid)}
    assert state == {("marketing", "all"): "withdrawn", ("marketing", "email"): "granted"}
    with session_scope(database_url, write=False) as session:
        assert session.scalar(select(func.count(Consent.id))) == 4  # appended, never updated


def test_consent_vocabulary_and_unknown_customer(database_url: str) -> None:
    cid = _customer(database_url)
    with pytest.raises(UsageError):
        grant_consent(database_url, cid, "spam", "email", source="x")
    with pytest.raises(UsageError):
        grant_consent(database_url, cid, "marketing", "pigeon", source="x")
    with pytest.raises(UsageError):
        grant_consent(database_url, cid, "marketing", "email", source=" ")
    with pytest.raises(NotFound):
        grant_consent(database_url, cid + 99, "marketing", "email", source="x")


def test_declared_preferences_are_plain_text_newest_first(database_url: str) -> None:
    cid = _customer(database_url)
    t1, t2 = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 2, tzinfo=UTC)
    record_declared_preference(database_url, cid, "size", "M", origin="web-360", at=t1)
    payload = "{{7*7}} __import__('os').system('id')"
    record_declared_preference(
        database_url, cid, "colour", payload, origin="questionnaire:x", at=t2
    )
    prefs = customer_preferences(database_url, cid)
    assert [(p.key, p.value, p.source) for p in prefs] == [
        ("colour", payload, "declared"),
        ("size", "M", "declared"),
    ]
    assert prefs[0].origin == "questionnaire:x"
    with pytest.raises(UsageError):
        record_declared_preference(database_url, cid, "Bad Key!", "x", origin="web")
    with pytest.raises(UsageError):
        record_declared_preference(database_url, cid, "size", "", origin="web")
