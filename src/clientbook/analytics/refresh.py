"""`clientbook analyse`: store -> summaries -> model fits -> scores -> stored results.

Everything runs on the chosen engine through :class:`~clientbook.analytics.engine.Engine`;
the models fit (numpy/scipy) on per-customer summaries, on a random sample of at most
``value_fit_sample`` buyers, and score every customer in parallel batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clientbook.analytics.btyd import MODELS, GammaGamma, unit_days
from clientbook.analytics.clv import (
    VALUE_SCHEMA,
    ClvSettings,
    buyers_query,
    score_function,
    service_query,
)
from clientbook.analytics.engine import Engine, get_engine
from clientbook.analytics.lifecycle import lifecycle_rules, stage_case
from clientbook.analytics.rfm import check_bins, rfm_query, segment_table
from clientbook.config import Settings
from clientbook.errors import InvalidInput, UsageError
from clientbook.store.value import ValueInputs, load_value_inputs, save_run

MODEL_VERSION = "value-1"
EPOCH = date(1970, 1, 1)

SCORE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int32()),
        ("purchases", pa.int32()),
        ("recency_days", pa.int32()),
        ("frequency", pa.int32()),
        ("monetary", pa.float64()),
        ("r_score", pa.int32()),
        ("f_score", pa.int32()),
        ("m_score", pa.int32()),
        ("rfm_score", pa.string()),
        ("rfm_segment", pa.string()),
        ("p_alive", pa.float64()),
        ("expected_transactions", pa.float64()),
        ("expected_spend", pa.float64()),
        ("margin_rate", pa.float64()),
        ("clv", pa.float64()),
        ("revenue_12m", pa.float64()),
        ("margin_12m", pa.float64()),
        ("cost_to_serve_12m", pa.float64()),
        ("current_profitability", pa.float64()),
        ("lifecycle_stage", pa.string()),
    ]
)


@dataclass
class AnalyseReport:
    """What a run did."""

    run_id: int | None
    as_of: date
    engine: str
    model_version: str
    customers: int
    buyers: int
    models: dict[str, Any]
    stages: dict[str, int]
    segments: dict[str, int]
    changes: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def day_number(value: date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def survivors(customers: pa.Table) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(ids, survivor of each id) following merged_into_id chains."""
    ids = customers["id"].to_numpy().astype(np.int64)
    parent = customers["merged_into_id"].to_numpy().astype(np.int64)
    order = np.argsort(ids)
    ids, parent = ids[order], parent[order]
    parent = np.where(parent == 0, ids, parent)
    for _ in range(64):
        pos = np.clip(np.searchsorted(ids, parent), 0, len(ids) - 1)
        known = ids[pos] == parent
        step = np.where(known, parent[pos], parent)
        if np.array_equal(step, parent):
            break
        parent = step
    return ids, parent


def _reassign(
    table: pa.Table, ids: np.ndarray[Any, Any], survivor: np.ndarray[Any, Any]
) -> pa.Table:
    """Move rows of merged-away customers to their survivors; drop rows of unknown ids."""
    if table.num_rows == 0 or len(ids) == 0:
        return table.slice(0, 0)
    cid = table["customer_id"].to_numpy().astype(np.int64)
    low, high = int(ids[0]), int(ids[-1])
    if 0 <= low and high < 4 * len(ids) + (1 << 20):
        # Dense ids (the store's are): one gather per row instead of a binary search.
        lookup = np.full(high + 2, -1, np.int64)
        lookup[ids] = survivor
        moved = lookup[np.clip(cid, 0, high + 1)]
        known = moved >= 0
    else:
        pos = np.clip(np.searchsorted(ids, cid), 0, len(ids) - 1)
        known = ids[pos] == cid
        moved = survivor[pos]
    out = table.set_column(
        table.schema.get_field_index("customer_id"), "customer_id", pa.array(moved)
    )
    return out if known.all() else out.filter(pa.array(known))


def prepare(inputs: ValueInputs) -> ValueInputs:
    """Surviving customers only, every row credited to the survivor."""
    ids, survivor = survivors(inputs.customers)
    customers = inputs.customers.filter(pc.equal(inputs.customers["merged_into_id"], 0))
    customers = customers.set_column(0, "id", customers["id"].cast(pa.int64()))
    return ValueInputs(
        customers=customers,
        orders=_reassign(inputs.orders, ids, survivor),
        interactions=_reassign(inputs.interactions, ids, survivor),
        cases=_reassign(inputs.cases, ids, survivor),
    )


