"""The dashboard: the customer base at a glance, as server-drawn charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.auth import MarketerDep
from clientbook.serve.web.charts import PALETTE, bar_chart, heatmap, line_chart
from clientbook.serve.web.templating import display_currency, render, symbol
from clientbook.store.contacts import customer_names
from clientbook.store.overview import overview
from clientbook.store.value import latest_scores, lifecycle_movements

#: Lower edges of the CLV distribution's bars from 0 up (below the first: negative CLV).
CLV_EDGES = (0, 25, 50, 100, 250, 500, 1000, 2500)
#: How far back "this period" of lifecycle movements reaches from the latest run.
MOVEMENT_DAYS = 30

router = APIRouter(include_in_schema=False)


def _share_of_top(values: list[float], fraction: float) -> float | None:
    total = sum(values)
    if not values or total <= 0:
        return None
    count = max(1, round(len(values) * fraction))
    return sum(sorted(values, reverse=True)[:count]) / total


def value_panel(url: str, sign: str) -> dict[str, Any] | None:
    """CLV distribution and concentration, RFM segments, stages, movements, top customers by CLV.

    From the latest finished run of the value analytics; None before the first run. CLV bands
    are labelled with the currency ``sign``.
    """
    run, table = latest_scores(url)
    if run is None or table.num_rows == 0:
        return None
    rows = table.select(["customer_id", "clv", "rfm_segment", "lifecycle_stage"]).to_pylist()
    clvs = [float(r["clv"]) for r in rows if r["clv"] is not None]
    # Customers who cost more to serve than they bring have a negative CLV: a band of their own.
    bands = [(f"below {sign}0", float(sum(1 for v in clvs if v < 0)))]
    for low, high in zip(CLV_EDGES, (*CLV_EDGES[1:], None), strict=True):
        inside = sum(1 for v in clvs if v >= low and (high is None or v < high))
        band = f"{sign}{low:,}–{high:,}" if high is not None else f"{sign}{low:,}+"
        bands.append((band, float(inside)))
    segments: dict[str, int] = {}
    stages: dict[str, int] = {}
    for r in rows:
        if r["rfm_segment"]:
            segments[r["rfm_segment"]] = segments.get(r["rfm_segment"], 0) + 1
        stages[r["lifecycle_stage"]] = stages.get(r["lifecycle_stage"], 0) + 1
    top = sorted((r for r in rows if r["clv"] is not None), key=lambda r: -r["clv"])[:10]
    names = customer_names(url, [r["customer_id"] for r in top])
    movements = lifecycle_movements(url, run.as_of - timedelta(days=MOVEMENT_DAYS)).to_pylist()
    return {
        "run": run,
        "clv_total": sum(clvs),
        "clv_top10": _share_of_top(clvs, 0.10),
        "clv_top20": _share_of_top(clvs, 0.20),
        "clv_chart": bar_chart("Customers by lifetime value (CLV)", bands),
        "rfm_chart": bar_chart(
            "Customers by RFM segment",
            sorted(((k, float(v)) for k, v in segments.items()), key=lambda kv: -kv[1]),
            colours=PALETTE,
        ),
        "stage_chart": bar_chart(
            "Customers by lifecycle stage",
            [(k.replace("_", " ").capitalize(), float(v)) for k, v in sorted(stages.items())],
            colours=PALETTE,
        ),
        "movements": movements[:12],
        "since": run.as_of - timedelta(days=MOVEMENT_DAYS),
        "top": [(r["customer_id"], names.get(r["customer_id"], ""), r["clv"]) for r in top],
    }


@router.get("/dashboard")
def dashboard(request: Request, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """Counts, value concentration, lifecycle, cohorts, channels and top customers."""
    data = overview(settings.database_url)
    sign = symbol(display_currency(settings))
    amount = sign + "{:,.0f}"
    charts = {
        "monthly": line_chart("Revenue by month", data.monthly_revenue, fmt=amount)
        if data.monthly_revenue
        else None,
        "lifecycle": bar_chart(
            "Customers by lifecycle stage",
            [(k.replace("_", " ").capitalize(), float(v)) for k, v in data.lifecycle.items()],
            colours=PALETTE,
        ),
        "channels": bar_chart(
            "Revenue by channel",
            [(c.channel.replace("_", " "), c.revenue) for c in data.channels if c.orders],
            fmt=amount,
        ),
        "contacts": bar_chart(
            "Contacts by channel",
            [(c.channel.replace("_", " "), float(c.contacts)) for c in data.channels if c.contacts],
            colours=PALETTE[1:2],
        ),
        "cohorts": heatmap(
            "Cohort retention: share of each first-order month buying again, by months since",
            data.cohort_labels,
            [str(k) for k in range(len(data.cohort_retention[0]) if data.cohort_retention else 0)],
            data.cohort_retention,
            scale=max(
                (v for row in data.cohort_retention for v in row[1:] if v is not None),
                default=1.0,
            )
            or 1.0,
        )
        if data.cohort_labels
        else None,
        "rfm": heatmap(
            "Buyers by recency (rows) and frequency (columns) score",
            ["R5 (recent)", "R4", "R3", "R2", "R1"],
            ["F1", "F2", "F3", "F4", "F5"],
            [[float(v) for v in row] for row in data.rfm_grid],
            fmt="{:,.0f}",
            cell_width=64,
            cell_height=34,
        )
        if data.buyers
        else None,
    }
    context = {"o": data, "charts": charts, "value": value_panel(settings.database_url, sign)}
    return render(request, "dashboard.html", context)
