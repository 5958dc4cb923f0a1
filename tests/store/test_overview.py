"""The dashboard's own figures, from orders, contacts and cases."""

from __future__ import annotations

from tests.serve.web.seed import seed_retailer

from clientbook.store.overview import _quintiles, overview


def test_overview_of_a_retailer(database_url: str) -> None:
    seed_retailer(database_url, customers=80)
    o = overview(database_url)
    assert o.customers == 81 and 0 < o.buyers <= 80
    assert o.orders == sum(c.orders for c in o.channels)
    assert abs(o.revenue - sum(c.revenue for c in o.channels)) < 0.01
    assert o.open_cases == 1 and o.interactions == sum(c.contacts for c in o.channels)
    assert o.revenue_share_top10 is not None and o.revenue_share_top20 is not None
    assert 0.10 <= o.revenue_share_top10 < o.revenue_share_top20 <= 1.0
    assert sum(o.lifecycle.values()) == o.customers
    assert sum(sum(row) for row in o.rfm_grid) == o.buyers
    assert all(row[0] == 1.0 for row in o.cohort_retention)  # month 0: everyone bought
    ranked = [t.revenue for t in o.top_customers]
    assert ranked == sorted(ranked, reverse=True) and len(ranked) == 10


def test_empty_store(database_url: str) -> None:
    o = overview(database_url)
    assert o.customers == 0 and o.revenue_share_top10 is None and o.cohort_labels == []


def test_quintiles() -> None:
    assert _quintiles([5.0, 1.0, 3.0, 2.0, 4.0]) == [5, 1, 3, 2, 4]
    assert _quintiles([1.0, 1.0, 1.0, 9.0]) == [1, 1, 1, 5]  # as analytics.rfm ranks
