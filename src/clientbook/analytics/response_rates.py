"""Channel and message-style preference: Bayesian response rates shrunk toward the segment's rate.

Model (beta-binomial, empirical Bayes). For customer *i* and option *k* (a channel, or a message
style), responses y_ik out of n_ik campaign contacts are Binomial(n_ik, p_ik) with
p_ik ~ Beta(m_gk s_k, (1 - m_gk) s_k), where m_gk is the pooled response rate of the customer's
segment *g* (the needs cluster, else everyone) for option *k*, and the prior strength s_k is fitted
by the method of moments across customers (clamped to [2, 200]). The posterior is
Beta(m s + y, (1 - m) s + n - y); we report its mean and the central 90 % credible interval, so a
customer with few contacts sits near the segment's rate and one with many near their own.

Vocabulary: a *response* is an outcome of ``clicked``, ``responded`` or ``purchased``; ``opened``
is not counted (only e-mail can report it, so it would favour e-mail unfairly). Message styles are
``rational`` (detailed, factual: specifications, prices, comparisons) and ``emotional`` (appeals to
feelings, identity, stories). Online channels: email, sms; offline: direct_mail, phone.

Labels: the preferred channel is the one with the highest posterior mean, its confidence the
posterior probability that it is the best (Monte Carlo, 1,000 draws, fixed seed). Orientation
mixes two evidences weighted by their counts: P(an online channel is best) from campaign responses
and the share of inbound contacts made on online channels (web, app, email, chat, sms, social)
versus offline ones (store, call_centre, phone, direct_mail), with a Beta(1, 1) prior; >= 0.6 is
``online``, <= 0.4 ``offline``, else ``mixed``. Style: P(rational beats emotional) >= 0.8 is
``rational``, <= 0.2 ``emotional``, else ``undecided``.

References: Gelman et al., *Bayesian Data Analysis*, 3rd ed., section 5.3 (hierarchical
beta-binomial); Efron, *Large-Scale Inference* (empirical Bayes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

RESPONSE_OUTCOMES = ("clicked", "responded", "purchased")
CAMPAIGN_CHANNELS = ("email", "direct_mail", "phone", "sms")
ONLINE_CHANNELS = ("email", "sms")
STYLES = ("rational", "emotional")
INBOUND_ONLINE = ("web", "app", "email", "chat", "sms", "social")
INBOUND_OFFLINE = ("store", "call_centre", "phone", "direct_mail")
LEVEL = 0.90
DRAWS = 1000
MIN_GROUP_CONTACTS = 30


@dataclass(frozen=True)
class Rate:
    """A posterior response rate with its credible interval."""

    contacts: int
    responses: int
    rate: float
    lower: float
    upper: float


def posterior(responses: int, contacts: int, a: float = 1.0, b: float = 1.0) -> Rate:
    """The Beta(a + y, b + n - y) posterior mean and central 90 % interval."""
    alpha, beta = a + responses, b + contacts - responses
    low, high = stats.beta.ppf([(1 - LEVEL) / 2, (1 + LEVEL) / 2], alpha, beta)
    return Rate(contacts, responses, alpha / (alpha + beta), float(low), float(high))


def prior_strength(n: np.ndarray, y: np.ndarray, m: float) -> float:
    """Method-of-moments prior strength of a beta-binomial with mean ``m``, in [2, 200]."""
    mask = n > 0
    if mask.sum() < 5 or not 0 < m < 1:
        return 20.0
    p = y[mask] / n[mask]
    within = m * (1 - m) * float(np.mean(1.0 / n[mask]))
    between = float(np.var(p)) - within
    if between <= 0:
        return 200.0
    return float(np.clip(m * (1 - m) / between - 1, 2.0, 200.0))


def estimate_rates(contacts: pd.DataFrame, column: str, options: tuple[str, ...]) -> pd.DataFrame:
    """Per customer and option: contacts, responses, prior rate, posterior rate and interval.

    ``contacts`` has customer_id, ``column`` (the option), outcome and group (segment).
    """
    frame = contacts[contacts[column].isin(options)].copy()
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "customer_id",
                "value",
                "group",
                "contacts",
                "responses",
                "prior_rate",
                "alpha",
                "beta",
                "rate",
                "lower",
                "upper",
            ]
        )
    frame["response"] = frame.outcome.isin(RESPONSE_OUTCOMES).astype(int)
    counts = (
        frame.groupby(["customer_id", "group", column])
        .agg(contacts=("response", "size"), responses=("response", "sum"))
        .reset_index()
        .rename(columns={column: "value"})
    )
    overall = counts.groupby("value")[["contacts", "responses"]].sum()
    by_group = counts.groupby(["group", "value"])[["contacts", "responses"]].sum()
    out = []
    for value, part in counts.groupby("value"):
        total = overall.loc[value]
        base = (total.responses + 1) / (total.contacts + 2)
        strength = prior_strength(part.contacts.to_numpy(), part.responses.to_numpy(), base)
        group_stats = by_group.xs(value, level="value")
        m = part.group.map(
            lambda g, gs=group_stats, b=base: (
                (gs.loc[g].responses + 1) / (gs.loc[g].contacts + 2)
                if gs.loc[g].contacts >= MIN_GROUP_CONTACTS
                else b
            )
        )
        part = part.assign(prior_rate=m.to_numpy())
        part["alpha"] = part.prior_rate * strength + part.responses
        part["beta"] = (1 - part.prior_rate) * strength + part.contacts - part.responses
        part["rate"] = part.alpha / (part.alpha + part.beta)
        part["lower"] = stats.beta.ppf((1 - LEVEL) / 2, part.alpha, part.beta)
        part["upper"] = stats.beta.ppf((1 + LEVEL) / 2, part.alpha, part.beta)
        out.append(part)
    return pd.concat(out, ignore_index=True)


def best_probabilities(rates: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """P(option is best) per customer by Monte Carlo over the posteriors (options seen only)."""
    wide_a = rates.pivot(index="customer_id", columns="value", values="alpha")
    wide_b = rates.pivot(index="customer_id", columns="value", values="beta")
    options = list(wide_a.columns)
    rng = np.random.default_rng(seed)
    result = []
    for start in range(0, len(wide_a), 2000):
        a = wide_a.iloc[start : start + 2000].to_numpy()
        b = wide_b.iloc[start : start + 2000].to_numpy()
        seen = ~np.isnan(a)
        draws = rng.beta(np.nan_to_num(a, nan=1.0), np.nan_to_num(b, nan=1.0), (DRAWS, *a.shape))
        draws[:, ~seen] = -1.0  # an option never tried cannot be the best
        winner = draws.argmax(axis=2)
        shares = np.stack([(winner == k).mean(axis=0) for k in range(len(options))], axis=1)
        result.append(
            pd.DataFrame(shares, index=wide_a.index[start : start + 2000], columns=options)
        )
    return pd.concat(result) if result else pd.DataFrame(columns=options)


def channel_labels(
    rates: pd.DataFrame, inbound: pd.DataFrame, seed: int = 0
) -> list[dict[str, Any]]:
    """Preferred channel and online/offline orientation per customer (observed preferences)."""
    labels: list[dict[str, Any]] = []
    best = best_probabilities(rates, seed) if not rates.empty else pd.DataFrame()
    sends = (
        rates.groupby("customer_id").contacts.sum() if not rates.empty else pd.Series(dtype=float)
    )
    inbound = inbound.assign(
        online=inbound.channel.isin(INBOUND_ONLINE) * inbound.contacts,
        offline=inbound.channel.isin(INBOUND_OFFLINE) * inbound.contacts,
    )
    inbound_sums = inbound.groupby("customer_id")[["online", "offline"]].sum()
    customers = sorted(set(best.index) | set(inbound_sums.index))
    for cid in customers:
        n_campaign = float(sends.get(cid, 0))
        evidence, weight = 0.0, 0.0
        if cid in best.index:
            row = best.loc[cid]
            top = str(row.idxmax())
            labels.append(
                {
                    "customer_id": int(cid),
                    "key": "preferred_channel",
                    "value": top,
                    "confidence": float(row.max()),
                    "evidence_count": int(n_campaign),
                    "origin": "observed: campaign responses per channel (beta-binomial)",
                }
            )
            p_online = float(sum(row.get(c, 0.0) for c in ONLINE_CHANNELS))
            evidence += n_campaign * p_online
            weight += n_campaign
        if cid in inbound_sums.index:
            on, off = inbound_sums.loc[cid]
            if on + off > 0:
                evidence += (on + off) * (on + 1) / (on + off + 2)
                weight += on + off
        if weight == 0:
            continue
        score = evidence / weight
        label = "online" if score >= 0.6 else "offline" if score <= 0.4 else "mixed"
        labels.append(
            {
                "customer_id": int(cid),
                "key": "contact_orientation",
                "value": label,
                "confidence": round(max(score, 1 - score), 4),
                "evidence_count": int(weight),
                "origin": "observed: campaign responses and inbound contacts per channel",
            }
        )
    return labels


def style_labels(rates: pd.DataFrame, seed: int = 0) -> list[dict[str, Any]]:
    """Preferred message style per customer tested with both styles."""
    if rates.empty:
        return []
    best = best_probabilities(rates, seed)
    counts = rates.pivot(index="customer_id", columns="value", values="contacts")
    labels = []
    for cid, row in best.iterrows():
        if counts.loc[cid].notna().sum() < len(STYLES):
            continue  # a preference needs both styles tested
        p = float(row.get("rational", 0.0))
        value = "rational" if p >= 0.8 else "emotional" if p <= 0.2 else "undecided"
        labels.append(
            {
                "customer_id": int(cid),
                "key": "message_style",
                "value": value,
                "confidence": round(max(p, 1 - p), 4),
                "evidence_count": int(counts.loc[cid].sum()),
                "origin": "observed: response tests of rational vs emotional messages",
            }
        )
    return labels


def group_style_report(contacts: pd.DataFrame) -> list[dict[str, Any]]:
    """Per group (segment) and style: pooled posterior rate, 90 % interval, P(rational better)."""
    frame = contacts[contacts["style"].isin(STYLES)].copy()
    frame["response"] = frame.outcome.isin(RESPONSE_OUTCOMES).astype(int)
    report = []
    rng = np.random.default_rng(0)
    for group, part in frame.groupby("group"):
        entry: dict[str, Any] = {"group": group, "styles": {}}
        draws = {}
        for style in STYLES:
            sub = part[part["style"] == style]
            r = posterior(int(sub.response.sum()), len(sub))
            entry["styles"][style] = r.__dict__
            draws[style] = rng.beta(1 + r.responses, 1 + r.contacts - r.responses, 4000)
        entry["p_rational_better"] = float((draws["rational"] > draws["emotional"]).mean())
        report.append(entry)
    return report
