"""Distributions of the latest scores for dashboards (`GET /api/analytics/summary`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from clientbook.store.models.value import LIFECYCLE_STAGES
from clientbook.store.value import latest_scores, lifecycle_movements, value_breakdowns


def _histogram(values: np.ndarray[Any, Any], bins: int = 20) -> list[dict[str, float]]:
    if len(values) == 0:
        return []
    counts, edges = np.histogram(values, bins=bins)
    return [
        {"from": float(edges[i]), "to": float(edges[i + 1]), "customers": int(counts[i])}
        for i in range(len(counts))
    ]


def _share_of_top(values: np.ndarray[Any, Any], fraction: float) -> float | None:
    positive = np.sort(np.maximum(values, 0.0))[::-1]
    total = positive.sum()
    if total <= 0:
        return None
    top = max(1, int(round(len(positive) * fraction)))
    return float(positive[:top].sum() / total)


def analytics_summary(
    url: str, channel_costs: dict[str, float], other_cost: float, *, top: int = 10
) -> dict[str, Any]:
    """CLV histogram and concentration, RFM grid, lifecycle funnel and movements, cohort
    retention, revenue and cost to serve by channel, top customers (latest finished run)."""
    run, scores = latest_scores(url)
    if run is None:
        return {"run": None}
    frame = scores.to_pandas() if scores.num_rows else pa.table({}).to_pandas()
    clv = frame["clv"].dropna().to_numpy(dtype=float)
    buyers = frame[frame["r_score"].notna()]
    grid = (
        buyers.groupby(["r_score", "f_score"]).size().reset_index(name="customers")
        if len(buyers)
        else buyers
    )
    funnel = frame["lifecycle_stage"].value_counts()
    top_rows = frame.sort_values("clv", ascending=False, na_position="last").head(top)
    breakdowns = value_breakdowns(url, run.as_of)
    movements = lifecycle_movements(url, run.as_of - timedelta(days=30))
    return {
        "run": run.model_dump(mode="json"),
        "customers": int(len(frame)),
        "clv": {
            "total": float(clv.sum()),
            "mean": float(clv.mean()) if len(clv) else None,
            "histogram": _histogram(clv),
            "top_10_percent_share": _share_of_top(clv, 0.10),
            "top_20_percent_share": _share_of_top(clv, 0.20),
        },
        "rfm_grid": [
            {"r": int(r.r_score), "f": int(r.f_score), "customers": int(r.customers)}
            for r in grid.itertuples()
        ],
        "rfm_segments": {str(k): int(v) for k, v in buyers["rfm_segment"].value_counts().items()},
        "lifecycle_funnel": [
            {"stage": s, "customers": int(funnel.get(s, 0))} for s in LIFECYCLE_STAGES
        ],
        "lifecycle_movements_30d": movements.to_pylist(),
        "cohort_retention": breakdowns["cohorts"],
        "revenue_by_channel": breakdowns["revenue"],
        "cost_to_serve_by_channel": [
            {
                "channel": c["channel"],
                "interactions": int(c["interactions"]),
                "cost": float(c["interactions"]) * channel_costs.get(c["channel"], other_cost),
            }
            for c in breakdowns["contacts"]
        ],
        "top_customers": [
            {
                "customer_id": int(r.customer_id),
                "clv": None if r.clv != r.clv else float(r.clv),
                "p_alive": None if r.p_alive != r.p_alive else float(r.p_alive),
                "rfm_segment": r.rfm_segment,
                "lifecycle_stage": r.lifecycle_stage,
            }
            for r in top_rows.itertuples()
        ],
    }
