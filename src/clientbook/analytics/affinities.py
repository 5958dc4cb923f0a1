"""Observed preferences: affinities for brands, categories, sizes, colours and price range.

From every order line of a customer we count, per key, how many lines carry each value. The top
value of a key becomes an observed preference when it was seen on at least 2 lines; its
confidence is count / (lines + 1) (the share, shrunk a little toward zero for short histories)
and ``evidence_count`` is the count. Brand is the line's brand, else the product's; size and
colour are read from the product name (``... size M``, ``... red``); the price range is the
band of the customer's median unit price among the catalogue's price tertiles (budget, mid,
premium).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

COLOURS = (
    "black",
    "white",
    "grey",
    "gray",
    "red",
    "blue",
    "green",
    "yellow",
    "pink",
    "purple",
    "orange",
    "brown",
    "beige",
    "navy",
)
_SIZE = re.compile(r"\bsize\s+([A-Za-z0-9.]{1,6})\b", re.IGNORECASE)
_COLOUR = re.compile(r"\b(" + "|".join(COLOURS) + r")\b", re.IGNORECASE)
MIN_EVIDENCE = 2


def _size(name: Any) -> str | None:
    match = _SIZE.search(str(name or ""))
    return match.group(1).upper() if match else None


def _colour(name: Any) -> str | None:
    match = _COLOUR.search(str(name or ""))
    return match.group(1).lower().replace("gray", "grey") if match else None


def affinities(lines: pd.DataFrame) -> list[dict[str, Any]]:
    """Observed preferences from order lines (customer_id, quantity, revenue, category, price,
    name, line_brand, product_brand)."""
    if lines.empty:
        return []
    frame = lines.copy()
    frame["brand"] = frame.line_brand.fillna(frame.product_brand)
    frame["size"] = frame.name.map(_size)
    frame["colour"] = frame.name.map(_colour)
    unit = frame.revenue / frame.quantity.clip(lower=1)
    prices = frame.price.dropna()
    low, high = np.quantile(prices, [1 / 3, 2 / 3]) if len(prices) >= 3 else (np.nan, np.nan)
    totals = frame.groupby("customer_id").size()
    out: list[dict[str, Any]] = []
    for key in ("brand", "category", "size", "colour"):
        counts = (
            frame.dropna(subset=[key]).groupby(["customer_id", key]).size().reset_index(name="n")
        )
        top = counts.sort_values(["customer_id", "n", key], ascending=[True, False, True])
        top = top.groupby("customer_id").head(1)
        for cid, value, n in top[top.n >= MIN_EVIDENCE].itertuples(index=False):
            out.append(
                {
                    "customer_id": int(cid),
                    "key": key,
                    "value": str(value),
                    "evidence_count": int(n),
                    "confidence": n / (totals[cid] + 1),
                    "origin": f"observed: {n} of {totals[cid]} order lines",
                }
            )
    if not np.isnan(low):

        def band(price: float) -> str:
            return "budget" if price <= low else "premium" if price > high else "mid"

        line_band = unit.map(band)
        median = unit.groupby(frame.customer_id).median()
        for cid, price in median.items():
            if totals[cid] < MIN_EVIDENCE:
                continue
            value = band(price)
            out.append(
                {
                    "customer_id": int(cid),
                    "key": "price_range",
                    "value": value,
                    "evidence_count": 0,
                    "confidence": 0.0,
                    "origin": f"observed: median unit price {price:.2f} over {totals[cid]} lines",
                }
            )
        in_band = (
            pd.DataFrame({"customer_id": frame.customer_id, "band": line_band})
            .groupby(["customer_id", "band"])
            .size()
        )
        for row in out:
            if row["key"] == "price_range":
                n = int(in_band.get((row["customer_id"], row["value"]), 0))
                row["evidence_count"] = n
                row["confidence"] = n / (totals[row["customer_id"]] + 1)
    return out
