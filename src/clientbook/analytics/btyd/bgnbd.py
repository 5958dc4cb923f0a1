"""The BG/NBD model of repeat purchasing (beta-geometric / negative binomial distribution).

Assumptions
-----------
While alive, a customer buys as a Poisson process with rate lambda; lambda is gamma(r, alpha)
distributed across customers. After any transaction a customer drops out with probability p;
p is beta(a, b) distributed across customers; lambda and p are independent. A customer is
described by ``frequency`` x (repeat transactions), ``recency`` t_x (time of the last one since
the first purchase) and ``T`` (time since the first purchase), all in the same time unit.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An
Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275-284.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from clientbook.analytics.btyd._base import (
    ArrayLike,
    FittedModel,
    FloatArray,
    aggregate,
    as_float,
    check_history,
    maximise,
)


class BGNBD(FittedModel):
    """BG/NBD fitted by maximum likelihood; ``params`` holds r, alpha, a, b."""

    param_names = ("r", "alpha", "a", "b")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBD:
        """Fit on per-customer (x, t_x, T); returns the fitted model."""
        x, t_x, t = as_float("frequency", frequency), as_float("recency", recency), as_float("T", T)
        check_history(x, t_x, t)
        (ux, utx, ut), n = aggregate(x, t_x, t)
        xs, x_index = np.unique(ux, return_inverse=True)
        positive = ux > 0
        b_shift = np.where(positive, ux - 1.0, 0.0)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            r, alpha, a, b = np.exp(theta)
            # Terms that depend on x only are computed once per distinct x.
            lg = (gammaln(r + xs) - gammaln(r) + gammaln(b + xs) - gammaln(a + b + xs))[x_index]
            dg_r = (digamma(r + xs))[x_index] - digamma(r)
            dg_b = digamma(b + xs)[x_index] - digamma(b)
            dg_ab = digamma(a + b) - digamma(a + b + xs)[x_index]
            log_at = np.log(alpha + ut)
            log_atx = np.log(alpha + utx)
            a3 = -(r + ux) * log_at
            with np.errstate(divide="ignore"):
                a4 = np.where(
                    positive,
                    np.log(a) - np.log(np.where(positive, b + b_shift, 1.0)) - (r + ux) * log_atx,
                    -np.inf,
                )
            lse = np.logaddexp(a3, a4)
            p3 = np.exp(a3 - lse)
            p4 = 1.0 - p3
            ll = lg + r * np.log(alpha) + gammaln(a + b) - gammaln(b) + lse
            g_r = dg_r + np.log(alpha) - p3 * log_at - p4 * log_atx
            g_alpha = r / alpha - p3 * (r + ux) / (alpha + ut) - p4 * (r + ux) / (alpha + utx)
            g_a = dg_ab + p4 / a
            g_b = dg_ab + dg_b - p4 / np.where(positive, b + b_shift, 1.0)
            grad = np.array([n @ g_r * r, n @ g_alpha * alpha, n @ g_a * a, n @ g_b * b])
            return float(n @ ll), grad

        start = np.log(np.array([1.0, max(float(np.mean(t)), 1e-3) / 4.0, 1.0, 1.0]))
        values, self.log_likelihood = maximise(objective, start, gradient=True, weight=len(x))
        self.params = dict(zip(self.param_names, map(float, values), strict=True))
        self.n_customers = len(x)
        return self

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected transactions in (0, t] of a new customer."""
        r, alpha, a, b = self._require_fit().values()
        t = np.asarray(t, dtype=np.float64)
        hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
        return np.asarray((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp))

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected transactions in the next ``t`` of a known customer."""
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = _arrays(frequency, recency, T)
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + big_t + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        head = (a + b + x - 1.0) / (a - 1.0)
        body = 1.0 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp
        return np.asarray(head * body * self.probability_alive(x, t_x, big_t))

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(alive | x, t_x, T), at the end of the observation period."""
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = _arrays(frequency, recency, T)
        positive = x > 0
        log_odds = (
            np.log(a)
            - np.log(np.where(positive, b + x - 1.0, 1.0))
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
        return np.where(positive, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0))), 1.0)

    def log_likelihood_per_customer(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Each customer's log-likelihood contribution under the fitted parameters."""
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = _arrays(frequency, recency, T)
        positive = x > 0
        a3 = -(r + x) * np.log(alpha + big_t)
        with np.errstate(divide="ignore"):
            a4 = np.where(
                positive,
                np.log(a)
                - np.log(np.where(positive, b + x - 1.0, 1.0))
                - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        return np.asarray(head + betaln(a, b + x) - betaln(a, b) + np.logaddexp(a3, a4))


def _arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    return (
        np.asarray(frequency, dtype=np.float64),
        np.asarray(recency, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
