"""Lifecycle stages, from identity, purchases and P(alive).

Rules (evaluated in this order; thresholds in ``value_lifecycle``)
-----------------------------------------------------------------
1. No purchase: ``registered`` when the customer has an e-mail, a phone or any identifier
   other than a cookie (anonymous_id); else ``anonymous_visitor``.
2. ``inactive``: P(alive) < ``inactive_p_alive`` or no purchase for more than
   ``inactive_days`` days.
3. ``lapsing``: P(alive) < ``lapsing_p_alive`` or no purchase for more than ``lapsing_days``.
4. ``loyal``: at least ``loyal_min_purchases`` transactions (purchase days).
5. ``repeat_buyer``: two transactions or more.
6. ``first_purchase``: one transaction.

Every run records each change of stage (customer, from, to, date) in ``lifecycle_changes`` and
keeps ``customers.lifecycle_stage`` current.
"""

from __future__ import annotations

from clientbook.config import DEFAULT_LIFECYCLE_RULES
from clientbook.errors import UsageError


def lifecycle_rules(overrides: dict[str, float]) -> dict[str, float]:
    """The default thresholds with ``overrides`` applied, checked."""
    unknown = set(overrides) - set(DEFAULT_LIFECYCLE_RULES)
    if unknown:
        raise UsageError(
            f"Unknown lifecycle setting(s): {', '.join(sorted(unknown))}.",
            hint=f"Known: {', '.join(DEFAULT_LIFECYCLE_RULES)}.",
        )
    rules = {**DEFAULT_LIFECYCLE_RULES, **overrides}
    if not 0 <= rules["inactive_p_alive"] <= rules["lapsing_p_alive"] <= 1:
        raise UsageError("Lifecycle rules need 0 <= inactive_p_alive <= lapsing_p_alive <= 1.")
    if not 0 < rules["lapsing_days"] <= rules["inactive_days"]:
        raise UsageError("Lifecycle rules need 0 < lapsing_days <= inactive_days.")
    if rules["loyal_min_purchases"] < 2:
        raise UsageError("loyal_min_purchases must be at least 2.")
    return {k: float(v) for k, v in rules.items()}


def stage_case(rules: dict[str, float]) -> str:
    """A SQL CASE over transactions, known, p_alive and recency_days giving the stage."""
    r = lifecycle_rules(rules)
    return (
        "CASE WHEN transactions = 0 THEN "
        "(CASE WHEN known = 1 THEN 'registered' ELSE 'anonymous_visitor' END) "
        f"WHEN p_alive < {r['inactive_p_alive']!r} OR recency_days > {r['inactive_days']!r} "
        "THEN 'inactive' "
        f"WHEN p_alive < {r['lapsing_p_alive']!r} OR recency_days > {r['lapsing_days']!r} "
        "THEN 'lapsing' "
        f"WHEN transactions >= {r['loyal_min_purchases']!r} THEN 'loyal' "
        "WHEN transactions >= 2 THEN 'repeat_buyer' ELSE 'first_purchase' END"
    )
