"""Channel and style preference on campaign data with a known truth; needs clusters; affinities."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from clientbook.analytics.learning import (
    learn_affinities,
    learn_all,
    learn_response_preferences,
    style_report,
)
from clientbook.analytics.response_rates import posterior
from clientbook.store.db import session_scope
from clientbook.store.frames import customer_rates
from clientbook.store.models.contacts import Interaction, Preference
from clientbook.store.models.parties import Customer
from tests.needs_population import build

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _campaigns(url: str, n: int = 200, seed: int = 3) -> dict[int, tuple[str, str]]:
    """Customers 1..n: odd ones answer e-mail and rational messages, even ones post and emotion."""
    rng = random.Random(seed)
    truth, rows = {}, []
    for cid in range(1, n + 1):
        online = cid % 2 == 1
        truth[cid] = ("email" if online else "direct_mail", "rational" if online else "emotional")
        sends = 1 if cid == n else 16  # the last customer has a single contact
        for k in range(sends):
            channel = ("email", "direct_mail")[k % 2]
            style = ("rational", "emotional")[(k // 2) % 2]
            p = 0.05
            if channel == truth[cid][0]:
                p += 0.3
            if style == truth[cid][1]:
                p += 0.25
            outcome = (
                rng.choice(["clicked", "responded", "purchased"])
                if rng.random() < p
                else ("opened" if channel == "email" and rng.random() < 0.5 else "no_response")
            )
            rows.append(
                {
                    "source": "campaigns",
                    "interaction_id": f"{cid}-{k}",
                    "customer_id": cid,
                    "channel": channel,
                    "direction": "outbound",
                    "type": "campaign",
                    "occurred_at": T0 + timedelta(days=k),
                    "outcome": outcome,
                    "properties": {"campaign": f"c{k}", "style": style},
                }
            )
    with session_scope(url) as session:
        session.execute(
            insert(Customer), [{"id": c, "first_name": "X", "traits": {}} for c in truth]
        )
        session.execute(insert(Interaction), rows)
    return truth


def test_channel_and_style_preference_recover_the_truth(sqlite_url: str) -> None:
    truth = _campaigns(sqlite_url)
    summary = learn_response_preferences(sqlite_url)
    assert summary["channel_rates"] == 2 * 199 + 1
    with session_scope(sqlite_url, write=False) as session:
        prefs = session.execute(
            select(Preference.customer_id, Preference.key, Preference.value, Preference.confidence)
        ).all()
    channel = {c: v for c, k, v, _ in prefs if k == "preferred_channel"}
    orientation = {c: v for c, k, v, _ in prefs if k == "contact_orientation"}
    style = {c: v for c, k, v, _ in prefs if k == "message_style"}
    right = sum(channel[c] == truth[c][0] for c in truth if c in channel)
    assert right / len(channel) >= 0.85
    online_right = sum(
        orientation[c] == ("online" if c % 2 else "offline")
        for c in orientation
        if orientation[c] != "mixed"
    )
    assert online_right / sum(v != "mixed" for v in orientation.values()) >= 0.9
    decided = {c: v for c, v in style.items() if v != "undecided"}
    assert len(decided) >= 40
    assert sum(v == truth[c][1] for c, v in decided.items()) / len(decided) >= 0.9
    # Shrinkage: one contact leaves the estimate near the segment's rate, inside its interval.
    single = {r["value"]: r for r in customer_rates(sqlite_url, 200)}
    rate = single["email"]
    assert rate["contacts"] == 1
    assert abs(rate["rate"] - rate["prior_rate"]) < 0.1
    assert rate["lower"] < rate["prior_rate"] < rate["upper"]
    report = style_report(sqlite_url, customer_ids=[c for c in truth if c % 2 == 1])
    assert report[0]["p_rational_better"] > 0.99
    r = report[0]["styles"]["rational"]
    assert r["lower"] < r["rate"] < r["upper"]


def test_posterior_interval() -> None:
    r = posterior(3, 10)
    assert abs(r.rate - 4 / 12) < 1e-9 and r.lower < 4 / 12 < r.upper


def test_needs_clusters_and_affinities_on_population(sqlite_url: str) -> None:
    build(sqlite_url)
    result = learn_all(sqlite_url)
    assert 2 <= result["needs"]["k"] <= 8
    assert result["needs"]["customers"] > 100
    best = max(result["needs"]["silhouette"].values())
    assert result["needs"]["silhouette"][str(result["needs"]["k"])] == best
    assert result["affinities"]["preferences"] > 50
    with session_scope(sqlite_url, write=False) as session:
        keys = set(session.scalars(select(Preference.key).where(Preference.source == "observed")))
    assert {"brand", "category", "price_range"} <= keys
    assert learn_affinities(sqlite_url) == result["affinities"]  # recomputation replaces
