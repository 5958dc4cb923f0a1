"""Customer lifetime value as profit, and current profitability.

Assumptions
-----------
Over a horizon of H months with a yearly discount rate d (discounting monthly)::

    CLV = sum_k dE_k * spend * margin_rate / (1 + d)^(k/12)
          - service_rate * P(alive) * sum_k 1 / (1 + d)^(k/12)

- dE_k: the purchase model's conditional expected transactions in month k (BG/NBD or
  Pareto/NBD; these already weigh by P(alive)).
- spend: the Gamma-Gamma expected value of a future transaction.
- margin_rate: the customer's (revenue - cost) / revenue over orders whose cost is known; the
  base's rate where the customer has none; ``value_default_margin_rate`` where no order has.
- service_rate: cost to serve per month, from the last 12 months (or the customer's tenure if
  shorter): interactions priced per channel (``value_channel_costs``) plus cases
  (``value_case_cost``).

Current profitability = margin of the last 12 months (365 days up to the as-of date) minus the
cost to serve in the same 12 months.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis. Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from clientbook.analytics.btyd import GammaGamma, aggregate

DAYS_PER_MONTH = 365.25 / 12

VALUE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("p_alive", pa.float64()),
        ("expected_transactions", pa.float64()),
        ("expected_spend", pa.float64()),
        ("clv", pa.float64()),
    ]
)


def dbl(value: float) -> str:
    """A number as a SQL double literal (both engines read it alike)."""
    return f"CAST({float(value)!r} AS DOUBLE)"


def service_query(
    interactions: str,
    cases: str,
    channel_costs: str,
    *,
    as_of_day: int,
    other_channel_cost: float,
    case_cost: float,
) -> str:
    """SQL: customer_id, first_day (first contact ever), cost_12m (cost to serve, 12 months)."""
    start = int(as_of_day) - 365
    contacts = (
        f"SELECT i.customer_id, i.day, COALESCE(c.cost, {dbl(other_channel_cost)}) AS cost "
        f"FROM {interactions} i LEFT JOIN {channel_costs} c ON c.channel = i.channel "
        f"UNION ALL SELECT customer_id, day, {dbl(case_cost)} AS cost FROM {cases}"
    )
    return (
        "SELECT customer_id, MIN(day) AS first_day, "
        f"SUM(CASE WHEN day > {start} THEN cost ELSE {dbl(0)} END) AS cost_12m "
        f"FROM ({contacts}) u GROUP BY customer_id"
    )


def buyers_query(orders: str, *, as_of_day: int, base_margin_rate: float) -> str:
    """SQL: per buyer, the BTYD summary (days), revenue, margin rate and 12 months' margin.

    Two aggregations: orders to purchase days (the transactions of the BTYD models), then days
    to customers; every per-order sum is a sum of per-day sums, so one pass over the orders
    serves them all (the orders are the largest input: 10,000,000 rows in the benchmark).
    """
    as_of, start, base, zero = int(as_of_day), int(as_of_day) - 365, dbl(base_margin_rate), dbl(0)
    daily = (
        "SELECT customer_id, day, SUM(revenue) AS revenue, COUNT(*) AS orders, "
        f"SUM(CASE WHEN costed = 1 THEN revenue ELSE {zero} END) AS costed_revenue, "
        f"SUM(CASE WHEN costed = 1 THEN revenue - cost ELSE {zero} END) AS costed_margin, "
        f"SUM(CASE WHEN costed = 0 THEN revenue ELSE {zero} END) AS uncosted_revenue "
        f"FROM {orders} GROUP BY customer_id, day"
    )
    recent = f"CASE WHEN day > {start} THEN {{}} ELSE {zero} END"
    per_customer = (
        "SELECT customer_id, COUNT(*) AS transactions, MIN(day) AS first_day, "
        "MAX(day) AS last_day, SUM(revenue) AS revenue, MIN_BY(revenue, day) AS first_revenue, "
        "CAST(SUM(orders) AS BIGINT) AS orders, SUM(costed_revenue) AS costed_revenue, "
        f"SUM(costed_margin) AS costed_margin, SUM({recent.format('revenue')}) AS revenue_12m, "
        f"SUM({recent.format('costed_margin')}) AS costed_margin_12m, "
        f"SUM({recent.format('uncosted_revenue')}) AS uncosted_revenue_12m "
        f"FROM ({daily}) d GROUP BY customer_id"
    )
    return (
        "SELECT customer_id, transactions, first_day, last_day, revenue, orders, "
        f"{as_of} - last_day AS recency_days, transactions - 1 AS x, "
        f"last_day - first_day AS t_x_days, {as_of} - first_day AS t_days, "
        "CASE WHEN transactions > 1 THEN (revenue - first_revenue) / (transactions - 1) "
        f"ELSE {zero} END AS repeat_spend, "
        "CASE WHEN costed_revenue > 0 THEN costed_margin / costed_revenue "
        f"ELSE {base} END AS margin_rate, revenue_12m, "
        f"costed_margin_12m + uncosted_revenue_12m * {base} AS margin_12m "
        f"FROM ({per_customer}) b"
    )


@dataclass(frozen=True)
class ClvSettings:
    """How CLV is computed: horizon, discounting and the models' time unit."""

    horizon_months: int
    discount_rate: float
    unit_days: float


