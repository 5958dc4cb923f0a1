"""RFM scores: the SQL against a plain pandas reading of the documented definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clientbook.analytics.engine import DuckDBEngine
from clientbook.analytics.rfm import rfm_query, segment_table
from clientbook.config import DEFAULT_RFM_SEGMENTS


def _rfm(orders: pa.Table, as_of_day: int, bins: int) -> pd.DataFrame:
    engine = DuckDBEngine()
    try:
        engine.register("orders", orders)
        engine.register("rfm_map", segment_table(DEFAULT_RFM_SEGMENTS))
        query = rfm_query("orders", "rfm_map", as_of_day=as_of_day, bins=bins)
        return engine.fetch(query).to_pandas().set_index("customer_id").sort_index()
    finally:
        engine.close()


def _expected(orders: pd.DataFrame, as_of_day: int, bins: int) -> pd.DataFrame:
    """Percentile rank with ties at their lowest rank, as the module docstring defines it."""
    grouped = orders[orders.day <= as_of_day].groupby("customer_id")
    rfm = pd.DataFrame(
        {
            "recency_days": as_of_day - grouped.day.max(),
            "frequency": grouped.size(),
            "monetary": grouped.revenue.sum().round(4),
        }
    )
    below = max(len(rfm) - 1, 1)
    for column, score, ascending in (
        ("recency_days", "r_score", False),
        ("frequency", "f_score", True),
        ("monetary", "m_score", True),
    ):
        rank = rfm[column].rank(method="min", ascending=ascending) - 1
        rfm[score] = np.minimum(bins, 1 + np.floor(rank / below * bins)).astype(int)
    return rfm


@pytest.mark.parametrize("bins", [3, 5, 10])
def test_scores_follow_the_percentile_rank_definition(bins: int) -> None:
    rng = np.random.default_rng(bins)
    n = 5_000
    orders = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 700, n),
            "day": rng.integers(0, 400, n).astype(np.int32),
            "revenue": rng.integers(1, 40, n) * 5.0,  # many ties in monetary value too
        }
    )
    got = _rfm(pa.Table.from_pandas(orders, preserve_index=False), 365, bins)
    want = _expected(orders, 365, bins)
    assert list(got.index) == list(want.index)
    for column in ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"):
        assert got[column].tolist() == want[column].tolist(), column
    assert set(got.r_score) == set(range(1, bins + 1))


def test_orders_are_counted_and_later_ones_ignored() -> None:
    orders = pa.table(
        {
            "customer_id": [1, 1, 1, 2, 3, 3],
            "day": pa.array([10, 10, 90, 95, 20, 200], pa.int32()),
            "revenue": [10.0, 5.0, 20.0, 500.0, 8.0, 999.0],
        }
    )
    got = _rfm(orders, 100, 5)
    assert got.loc[1, ["recency_days", "frequency", "monetary"]].tolist() == [10, 3, 35.0]
    # customer 3's order on day 200 is after the as-of date
    assert got.loc[3, ["recency_days", "frequency", "monetary"]].tolist() == [80, 1, 8.0]
    assert got.loc[2, "rfm_score"] == "515" and got.loc[2, "rfm_segment"] == "Potential loyalists"
    assert got.loc[3, "rfm_score"] == "111" and got.loc[3, "rfm_segment"] == "Lost"


def test_a_single_buyer_scores_the_lowest() -> None:
    orders = pa.table({"customer_id": [7], "day": pa.array([3], pa.int32()), "revenue": [1.0]})
    got = _rfm(orders, 10, 5)
    assert got.loc[7, "rfm_score"] == "111"
