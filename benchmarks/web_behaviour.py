"""Web behaviour of every customer: the set-based computation against a per-customer loop.

The peer is the straightforward pandas version (what Clientbook ran before): group the
sessionised events by customer, then by visit, and test each visit against the customer's web
orders in Python. Both run on the same frames read once from a store (``--db``, e.g. the one
`make demo` builds) in the same run; the script checks that they give the same results and
prints both times and the ratio (medians of ``--repeat`` runs; reading the store is timed apart).

    .venv/bin/python benchmarks/web_behaviour.py --db sqlite:///./clientbook.db --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd

from clientbook.analytics.web_behaviour import (
    SESSION_GAP,
    WebBehaviour,
    behaviour,
    entry_terms,
    sessions,
    visit_source,
)
from clientbook.store.frames import orders_frame, web_events


def _props(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def per_customer_loop(events: pd.DataFrame, orders: pd.DataFrame) -> list[WebBehaviour]:
    """The peer: one customer, then one visit, at a time."""
    events = events.assign(occurred_at=pd.to_datetime(events.occurred_at, utc=True))
    web_orders = orders[orders.channel == "web"].assign(
        ordered_at=lambda f: pd.to_datetime(f.ordered_at, utc=True)
    )
    frame = sessions(events)
    by_customer = {cid: part for cid, part in web_orders.groupby("customer_id")}
    empty = web_orders.iloc[0:0]
    out = []
    for cid, mine in frame.groupby("customer_id"):
        own = by_customer.get(cid, empty)
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
                (own.ordered_at >= start) & (own.ordered_at <= end + SESSION_GAP)
            ).any()
            converting += int(bought)
        searches = [
            str(_props(p).get("query"))[:200]
            for t, p in zip(mine.type, mine.properties, strict=True)
            if t == "Products Searched" and _props(p).get("query")
        ]
        visits = len(durations)
        span_days = (mine.occurred_at.max() - mine.occurred_at.min()).total_seconds() / 86400
        purchases = len(own)
        spend = float(own.revenue.sum())
        out.append(
            WebBehaviour(
                customer_id=int(cid),
                visits=visits,
                visits_per_month=round(visits / max(1.0, span_days / 30.4375), 3),
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


def _timed(
    run: Callable[[pd.DataFrame, pd.DataFrame], list[WebBehaviour]],
    events: pd.DataFrame,
    orders: pd.DataFrame,
    repeat: int,
) -> tuple[float, list[WebBehaviour]]:
    times, result = [], []
    for _ in range(repeat):
        tick = time.perf_counter()
        result = run(events, orders)
        times.append(time.perf_counter() - tick)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite:///./clientbook.db", help="store to read")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median)")
    args = parser.parse_args()
    tick = time.perf_counter()
    events, orders = web_events(args.db), orders_frame(args.db)
    read = time.perf_counter() - tick
    print(
        f"read {len(events):,} web events and {len(orders):,} orders in {read:.1f} s "
        f"({events.customer_id.nunique():,} customers with web events)"
    )
    ours, fast = _timed(behaviour, events, orders, args.repeat)
    peer, slow = _timed(per_customer_loop, events, orders, args.repeat)
    differ, cents = _compare(fast, slow)
    print(f"per-customer loop (peer): {peer:8.2f} s")
    print(f"Clientbook, set-based:    {ours:8.2f} s")
    print(f"ratio peer / Clientbook:  {peer / ours:8.1f}x")
    print(
        f"results: {len(fast):,} customers, {differ} differ; {cents} differ by one cent in a "
        "spend figure (a half-cent tie rounded the other way: per-customer sums are now "
        "compensated sums, not numpy's pairwise ones)"
    )
    if differ:
        raise SystemExit("the two computations differ")


MONEY = ("spend", "spend_per_purchase", "spend_per_visit")


def _compare(ours: list[WebBehaviour], peer: list[WebBehaviour]) -> tuple[int, int]:
    """Customers whose results differ, and those differing only by a cent in a money field."""
    if [b.customer_id for b in ours] != [b.customer_id for b in peer]:
        return max(len(ours), len(peer)), 0
    differ = cents = 0
    for a, b in zip(ours, peer, strict=True):
        x, y = a.model_dump(), b.model_dump()
        if x == y:
            continue
        wrong = {k for k in x if x[k] != y[k]}
        if wrong <= set(MONEY) and all(abs(x[k] - y[k]) <= 0.0100001 for k in wrong):
            cents += 1
        else:
            differ += 1
    return differ, cents


if __name__ == "__main__":
    main()
