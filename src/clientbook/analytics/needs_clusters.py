"""Needs-based segmentation: cluster buyers on what they buy, how, and how much service they use.

Features per customer with at least one order line: the share of lines in each of the 8 largest
categories (what), the log of the median unit price and the discount share (lines sold at least
5 % under list price), the share of orders per order channel and the share placed in the evening
(18:00-24:00 UTC) (how), and cases and inbound call-centre contacts per order (service). Features
are standardised (z-scores) and clustered with k-means (scikit-learn, 10 starts, fixed seed) for
k = 2..8; k is the one with the highest silhouette coefficient (computed on at most 3,000
customers). Each cluster is described in words by its three features furthest above the overall
mean, in standard deviations. The fits run on one thread: k-means on a few thousand rows gains
little from more, and OpenMP threads spinning beside other busy processes made them ~8x slower.

References: Rousseeuw (1987), "Silhouettes", J. Comput. Appl. Math. 20; Wedel & Kamakura,
*Market Segmentation* (2000), ch. 5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

K_RANGE = range(2, 9)
SEED = 0
TOP_CATEGORIES = 8


def features(lines: pd.DataFrame, orders: pd.DataFrame, service: pd.DataFrame) -> pd.DataFrame:
    """The feature matrix, one row per buying customer (see the module docstring)."""
    if lines.empty:
        return pd.DataFrame()
    lines = lines.assign(category=lines.category.fillna("other"))
    top = lines.category.value_counts().head(TOP_CATEGORIES).index
    cat = lines.category.where(lines.category.isin(top), "other")
    shares = pd.crosstab(lines.customer_id, cat, normalize="index").add_prefix("category: ")
    unit = lines.revenue / lines.quantity.clip(lower=1)
    price = np.log1p(unit.groupby(lines.customer_id).median()).rename("price level")
    discounted = (lines.price.notna() & (unit < 0.95 * lines.price)).astype(float)
    discount = discounted.groupby(lines.customer_id).mean().rename("discount use")
    orders = orders.assign(
        channel=orders.channel.fillna("unknown"),
        hour=pd.to_datetime(orders.ordered_at, utc=True).dt.hour,
    )
    channels = pd.crosstab(orders.customer_id, orders.channel, normalize="index").add_prefix(
        "orders by "
    )
    evening = (orders.hour >= 18).groupby(orders.customer_id).mean().rename("evening orders")
    per_order = orders.groupby("customer_id").size()
    frame = pd.concat([shares, price, discount, channels, evening], axis=1)
    frame = frame[frame.index.isin(shares.index)].fillna(0.0)
    service = service.reindex(frame.index).fillna(0.0)
    n = per_order.reindex(frame.index).fillna(1.0).clip(lower=1)
    frame["service contacts per order"] = (service.get("cases", 0) + service.get("calls", 0)) / n
    return frame


def choose_k(x: np.ndarray) -> tuple[int, dict[int, float]]:
    """The k of K_RANGE with the best silhouette, and every k's score."""
    rng = np.random.default_rng(SEED)
    sample = x if len(x) <= 3000 else x[rng.choice(len(x), 3000, replace=False)]
    scores = {}
    for k in K_RANGE:
        if k >= len(sample):
            break
        labels = KMeans(k, n_init=10, random_state=SEED).fit_predict(sample)
        if len(set(labels)) > 1:
            scores[k] = float(silhouette_score(sample, labels))
    if not scores:
        return 1, {}
    return max(scores, key=lambda k: scores[k]), scores


def describe(frame: pd.DataFrame, labels: np.ndarray) -> list[dict[str, Any]]:
    """Each cluster in words: its three most distinctive features above the mean."""
    overall_mean, overall_sd = frame.mean(), frame.std(ddof=0).replace(0, 1)
    clusters = []
    for k in sorted(set(labels)):
        part = frame[labels == k]
        z = (part.mean() - overall_mean) / overall_sd
        top = z.sort_values(ascending=False).head(3)
        phrases = [
            f"{name} {part[name].mean():.2f} vs {overall_mean[name]:.2f} overall"
            for name in top.index
            if z[name] > 0.1
        ]
        label = ", ".join(f"high {n}" for n in top.index[:2] if z[n] > 0.1) or "average buyers"
        clusters.append(
            {
                "cluster": int(k),
                "label": label[:200],
                "description": (
                    f"{len(part)} customers; above average on " + "; ".join(phrases)
                    if phrases
                    else f"{len(part)} customers close to the overall average"
                ),
                "size": len(part),
                "profile": {n: round(float(v), 4) for n, v in part.mean().items()},
            }
        )
    return clusters


def cluster_needs(
    frame: pd.DataFrame,
) -> tuple[list[dict[str, Any]], pd.DataFrame, dict[int, float]]:
    """Cluster the customers of ``frame``; return the clusters, the assignments, the silhouettes."""
    if len(frame) < 10:
        return [], pd.DataFrame(columns=["customer_id", "cluster"]), {}
    x = StandardScaler().fit_transform(frame.to_numpy())
    with threadpool_limits(limits=1):
        k, scores = choose_k(x)
        labels = (
            KMeans(k, n_init=10, random_state=SEED).fit_predict(x) if k > 1 else np.zeros(len(x))
        )
    labels = labels.astype(int)
    assignments = pd.DataFrame({"customer_id": frame.index.astype(int), "cluster": labels})
    return describe(frame, labels), assignments, scores
