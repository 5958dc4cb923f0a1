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
    GradientObjective,
    Grouped,
    IntArray,
    fit_grouped,
    histories,
    history_arrays,
    wsum,
)


class BGNBD(FittedModel):
    """BG/NBD fitted by maximum likelihood; ``params`` holds r, alpha, a, b."""

    param_names = ("r", "alpha", "a", "b")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBD:
        """Fit on per-customer (x, t_x, T); returns the fitted model."""
        x, t_x, t, scale = histories(frequency, recency, T)
        start = np.log(np.array([1.0, scale / 4.0, 1.0, 1.0]))
        values, self.log_likelihood = fit_grouped(_objective, (x, t_x, t), start)
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
        x, t_x, big_t = history_arrays(frequency, recency, T)
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
        x, t_x, big_t = history_arrays(frequency, recency, T)
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
        x, t_x, big_t = history_arrays(frequency, recency, T)
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


def _counts(codes: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """Sum of ``weights`` by code."""
    return np.bincount(codes, weights, size).astype(np.float64, copy=False)


def _objective(grouped: Grouped) -> GradientObjective:
    """The log-likelihood of the distinct histories and its gradient in log-parameters.

    Per customer, ll = g(x) + r log alpha - (r + x) log(alpha + T) + [x > 0] softplus(z) with
    z = log a - log(b + x - 1) + (r + x) (log(alpha + T) - log(alpha + t_x)). Every term but
    the softplus depends on x alone or on T alone, so it is summed once per distinct value;
    only the softplus and its derivative are computed per distinct (x, t_x, T) with x > 0.
    """
    (xs, txs, ts), (ix, itx, it), n = grouped.values, grouped.codes, grouped.counts
    total = float(n.sum())
    per_x = _counts(ix, n, len(xs))  # customers with each x
    per_t = _counts(it, n, len(ts))  # customers with each T
    x_per_t = _counts(it, n * xs[ix], len(ts))  # sum of x over customers with each T
    pos = xs[ix] > 0
    ix, itx, it, n = ix[pos], itx[pos], it[pos], n[pos]
    x_row = xs[ix]
    b_shift = np.where(xs > 0, xs - 1.0, 0.0)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        log_t, log_tx = np.log(alpha + ts), np.log(alpha + txs)
        inv_t, inv_tx = 1.0 / (alpha + ts), 1.0 / (alpha + txs)
        g_x = gammaln(r + xs) - gammaln(r) + gammaln(b + xs) - gammaln(a + b + xs)
        log_ratio = log_t[it]
        log_ratio -= log_tx[itx]  # log((alpha + T) / (alpha + t_x)) >= 0
        c_x = np.where(xs > 0, np.log(a) - np.log(b + b_shift), 0.0)
        rx = x_row + r
        z = rx * log_ratio
        z += c_x[ix]
        # softplus(z) = z + log1p(exp(-z)); z is bounded below (log-parameters are bounded).
        u = np.exp(-np.maximum(z, -700.0))
        weight = n / (1.0 + u)  # customers x P(dropped out after the last purchase | history)
        ll = (
            wsum(per_x, g_x)
            + total * (r * np.log(alpha) + gammaln(a + b) - gammaln(b))
            - wsum(r * per_t + x_per_t, log_t)
            + wsum(n, z)
            + wsum(n, np.log1p(u))
        )
        dead_x = _counts(ix, weight, len(xs))
        grad = np.array(
            [
                wsum(per_x, digamma(r + xs) - digamma(r))
                + total * np.log(alpha)
                - wsum(per_t, log_t)
                + wsum(weight, log_ratio),
                total * r / alpha
                - wsum(r * per_t + x_per_t, inv_t)
                + wsum(weight, rx * (inv_t[it] - inv_tx[itx])),
                total * digamma(a + b) - wsum(per_x, digamma(a + b + xs)) + dead_x.sum() / a,
                total * (digamma(a + b) - digamma(b))
                + wsum(per_x, digamma(b + xs) - digamma(a + b + xs))
                - wsum(dead_x[xs > 0], 1.0 / (b + b_shift[xs > 0])),
            ]
        )
        return float(ll), grad * np.array([r, alpha, a, b])

    return objective
