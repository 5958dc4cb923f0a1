"""The dashboard: the customer base at a glance, as server-drawn charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.auth import MarketerDep
from clientbook.serve.web.charts import PALETTE, bar_chart, heatmap, line_chart
from clientbook.serve.web.templating import render
from clientbook.store.overview import overview

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """Counts, value concentration, lifecycle, cohorts, channels and top customers."""
    data = overview(settings.database_url)
    charts = {
        "monthly": line_chart("Revenue by month", data.monthly_revenue, fmt="€{:,.0f}")
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
            fmt="€{:,.0f}",
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
    return render(request, "dashboard.html", {"o": data, "charts": charts})
