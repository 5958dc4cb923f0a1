"""Customers drawn from a known BG/NBD process: for tests and benchmarks of the fit.

The process is the model's own (Fader, Hardie & Lee 2005): each customer has a purchase rate
lambda ~ gamma(r, alpha) and a drop-out probability p ~ beta(a, b); while alive they buy as a
Poisson process, and drop out right after a repeat purchase with probability p. So the number
of repeat purchases a customer could make before dropping out is geometric(p) (1, 2, ...), and
the observed repeat purchases are the first ``min(geometric, Poisson(lambda T))`` arrivals of
the Poisson process in (0, T], which are uniform order statistics on (0, T].
"""

from __future__ import annotations

import numpy as np

from clientbook.analytics.btyd._base import ArrayLike, FloatArray, IntArray


def bgnbd_purchases(
    T: ArrayLike, r: float, alpha: float, a: float, b: float, *, seed: int
) -> tuple[IntArray, FloatArray]:
    """Repeat purchases of ``len(T)`` customers observed for ``T`` time units after their first.

    Returns (customer index, purchase time since the first purchase), sorted by customer and
    time; customers without a repeat purchase do not appear.
    """
    rng = np.random.default_rng(seed)
    big_t = np.asarray(T, dtype=np.float64)
    n = len(big_t)
    rate = rng.gamma(r, 1.0 / alpha, n)
    lives = rng.geometric(rng.beta(a, b, n))
    arrivals = rng.poisson(rate * big_t)
    customer = np.repeat(np.arange(n, dtype=np.int64), arrivals)
    time = rng.random(len(customer)) * big_t[customer]
    order = np.lexsort((time, customer))
    customer, time = customer[order], time[order]
    starts = np.cumsum(arrivals) - arrivals
    rank = np.arange(len(customer)) - np.repeat(starts, arrivals)
    kept = rank < np.minimum(arrivals, lives)[customer]
    return customer[kept], time[kept]


def bgnbd_histories(
    T: ArrayLike, r: float, alpha: float, a: float, b: float, *, seed: int, days_per_unit: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(frequency, recency, T) of customers from :func:`bgnbd_purchases`, as the store sees them.

    Purchase times are rounded down to whole days (``days_per_unit`` days in one time unit) and
    several purchases on one day count once, a purchase on the first day not at all, following
    the day-count convention of :mod:`~clientbook.analytics.btyd.summaries`.
    """
    big_t = np.asarray(T, dtype=np.float64)
    customer, time = bgnbd_purchases(big_t, r, alpha, a, b, seed=seed)
    day = np.floor(time * days_per_unit).astype(np.int64)
    keep = day > 0
    keep[1:] &= (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])
    customer, day = customer[keep], day[keep]
    frequency = np.bincount(customer, minlength=len(big_t)).astype(np.float64)
    recency = np.zeros(len(big_t))
    last = np.flatnonzero(np.r_[customer[1:] != customer[:-1], len(customer) > 0])
    recency[customer[last]] = day[last] / days_per_unit
    return frequency, recency, big_t
