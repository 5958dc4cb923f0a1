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


def _first_rows(frame: pd.DataFrame, keep: str = "first") -> pd.DataFrame:
    """The first (or last) event of each session; ``frame`` is sorted as :func:`sessions` sorts."""
    return frame[~frame.session.duplicated(keep=keep)]  # type: ignore[arg-type]


def _visits(frame: pd.DataFrame, web_orders: pd.DataFrame) -> pd.DataFrame:
    """One row per visit: customer_id, start, end, seconds, source, term, converts."""
    first = _first_rows(frame)
    props = [_props(p) for p in first.properties]
    visits = pd.DataFrame(
        {
            "session": first.session.to_numpy(),
            "customer_id": first.customer_id.to_numpy(),
            "start": first.occurred_at.to_numpy(),
            "end": _first_rows(frame, "last").occurred_at.to_numpy(),
            "source": [visit_source(p) for p in props],
            "term": [entry_terms(p) for p in props],
        }
    )
    visits["seconds"] = (visits.end - visits.start).dt.total_seconds()
    completed = frame.type.eq("Order Completed").groupby(frame.session).any()
    # A visit converts when the customer's first web order at or after its start falls
    # before its end plus the session gap.
    ordered = web_orders[["customer_id", "ordered_at"]].sort_values("ordered_at")
    nearest = pd.merge_asof(
        visits.sort_values("start"),
        ordered.astype({"customer_id": visits.customer_id.dtype}),
        left_on="start",
        right_on="ordered_at",
        by="customer_id",
        direction="forward",
    ).set_index("session")
    within = (nearest.ordered_at <= nearest.end + SESSION_GAP).reindex(visits.session)
    visits["converts"] = completed.reindex(visits.session).to_numpy() | within.to_numpy()
    return visits


def _lists(keys: pd.Series, values: pd.Series) -> dict[int, list[str]]:
    """Values gathered per customer, in row order, skipping empty ones."""
    keep = values.notna()
    return {
        int(k): list(v) for k, v in values[keep].groupby(keys[keep], sort=False).agg(list).items()
    }


def behaviour(events: pd.DataFrame, orders: pd.DataFrame) -> list[WebBehaviour]:
    """Web behaviour for every customer with web events, computed over all of them at once.

    ``events``: customer_id, occurred_at, type, properties. ``orders``: customer_id, ordered_at,
    revenue, channel (only ``web`` orders count).
    """
    if events.empty:
        return []
    frame = sessions(events.assign(occurred_at=pd.to_datetime(events.occurred_at, utc=True)))
    web_orders = orders[orders.channel == "web"]
    web_orders = web_orders.assign(ordered_at=pd.to_datetime(web_orders.ordered_at, utc=True))
    visits = _visits(frame, web_orders)
    per_visit = visits.groupby("customer_id").agg(
        visits=("session", "size"),
        seconds=("seconds", "sum"),
        converting=("converts", "sum"),
        first=("start", "min"),
        last=("end", "max"),
    )
    per_visit["pages"] = frame.type.eq("page").groupby(frame.customer_id).sum()
    bought = web_orders.groupby("customer_id").revenue.agg(["size", "sum"])
    per_visit["purchases"] = bought["size"].reindex(per_visit.index, fill_value=0)
    per_visit["spend"] = bought["sum"].reindex(per_visit.index, fill_value=0.0)
    per_visit["span_days"] = (per_visit["last"] - per_visit["first"]).dt.total_seconds() / 86400
    searched = frame[frame.type == "Products Searched"]
    queries = pd.Series(
        [_props(p).get("query") or None for p in searched.properties],
        index=searched.index,
        dtype=object,
    )
    searches = _lists(searched.customer_id, queries.map(lambda q: str(q)[:200], na_action="ignore"))
    terms = _lists(visits.customer_id, visits.term)
    sources: dict[int, dict[str, int]] = {}
    counted = visits.groupby(["customer_id", "source"], sort=False).size()
    for (cid, source), n in counted.items():
        sources.setdefault(int(cid), {})[str(source)] = int(n)
    columns = ("visits", "seconds", "converting", "pages", "purchases", "spend", "span_days")
    out = []
    for cid, n, seconds, converting, pages, purchases, spend, span_days in zip(
        per_visit.index.tolist(), *(per_visit[c].tolist() for c in columns), strict=True
    ):
        out.append(
            WebBehaviour(
                customer_id=cid,
                visits=n,
                visits_per_month=round(n / max(1.0, span_days / 30.4375), 3),
                average_visit_seconds=round(seconds / n, 1),
                pages=pages,
                sources=sources[cid],
                entry_search_terms=terms.get(cid, []),
                site_searches=searches.get(cid, []),
                purchases=purchases,
                converting_visits=converting,
                visit_conversion_rate=round(converting / n, 4),
                converted=purchases > 0 or converting > 0,
                spend=round(spend, 2),
                spend_per_purchase=round(spend / purchases, 2) if purchases else None,
                spend_per_visit=round(spend / n, 2),
            )
        )
    return out
