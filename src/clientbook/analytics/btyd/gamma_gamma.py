"""The Gamma-Gamma model of spend per transaction.

Assumptions
-----------
A customer's transaction values vary around the customer's mean spend; each value is
gamma(p, nu) distributed, and nu is gamma(q, gamma) distributed across customers. Spend is
independent of the purchase process (check: the correlation of frequency and mean spend
should be near 0). Fit only on customers with at least one repeat transaction, using the mean
value of their repeat transactions.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis. Journal of Marketing Research 42(4), 415-430.
Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from clientbook.analytics.btyd._base import (
    ArrayLike,
    FittedModel,
    FloatArray,
    GradientObjective,
    Grouped,
    as_float,
    fit_grouped,
    wsum,
)
from clientbook.errors import InvalidInput


class GammaGamma(FittedModel):
    """Gamma-Gamma fitted by maximum likelihood; ``params`` holds p, q, gamma."""

    param_names = ("p", "q", "gamma")

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGamma:
        """Fit on repeat buyers' (x, mean repeat spend); rows with x = 0 are ignored."""
        x_all, m_all = as_float("frequency", frequency), as_float("monetary_value", monetary_value)
        if len(x_all) != len(m_all):
            raise InvalidInput("frequency and monetary_value must have the same length.")
        keep = x_all > 0
        if np.any(m_all[keep] <= 0):
            raise InvalidInput("monetary_value must be > 0 for customers with repeat purchases.")
        if keep.sum() < 3:
            raise InvalidInput("Gamma-Gamma needs at least 3 customers with repeat purchases.")
        start = np.log(np.array([1.0, 1.0, max(float(np.mean(m_all[keep])), 1e-3)]))
        values, self.log_likelihood = fit_grouped(_objective, (x_all[keep], m_all[keep]), start)
        self.params = dict(zip(self.param_names, map(float, values), strict=True))
        self.n_customers = int(keep.sum())
        return self

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[M | x, mean spend]: expected value of a customer's future transactions.

        A customer with no repeat purchase gets the population mean p * gamma / (q - 1).
        """
        p, q, g = self._require_fit().values()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        m = np.where(x > 0, m, 0.0)
        return np.asarray(p * (g + x * m) / (p * x + q - 1.0))

    def mean_spend(self) -> float:
        """The population mean spend per transaction, p * gamma / (q - 1) (needs q > 1)."""
        p, q, g = self._require_fit().values()
        return float(p * g / (q - 1.0)) if q > 1.0 else float("nan")


def _objective(grouped: Grouped) -> GradientObjective:
    """The log-likelihood of the distinct (x, mean spend) pairs, with its gradient."""
    x, m, n = grouped.column(0), grouped.column(1), grouped.counts
    log_m, log_x = np.log(m), np.log(x)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, g = np.exp(theta)
        px = p * x
        log_gxm = np.log(g + x * m)
        ll = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(g)
            + (px - 1.0) * log_m
            + px * log_x
            - (px + q) * log_gxm
        )
        dg = digamma(px + q)
        g_p = x * (dg - digamma(px) + log_m + log_x - log_gxm)
        g_q = dg - digamma(q) + np.log(g) - log_gxm
        g_g = q / g - (px + q) / (g + x * m)
        grad = np.array([wsum(n, g_p) * p, wsum(n, g_q) * q, wsum(n, g_g) * g])
        return wsum(n, ll), grad

    return objective
