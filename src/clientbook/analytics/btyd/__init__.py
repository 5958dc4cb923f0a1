"""Buy-till-you-die models, fitted by maximum likelihood: BG/NBD, Pareto/NBD, Gamma-Gamma.

A lifetimes-like API::

    from clientbook.analytics.btyd import BGNBD, summary_data
    summary = summary_data(orders, "customer_id", "ordered_at", "revenue",
                           observation_end="2025-12-31", time_unit="week")
    model = BGNBD().fit(summary["frequency"], summary["recency"], summary["T"])
    model.params, model.log_likelihood
    model.conditional_expected_purchases(52, summary["frequency"], summary["recency"], summary["T"])
"""

from clientbook.analytics.btyd._base import aggregate
from clientbook.analytics.btyd.bgnbd import BGNBD
from clientbook.analytics.btyd.gamma_gamma import GammaGamma
from clientbook.analytics.btyd.pareto_nbd import ParetoNBD
from clientbook.analytics.btyd.summaries import (
    TIME_UNITS,
    calibration_and_holdout,
    summary_data,
    unit_days,
)

MODELS = {"bgnbd": BGNBD, "pareto-nbd": ParetoNBD, "gamma-gamma": GammaGamma}

__all__ = [
    "BGNBD",
    "MODELS",
    "TIME_UNITS",
    "GammaGamma",
    "ParetoNBD",
    "aggregate",
    "calibration_and_holdout",
    "summary_data",
    "unit_days",
]
