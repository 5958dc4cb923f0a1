"""Web behaviour per customer from the collector's web events and web orders.

Sessions: a customer's web events sorted by time, cut where 30 minutes pass without an event.
Source of a visit (from the session's first event): ``banner_ad`` when utm_medium is display,
banner or cpm; ``campaign`` for any other utm campaign; ``search_engine`` when the referrer's host
is a known search engine; ``referring_site`` for any other external referrer; else ``direct``.
Search terms that brought the customer come from the page's ``search_terms``, the campaign term,
or the referrer's q/p/query/text parameter. Time per visit is last event minus first event. A
session converts when it holds an ``Order Completed`` event or a web order placed during it (or
within 30 minutes after its last event).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd
from pydantic import BaseModel

SESSION_GAP = timedelta(minutes=30)
SEARCH_ENGINES = (
    "google.",
    "bing.",
    "yahoo.",
    "duckduckgo.",
    "baidu.",
    "yandex.",
    "ecosia.",
    "ask.",
)
BANNER_MEDIA = ("display", "banner", "cpm")


class WebBehaviour(BaseModel):
    """One customer's web behaviour."""

    customer_id: int
    visits: int
    visits_per_month: float
    average_visit_seconds: float
    pages: int
    sources: dict[str, int]
    entry_search_terms: list[str]
    site_searches: list[str]
    purchases: int
    converting_visits: int
    visit_conversion_rate: float
    converted: bool
    spend: float
    spend_per_purchase: float | None
    spend_per_visit: float | None


def _props(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def visit_source(properties: dict[str, Any], own_host: str | None = None) -> str:
    """Classify where a visit came from (see the module docstring)."""
    campaign = _props(properties.get("campaign"))
    medium = str(campaign.get("medium") or "").lower()
    if medium in BANNER_MEDIA:
        return "banner_ad"
    if campaign.get("name") or campaign.get("source") or medium:
        return "campaign"
    referrer = str(properties.get("referrer") or "")
    host = (urlparse(referrer).hostname or "").lower()
    if not host or (own_host and host.endswith(own_host)):
        return "direct"
    if any(host.startswith(e) or f".{e}" in host for e in SEARCH_ENGINES):
        return "search_engine"
    return "referring_site"


def entry_terms(properties: dict[str, Any]) -> str | None:
    """The search terms that brought the visitor, if any."""
    terms = properties.get("search_terms") or _props(properties.get("campaign")).get("term")
    if terms:
        return str(terms)[:200]
    referrer = str(properties.get("referrer") or "")
    query = parse_qs(urlparse(referrer).query)
    for key in ("q", "p", "query", "text"):
        if query.get(key):
            return query[key][0][:200]
    return None


def sessions(events: pd.DataFrame) -> pd.DataFrame:
    """Number each customer's events into sessions (30-minute inactivity cut)."""
    frame = events.sort_values(["customer_id", "occurred_at"]).reset_index(drop=True)
    gap = frame.groupby("customer_id").occurred_at.diff()
    frame["session"] = ((gap.isna()) | (gap > SESSION_GAP)).cumsum()
    return frame


def behaviour(events: pd.DataFrame, orders: pd.DataFrame) -> list[WebBehaviour]:
    """Web behaviour for every customer with web events.

    ``events``: customer_id, occurred_at, type, properties. ``orders``: customer_id, ordered_at,
    revenue, channel (only ``web`` orders count).
    """
    if events.empty:
        return []
    events = events.assign(occurred_at=pd.to_datetime(events.occurred_at, utc=True))
    web_orders = orders[orders.channel == "web"].assign(
        ordered_at=lambda f: pd.to_datetime(f.ordered_at, utc=True)
    )
    frame = sessions(events)
    out = []
    for cid, mine in frame.groupby("customer_id"):
        own_orders = web_orders[web_orders.customer_id == cid]
        sources: Counter[str] = Counter()
        terms: list[str] = []
        durations = []
        converting = 0
        for _, visit in mine.groupby("session"):
            first = _props(visit.iloc[0].properties)
            sources[visit_source(first)] += 1
            term = entry_terms(first)
            if term:
                terms.append(term)
            start, end = visit.occurred_at.min(), visit.occurred_at.max()
            durations.append((end - start).total_seconds())
            bought = (visit.type == "Order Completed").any() or (
                (own_orders.ordered_at >= start) & (own_orders.ordered_at <= end + SESSION_GAP)
            ).any()
            converting += int(bought)
        searches = [
            str(_props(p).get("query"))[:200]
            for t, p in zip(mine.type, mine.properties, strict=True)
            if t == "Products Searched" and _props(p).get("query")
        ]
        visits = len(durations)
        span_days = (mine.occurred_at.max() - mine.occurred_at.min()).total_seconds() / 86400
        months = max(1.0, span_days / 30.4375)
        purchases = len(own_orders)
        spend = float(own_orders.revenue.sum())
        out.append(
            WebBehaviour(
                customer_id=int(cid),
                visits=visits,
                visits_per_month=round(visits / months, 3),
                average_visit_seconds=round(sum(durations) / visits, 1),
                pages=int((mine.type == "page").sum()),
                sources=dict(sources),
                entry_search_terms=terms,
                site_searches=searches,
                purchases=purchases,
                converting_visits=converting,
                visit_conversion_rate=round(converting / visits, 4),
                converted=purchases > 0 or converting > 0,
                spend=round(spend, 2),
                spend_per_purchase=round(spend / purchases, 2) if purchases else None,
                spend_per_visit=round(spend / visits, 2),
            )
        )
    return out