def score_function(purchases: Any, spend: GammaGamma | None, settings: ClvSettings) -> Any:
    """A batch function: (customer_id, x, t_x_days, t_days, repeat_spend, mean_spend,
    margin_rate, service_rate) -> VALUE_SCHEMA.

    Histories are aggregated to their distinct rows first, since many customers share one.
    """
    months = np.arange(1, settings.horizon_months + 1, dtype=np.float64)
    discount = (1.0 + settings.discount_rate) ** (-months / 12.0)
    steps = months * DAYS_PER_MONTH / settings.unit_days

    def score(batch: pa.RecordBatch) -> pa.RecordBatch:
        col = {
            name: batch.column(name).to_numpy(zero_copy_only=False) for name in batch.schema.names
        }
        ids = col["customer_id"].astype(np.int64)
        x = col["x"].astype(np.float64)
        t_x = col["t_x_days"].astype(np.float64) / settings.unit_days
        big_t = col["t_days"].astype(np.float64) / settings.unit_days
        if len(ids) == 0:
            return pa.RecordBatch.from_pydict(
                {f.name: pa.array([], f.type) for f in VALUE_SCHEMA}, schema=VALUE_SCHEMA
            )
        grouped = aggregate(x, t_x, big_t)
        inverse = grouped.inverse
        ux, utx, ut = (grouped.column(i) for i in range(3))
        alive = purchases.probability_alive(ux, utx, ut)
        cumulative = np.column_stack(
            [np.zeros(len(ux))]
            + [purchases.conditional_expected_purchases(s, ux, utx, ut) for s in steps]
        )
        per_month = np.diff(cumulative, axis=1)
        discounted = (per_month @ discount)[inverse]
        expected = cumulative[:, -1][inverse]
        p_alive = alive[inverse]
        repeat = np.maximum(col["repeat_spend"].astype(np.float64), 0.0)
        if spend is not None:
            value = spend.expected_spend(np.where(repeat > 0, x, 0.0), repeat)
        else:
            value = col["mean_spend"].astype(np.float64)
        margin = np.clip(col["margin_rate"].astype(np.float64), -1.0, 1.0)
        service = col["service_rate"].astype(np.float64)
        clv = discounted * value * margin - service * p_alive * discount.sum()
        return pa.RecordBatch.from_arrays(
            [pa.array(ids), pa.array(p_alive), pa.array(expected), pa.array(value), pa.array(clv)],
            schema=VALUE_SCHEMA,
        )

    return score
