"""Segment membership: compiled SQL against an independent pandas computation, on both stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from tests.needs_population import NOW, Population, age_on, build

from clientbook.store.segments import (
    due_segments,
    preview_ids,
    refresh_segment,
    save_segment,
    segment_history,
    segment_members,
)


@pytest.fixture
def population(database_url: str) -> Population:
    return build(database_url)


def _alive(p: Population) -> pd.DataFrame:
    return p.customers[p.customers.merged_into_id.isna()]


def _ids(frame: pd.DataFrame) -> set[int]:
    return {int(i) for i in frame.id}


def _orders_per_customer(p: Population, orders: pd.DataFrame | None = None) -> pd.Series:
    frame = p.orders if orders is None else orders
    return frame.groupby("customer_id").size()


def _consented(p: Population, channel: str) -> set[int]:
    c = p.consents.reset_index().rename(columns={"index": "seq"})
    c = c[(c.purpose == "marketing") & c.channel.isin([channel, "all"])]
    latest = c.sort_values(["recorded_at", "seq"]).groupby("customer_id").tail(1)
    return {int(i) for i in latest[latest.status == "granted"].customer_id}


def _expect_age(p: Population, low: int, high: int) -> set[int]:
    a = _alive(p)
    ages = a.birth_date.map(lambda b: age_on(b, NOW.date()))
    return _ids(a[ages.notna() & (ages >= low) & (ages <= high)])


CASES: list[tuple[str, dict[str, Any], Callable[[Population], set[int]]]] = [
    (
        "city in",
        {"field": "city", "op": "in", "value": ["Leeds", "York"]},
        lambda p: _ids(_alive(p)[_alive(p).city.isin(["Leeds", "York"])]),
    ),
    (
        "female aged 25-44",
        {
            "all": [
                {"field": "gender", "op": "eq", "value": "female"},
                {"field": "age", "op": "between", "value": [25, 44]},
            ]
        },
        lambda p: _expect_age(p, 25, 44) & _ids(_alive(p)[_alive(p).gender == "female"]),
    ),
    (
        "age band 65+",
        {"field": "age_band", "op": "eq", "value": "65+"},
        lambda p: _expect_age(p, 65, 150),
    ),
    (
        "adult: age gte 18",
        {"field": "age", "op": "gte", "value": 18},
        lambda p: _expect_age(p, 18, 200),
    ),
    (
        "no birth date",
        {"field": "birth_date", "op": "is_null"},
        lambda p: _ids(_alive(p)[_alive(p).birth_date.isna()]),
    ),
    (
        "at least 3 orders",
        {"field": "orders", "op": "gte", "value": 3},
        lambda p: {int(c) for c, k in _orders_per_customer(p).items() if k >= 3},
    ),
    (
        "revenue over 100 or not from Leeds",
        {
            "any": [
                {"field": "revenue", "op": "gt", "value": 100},
                {"not": {"field": "city", "op": "eq", "value": "Leeds"}},
            ]
        },
        lambda p: (
            {int(c) for c, r in p.orders.groupby("customer_id").revenue.sum().items() if r > 100}
            | _ids(_alive(p)[_alive(p).city != "Leeds"])
        ),
    ),
    (
        "bought Books twice in 365 days",
        {"purchase": {"category": "Books"}, "min_count": 2, "within_days": 365},
        lambda p: {
            int(c)
            for c, k in p.orders[
                p.orders.id.isin(p.lines[p.lines.category == "Books"].order_pk)
                & (p.orders.ordered_at >= NOW - timedelta(days=365))
            ]
            .groupby("customer_id")
            .size()
            .items()
            if k >= 2
        },
    ),
    (
        "lapsed: last order over 180 days ago",
        {"field": "last_order_at", "op": "lt", "value": {"days_ago": 180}},
        lambda p: {
            int(c)
            for c, t in p.orders.groupby("customer_id").ordered_at.max().items()
            if t < NOW - timedelta(days=180)
        },
    ),
    (
        "searched on the web at least twice in 60 days",
        {
            "event": {"channel": "web", "type": "Products Searched"},
            "min_count": 2,
            "within_days": 60,
        },
        lambda p: {
            int(c)
            for c, k in p.interactions[
                (p.interactions.channel == "web")
                & (p.interactions.type == "Products Searched")
                & (p.interactions.occurred_at >= NOW - timedelta(days=60))
            ]
            .groupby("customer_id")
            .size()
            .items()
            if k >= 2
        },
    ),
    (
        "never contacted by call centre",
        {"not": {"event": {"channel": "call_centre"}}},
        lambda p: (
            _ids(_alive(p))
            - set(p.interactions[p.interactions.channel == "call_centre"].customer_id.astype(int))
        ),
    ),
    (
        "declared or confident brand Acme",
        {
            "any": [
                {"preference": {"key": "brand", "value": "Acme", "source": "declared"}},
                {"preference": {"key": "brand", "value": "Acme", "min_confidence": 0.7}},
            ]
        },
        lambda p: set(
            p.preferences[
                (p.preferences.value == "Acme")
                & ((p.preferences.source == "declared") | (p.preferences.confidence >= 0.7))
            ].customer_id.astype(int)
        ),
    ),
    (
        "may be e-mailed for marketing",
        {"consent": {"purpose": "marketing", "channel": "email"}},
        lambda p: _consented(p, "email"),
    ),
    (
        "software firms over 100 employees",
        {
            "all": [
                {"field": "industry", "op": "eq", "value": "software"},
                {"field": "employees", "op": "gte", "value": 100},
            ]
        },
        lambda p: set(
            p.accounts[
                (p.accounts.industry == "software") & (p.accounts.employees >= 100)
            ].customer_id.astype(int)
        ),
    ),
    (
        "gold tier trait, name starts with A",
        {
            "all": [
                {"field": "trait.tier", "op": "eq", "value": "gold"},
                {"field": "first_name", "op": "starts_with", "value": "A"},
            ]
        },
        lambda p: _ids(
            _alive(p)[
                (_alive(p).traits.map(lambda t: t["tier"]) == "gold")
                & _alive(p).first_name.str.startswith("A")
            ]
        ),
    ),
]


def test_membership_matches_pandas(database_url: str, population: Population) -> None:
    """Every case on one population (one store set-up per backend keeps the suite quick)."""
    wrong = []
    for name, where, expected in CASES:
        got = set(preview_ids(database_url, where, NOW))
        want = expected(population)
        assert 0 < len(want) < len(population.customers) - 1, f"{name}: not discriminating"
        if got != want:
            wrong.append(
                f"{name}: extra {sorted(got - want)[:5]}, missing {sorted(want - got)[:5]}"
            )
    assert not wrong, wrong


def test_refresh_records_history(database_url: str, population: Population) -> None:
    save_segment(
        database_url,
        "name: leeds\nrefresh_minutes: 30\nwhere: {field: city, op: eq, value: Leeds}\n",
    )
    first = refresh_segment(database_url, "leeds", now=NOW)
    leeds = _ids(_alive(population)[_alive(population).city == "Leeds"])
    assert (first.members, first.entered, first.left) == (len(leeds), len(leeds), 0)
    assert due_segments(database_url, NOW + timedelta(minutes=10)) == []
    assert due_segments(database_url, NOW + timedelta(minutes=31)) == ["leeds"]
    # Redefine: York instead; Leeds people leave, York people enter.
    save_segment(
        database_url,
        {"name": "leeds", "where": {"field": "city", "op": "eq", "value": "York"}},
        replace=True,
    )
    later = NOW + timedelta(hours=1)
    second = refresh_segment(database_url, "leeds", now=later)
    york = _ids(_alive(population)[_alive(population).city == "York"])
    assert (second.members, second.entered, second.left) == (len(york), len(york), len(leeds))
    total_then, _ = segment_members(database_url, "leeds", at=NOW + timedelta(minutes=1))
    total_now, page = segment_members(database_url, "leeds", limit=5)
    assert (total_then, total_now) == (len(leeds), len(york))
    assert {m.customer_id for m in page} <= york
    refreshes, stays = segment_history(database_url, "leeds", customer_id=min(leeds))
    assert [r.entered for r in refreshes] == [len(york), len(leeds)]
    assert len(stays) == 1 and stays[0].left_at is not None
