"""The Pareto/NBD model of repeat purchasing.

Assumptions
-----------
While alive, a customer buys as a Poisson process with rate lambda, gamma(r, alpha) distributed
across customers; the customer's unobserved lifetime is exponential with death rate mu,
gamma(s, beta) distributed across customers; lambda and mu are independent. Inputs as for
BG/NBD: ``frequency`` x, ``recency`` t_x and ``T``, in one time unit.

References
----------
Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who Are They
and What Will They Do Next? Management Science 33(1), 1-24.
Fader, P. S. & Hardie, B. G. S. (2005). A Note on Deriving the Pareto/NBD Model and Related
Expressions. http://brucehardie.com/notes/009/
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from clientbook.analytics.btyd._base import (
    ArrayLike,
    FittedModel,
    FloatArray,
    aggregate,
    histories,
    history_arrays,
    maximise,
    wsum,
)


def _log_a0(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """log A0 of Fader & Hardie (2005), eq. (22), computed as a difference of logs."""
    rsx = r + s + x
    b_arg: FloatArray
    if alpha >= beta:
        shift, b_arg, base = alpha - beta, np.full_like(x, s + 1.0), alpha
    else:
        shift, b_arg, base = beta - alpha, r + x, beta
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.log(hyp2f1(rsx, b_arg, rsx + 1.0, shift / (base + t_x))) - rsx * np.log(
            base + t_x
        )
        second = np.log(hyp2f1(rsx, b_arg, rsx + 1.0, shift / (base + T))) - rsx * np.log(base + T)
        return np.asarray(first + np.log(-np.expm1(second - first)))


class ParetoNBD(FittedModel):
    """Pareto/NBD fitted by maximum likelihood; ``params`` holds r, alpha, s, beta."""

    param_names = ("r", "alpha", "s", "beta")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBD:
        """Fit on per-customer (x, t_x, T); returns the fitted model."""
        x, t_x, t, scale = histories(frequency, recency, T)
        grouped = aggregate(x, t_x, t)
        ux, utx, ut = (grouped.column(i) for i in range(3))
        n = grouped.counts

        def objective(theta: FloatArray) -> float:
            r, alpha, s, beta = np.exp(theta)
            ll = _log_likelihood(r, alpha, s, beta, ux, utx, ut)
            return wsum(n, ll) if np.all(np.isfinite(ll)) else -np.inf

        start = np.log(np.array([0.5, scale / 4.0, 0.5, scale]))
        values, self.log_likelihood = maximise(objective, start, gradient=False, weight=len(x))
        self.params = dict(zip(self.param_names, map(float, values), strict=True))
        self.n_customers = len(x)
        return self

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected transactions in (0, t] of a new customer."""
        r, alpha, s, beta = self._require_fit().values()
        t = np.asarray(t, dtype=np.float64)
        if abs(s - 1.0) < 1e-9:
            return np.asarray(r * beta / alpha * np.log((beta + t) / beta))
        return np.asarray(r * beta / (alpha * (s - 1.0)) * (1.0 - (beta / (beta + t)) ** (s - 1.0)))

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected transactions in the next ``t`` of a known customer."""
        r, alpha, s, beta = self._require_fit().values()
        x, _t_x, big_t = history_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=np.float64)
        rate = (r + x) / (alpha + big_t)
        if abs(s - 1.0) < 1e-9:
            lifetime = (beta + big_t) * np.log((beta + big_t + t) / (beta + big_t))
        else:
            lifetime = (
                (beta + big_t)
                / (s - 1.0)
                * (1.0 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1.0))
            )
        return np.asarray(rate * lifetime * self.probability_alive(frequency, recency, T))

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(alive | x, t_x, T), at the end of the observation period."""
        r, alpha, s, beta = self._require_fit().values()
        x, t_x, big_t = history_arrays(frequency, recency, T)
        log_ratio = (
            np.log(s / (r + s + x))
            + (r + x) * np.log(alpha + big_t)
            + s * np.log(beta + big_t)
            + _log_a0(r, alpha, s, beta, x, t_x, big_t)
        )
        return np.asarray(1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700.0))))

    def log_likelihood_per_customer(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Each customer's log-likelihood contribution under the fitted parameters."""
        r, alpha, s, beta = self._require_fit().values()
        x, t_x, big_t = history_arrays(frequency, recency, T)
        return _log_likelihood(r, alpha, s, beta, x, t_x, big_t)


def _log_likelihood(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    dead_never = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s / (r + s + x)) + _log_a0(r, alpha, s, beta, x, t_x, T)
    return np.asarray(head + np.logaddexp(dead_never, died))
