"""Web behaviour on a scripted browsing history: sessions, sources, terms, conversion, spend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from clientbook.analytics.learning import web_behaviour
from clientbook.analytics.web_behaviour import visit_source
from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.parties import Customer

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _event(n: int, at: datetime, type_: str = "page", **props: Any) -> dict[str, Any]:
    return {
        "source": "web",
        "interaction_id": f"e{n}",
        "customer_id": 1,
        "channel": "web",
        "direction": "inbound",
        "occurred_at": at,
        "type": type_,
        "properties": props,
    }


def test_scripted_browsing_history(database_url: str) -> None:
    google = "https://www.google.com/search?q=red+shoes"
    history = [
        # visit 1: from Google, searches on site, buys (20 minutes)
        _event(1, T0, referrer=google, path="/"),
        _event(2, T0 + timedelta(minutes=5), path="/shoes"),
        _event(3, T0 + timedelta(minutes=12), "Products Searched", query="trainers"),
        _event(4, T0 + timedelta(minutes=20), "Order Completed", order_id="w1"),
        # visit 2: 40 minutes later, from a banner ad (2 minutes)
        _event(5, T0 + timedelta(minutes=60), campaign={"source": "ads", "medium": "banner"}),
        _event(6, T0 + timedelta(minutes=62), path="/sale"),
        # visit 3: an e-mail campaign, one page
        _event(
            7,
            datetime(2026, 1, 20, 9, 0, tzinfo=UTC),
            campaign={"source": "newsletter", "medium": "email", "name": "spring"},
        ),
        # visit 4: from a blog; 29 minutes later still the same visit
        _event(8, datetime(2026, 2, 19, 20, 0, tzinfo=UTC), referrer="https://blog.example.org/p"),
        _event(9, datetime(2026, 2, 19, 20, 29, tzinfo=UTC), path="/about"),
        # visit 5: 31 minutes after that, typed in
        _event(10, datetime(2026, 2, 19, 21, 0, tzinfo=UTC), path="/"),
    ]
    with session_scope(database_url) as session:
        session.add(Customer(id=1, first_name="Web"))
        session.flush()
        session.execute(insert(Interaction), history)
        session.execute(
            insert(Order),
            [
                {
                    "source": "web",
                    "order_id": "w1",
                    "customer_id": 1,
                    "ordered_at": T0 + timedelta(minutes=20),
                    "revenue": 80.0,
                    "channel": "web",
                    "currency": "EUR",
                },
                {
                    "source": "pos",
                    "order_id": "s1",
                    "customer_id": 1,
                    "ordered_at": T0 + timedelta(days=3),
                    "revenue": 500.0,
                    "channel": "store",
                    "currency": "EUR",
                },
            ],
        )
    (b,) = web_behaviour(database_url)
    assert b.visits == 5
    assert b.sources == {
        "search_engine": 1,
        "banner_ad": 1,
        "campaign": 1,
        "referring_site": 1,
        "direct": 1,
    }
    assert b.entry_search_terms == ["red shoes"]
    assert b.site_searches == ["trainers"]
    assert b.average_visit_seconds == pytest.approx((1200 + 120 + 0 + 1740 + 0) / 5)
    span_days = (datetime(2026, 2, 19, 21, 0, tzinfo=UTC) - T0).total_seconds() / 86400
    assert b.visits_per_month == pytest.approx(5 / (span_days / 30.4375), abs=1e-3)
    assert (b.purchases, b.converting_visits, b.converted) == (1, 1, True)
    assert b.visit_conversion_rate == pytest.approx(0.2)
    assert (b.spend, b.spend_per_purchase, b.spend_per_visit) == (80.0, 80.0, 16.0)


@pytest.mark.parametrize(
    ("props", "source"),
    [
        ({"campaign": {"medium": "cpm", "source": "x"}}, "banner_ad"),
        ({"campaign": {"medium": "display"}}, "banner_ad"),
        ({"campaign": {"name": "spring"}}, "campaign"),
        ({"referrer": "https://duckduckgo.com/?q=a"}, "search_engine"),
        ({"referrer": "https://www.bing.com/search?q=a"}, "search_engine"),
        ({"referrer": "https://news.example.com/"}, "referring_site"),
        ({"referrer": ""}, "direct"),
        ({}, "direct"),
    ],
)
def test_visit_sources(props: dict[str, Any], source: str) -> None:
    assert visit_source(props) == source