def base_margin_rate(orders: pa.Table, default: float) -> float:
    """(revenue - cost) / revenue over every costed order; ``default`` when none has a cost."""
    if orders.num_rows == 0:
        return default
    costed = orders.filter(pc.equal(orders["costed"], 1))
    revenue = pc.sum(costed["revenue"]).as_py() or 0.0
    if revenue <= 0:
        return default
    return float((revenue - (pc.sum(costed["cost"]).as_py() or 0.0)) / revenue)


def analyse(
    settings: Settings,
    *,
    engine: str | Engine | None = None,
    as_of: date | None = None,
    seed: int = 20240601,
    store: bool = True,
) -> tuple[AnalyseReport, pa.Table]:
    """Compute every value score as of ``as_of`` (today, UTC, by default) and store them."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    as_of = as_of or datetime.now(UTC).date()
    model_name = settings.value_model
    if model_name not in ("bgnbd", "pareto-nbd"):
        raise UsageError(f"value_model must be bgnbd or pareto-nbd, not {model_name!r}.")
    per = unit_days(settings.value_time_unit)
    bins = check_bins(settings.value_rfm_bins)
    rules = lifecycle_rules(settings.value_lifecycle)
    owned = not isinstance(engine, Engine)
    runner = get_engine(engine or settings.analytics_engine) if owned else engine  # type: ignore[arg-type]
    assert isinstance(runner, Engine)
    try:
        tick = time.perf_counter()
        inputs = prepare(load_value_inputs(settings.database_url, as_of))
        timings["load"] = time.perf_counter() - tick
        tick = time.perf_counter()
        as_day = day_number(as_of)
        margin_base = base_margin_rate(inputs.orders, settings.value_default_margin_rate)
        runner.register("cb_customers", inputs.customers)
        runner.register("cb_orders", inputs.orders)
        runner.register("cb_interactions", inputs.interactions)
        runner.register("cb_cases", inputs.cases)
        runner.register(
            "cb_channel_costs",
            pa.table(
                {
                    "channel": list(settings.value_channel_costs),
                    "cost": pa.array(list(settings.value_channel_costs.values()), pa.float64()),
                }
            ),
        )
        runner.register("cb_rfm_map", segment_table(settings.value_rfm_segments))
        runner.create(
            "cb_buyers", buyers_query("cb_orders", as_of_day=as_day, base_margin_rate=margin_base)
        )
        runner.create(
            "cb_service",
            service_query(
                "cb_interactions",
                "cb_cases",
                "cb_channel_costs",
                as_of_day=as_day,
                other_channel_cost=settings.value_other_channel_cost,
                case_cost=settings.value_case_cost,
            ),
        )
        runner.create(
            "cb_rfm",
            rfm_query("cb_orders", "cb_rfm_map", as_of_day=as_day, bins=bins),
        )
        first_active = (
            "CASE WHEN b.first_day IS NULL THEN v.first_day WHEN v.first_day IS NULL "
            "THEN b.first_day WHEN v.first_day < b.first_day THEN v.first_day ELSE b.first_day END"
        )
        tenure_months = (
            f"COALESCE(({as_day} - {first_active}) / CAST(30.4375 AS DOUBLE), CAST(1 AS DOUBLE))"
        )
        runner.create(
            "cb_base",
            "SELECT c.id AS customer_id, c.known, c.stage AS old_stage, "
            "COALESCE(b.transactions, 0) AS transactions, COALESCE(b.orders, 0) AS purchases, "
            "b.x, b.t_x_days, b.t_days, b.repeat_spend, b.revenue / b.transactions AS mean_spend, "
            "b.margin_rate, b.recency_days, "
            "COALESCE(b.revenue_12m, CAST(0 AS DOUBLE)) AS revenue_12m, "
            "COALESCE(b.margin_12m, CAST(0 AS DOUBLE)) AS margin_12m, "
            "COALESCE(v.cost_12m, CAST(0 AS DOUBLE)) AS cost_to_serve_12m, "
            "COALESCE(v.cost_12m, CAST(0 AS DOUBLE)) / LEAST(CAST(12 AS DOUBLE), "
            f"GREATEST(CAST(1 AS DOUBLE), {tenure_months})) AS service_rate "
            "FROM cb_customers c LEFT JOIN cb_buyers b ON b.customer_id = c.id "
            "LEFT JOIN cb_service v ON v.customer_id = c.id",
        )
        timings["summaries"] = time.perf_counter() - tick
        tick = time.perf_counter()
        sample = runner.sample("cb_buyers", "customer_id", settings.value_fit_sample, seed)
        purchases, spend, models = _fit(sample, model_name, per)
        timings["fit"] = time.perf_counter() - tick
        tick = time.perf_counter()
        if purchases is not None:
            clv_settings = ClvSettings(
                settings.value_horizon_months, settings.value_discount_rate, per
            )
            runner.create(
                "cb_buyer_input",
                "SELECT customer_id, x, t_x_days, t_days, repeat_spend, mean_spend, "
                "margin_rate, service_rate FROM cb_base WHERE transactions > 0",
            )
            runner.map_batches(
                "cb_buyer_input",
                "cb_value",
                score_function(purchases, spend, clv_settings),
                VALUE_SCHEMA,
            )
        else:
            runner.register("cb_value", VALUE_SCHEMA.empty_table())
        scores = runner.fetch(
            "SELECT customer_id, purchases, recency_days, frequency, monetary, r_score, f_score, "
            "m_score, rfm_score, rfm_segment, p_alive, expected_transactions, expected_spend, "
            "margin_rate, clv, revenue_12m, margin_12m, cost_to_serve_12m, "
            "margin_12m - cost_to_serve_12m AS current_profitability, "
            f"{stage_case(rules)} AS lifecycle_stage, old_stage FROM ("
            "SELECT a.*, r.frequency, r.monetary, r.r_score, r.f_score, r.m_score, "
            "r.rfm_score, r.rfm_segment, v.p_alive, v.expected_transactions, "
            "v.expected_spend, v.clv FROM cb_base a LEFT JOIN cb_rfm r "
            "ON r.customer_id = a.customer_id LEFT JOIN cb_value v "
            "ON v.customer_id = a.customer_id) t ORDER BY customer_id"
        )
        timings["score"] = time.perf_counter() - tick
    finally:
        if owned:
            runner.close()
    tick = time.perf_counter()
    old = scores["old_stage"]
    table = scores.drop_columns(["old_stage"]).cast(SCORE_SCHEMA)
    moved = pc.not_equal(table["lifecycle_stage"], old)
    changes = pa.table(
        {
            "customer_id": table["customer_id"],
            "from_stage": pc.if_else(pc.equal(old, ""), pa.scalar(None, pa.string()), old),
            "to_stage": table["lifecycle_stage"],
        }
    ).filter(moved)
    seconds = time.perf_counter() - started
    run_id = None
    if store:
        run_id = save_run(
            settings.database_url,
            as_of=as_of,
            model_version=f"{MODEL_VERSION}:{model_name}+gamma-gamma",
            engine=runner.name,
            models=models,
            settings=_value_settings(settings),
            seconds=seconds,
            scores=table,
            changes=changes,
        )
    timings["store"] = time.perf_counter() - tick
    report = AnalyseReport(
        run_id=run_id,
        as_of=as_of,
        engine=runner.name,
        model_version=f"{MODEL_VERSION}:{model_name}+gamma-gamma",
        customers=table.num_rows,
        buyers=int(pc.sum(pc.greater(table["purchases"], 0)).as_py() or 0),
        models=models,
        stages=_counts(table["lifecycle_stage"]),
        segments=_counts(table["rfm_segment"]),
        changes=changes.num_rows,
        seconds=time.perf_counter() - started,
        timings={k: round(v, 3) for k, v in timings.items()},
    )
    return report, table


def _fit(
    sample: pa.Table, model_name: str, per: float
) -> tuple[Any, GammaGamma | None, dict[str, Any]]:
    """Fit the purchase and spend models on a sample of buyers; None where there is too little."""
    models: dict[str, Any] = {"fit_customers": sample.num_rows, "time_unit_days": per}
    if sample.num_rows < 10:
        models["purchase"] = models["spend"] = None
        return None, None, models
    x = sample["x"].to_numpy().astype(np.float64)
    t_x = sample["t_x_days"].to_numpy().astype(np.float64) / per
    big_t = sample["t_days"].to_numpy().astype(np.float64) / per
    purchases = MODELS[model_name]().fit(x, t_x, big_t)  # type: ignore[attr-defined]
    models["purchase"] = purchases.to_dict()
    spend: GammaGamma | None
    try:
        repeat = sample["repeat_spend"].to_numpy().astype(np.float64)
        keep = (x > 0) & (repeat > 0)
        spend = GammaGamma().fit(x[keep], repeat[keep])
        models["spend"] = spend.to_dict()
    except InvalidInput:
        spend, models["spend"] = None, None
    return purchases, spend, models


def _counts(column: pa.ChunkedArray) -> dict[str, int]:
    counts = pc.value_counts(column.fill_null("(none)"))
    return {str(item["values"]): int(item["counts"]) for item in counts.to_pylist()}


def _value_settings(settings: Settings) -> dict[str, Any]:
    return {
        name: value
        for name, value in settings.model_dump().items()
        if name.startswith("value_") or name == "analytics_engine"
    }
