"""``/api/analytics``: distributions of the value scores for dashboards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from clientbook.analytics.summary import analytics_summary
from clientbook.serve.api.deps import SettingsDep, TokenDep

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


@router.get("/summary")
def summary(settings: SettingsDep, _token: TokenDep) -> dict[str, Any]:
    """CLV histogram and concentration, RFM grid, lifecycle funnel and movements, cohort
    retention, revenue and cost to serve by channel, top customers (latest `analyse` run)."""
    return analytics_summary(
        settings.database_url, settings.value_channel_costs, settings.value_other_channel_cost
    )
