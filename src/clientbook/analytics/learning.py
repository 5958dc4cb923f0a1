"""Run the needs analytics on a store: read, compute, write back (what `clientbook needs` calls)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from clientbook.analytics.affinities import affinities
from clientbook.analytics.needs_clusters import cluster_needs, features
from clientbook.analytics.response_rates import (
    CAMPAIGN_CHANNELS,
    STYLES,
    channel_labels,
    estimate_rates,
    group_style_report,
    style_labels,
)
from clientbook.analytics.web_behaviour import WebBehaviour, behaviour
from clientbook.store import frames
from clientbook.store.db import session_scope
from clientbook.store.preferences import ObservedPreference, replace_observed

_RATE_COLUMNS = [
    "customer_id",
    "value",
    "contacts",
    "responses",
    "prior_rate",
    "rate",
    "lower",
    "upper",
]


def _observed(rows: list[dict[str, Any]]) -> list[ObservedPreference]:
    return [ObservedPreference(**r) for r in rows]


def _with_groups(url: str, contacts: pd.DataFrame) -> pd.DataFrame:
    groups = frames.needs_assignments(url).set_index("customer_id").label
    return contacts.assign(group=contacts.customer_id.map(groups).fillna("all customers"))


def learn_response_preferences(url: str) -> dict[str, int]:
    """Channel and style response rates, preferred channel, orientation, message style."""
    contacts = _with_groups(url, frames.campaign_contacts(url))
    channel_rates = estimate_rates(contacts, "channel", CAMPAIGN_CHANNELS)
    style_rates = estimate_rates(contacts, "style", STYLES)
    frames.write_response_rates(url, "channel", channel_rates[_RATE_COLUMNS].to_dict("records"))
    frames.write_response_rates(url, "style", style_rates[_RATE_COLUMNS].to_dict("records"))
    labels = channel_labels(channel_rates, frames.inbound_contacts(url)) + style_labels(style_rates)
    with session_scope(url) as session:
        written = replace_observed(
            session,
            ("preferred_channel", "contact_orientation", "message_style"),
            _observed(labels),
        )
    return {
        "campaign_contacts": len(contacts),
        "channel_rates": len(channel_rates),
        "style_rates": len(style_rates),
        "preferences": written,
    }


def style_report(url: str, customer_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Response rate per style with 90 % intervals, per needs cluster (or for given customers)."""
    contacts = _with_groups(url, frames.campaign_contacts(url))
    if customer_ids is not None:
        contacts = contacts[contacts.customer_id.isin(customer_ids)].assign(group="selected")
    return group_style_report(contacts)


def learn_affinities(url: str) -> dict[str, int]:
    """Brand, category, size, colour and price-range affinities from order lines."""
    rows = affinities(frames.order_lines_frame(url))
    with session_scope(url) as session:
        written = replace_observed(
            session, ("brand", "category", "size", "colour", "price_range"), _observed(rows)
        )
    return {"preferences": written}


def learn_needs_clusters(url: str) -> dict[str, Any]:
    """Cluster buyers by needs; store clusters (described in words) and assignments."""
    matrix = features(
        frames.order_lines_frame(url), frames.orders_frame(url), frames.service_frame(url)
    )
    clusters, assignments, scores = cluster_needs(matrix)
    version = "needs-kmeans-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if clusters:
        frames.write_needs(url, version, clusters, assignments)
    return {
        "model_version": version,
        "customers": len(assignments),
        "k": len(clusters),
        "silhouette": {str(k): round(v, 4) for k, v in scores.items()},
        "clusters": clusters,
    }


def web_behaviour(url: str, customer_id: int | None = None) -> list[WebBehaviour]:
    """Web behaviour per customer (all customers with web events, or one)."""
    return behaviour(frames.web_events(url, customer_id), frames.orders_frame(url, customer_id))


def learn_all(url: str) -> dict[str, Any]:
    """Clusters first (they are the segments the response rates shrink toward), then the rest."""
    clusters = learn_needs_clusters(url)
    return {
        "needs": {k: v for k, v in clusters.items() if k != "clusters"},
        "responses": learn_response_preferences(url),
        "affinities": learn_affinities(url),
    }
