"""What every buy-till-you-die model shares: input checks, row aggregation, the optimiser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from clientbook.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
ArrayLike = Any  # numpy arrays, pandas Series, lists: anything np.asarray accepts


def as_float(name: str, values: ArrayLike) -> FloatArray:
    """``values`` as a 1-D float array, refusing NaN and infinities."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise InvalidInput(f"{name} has missing or infinite values.")
    return array


def check_history(frequency: FloatArray, recency: FloatArray, T: FloatArray) -> None:
    """Refuse histories that break the rules 0 <= recency <= T and frequency >= 0 (whole)."""
    if not (len(frequency) == len(recency) == len(T)):
        raise InvalidInput("frequency, recency and T must have the same length.")
    if len(frequency) == 0:
        raise InvalidInput("There are no customers to fit on.")
    if np.any(frequency < 0) or np.any(frequency != np.round(frequency)):
        raise InvalidInput("frequency must be a whole number of repeat transactions, >= 0.")
    if np.any(recency < 0) or np.any(recency > T):
        raise InvalidInput("recency must lie between 0 and T (the customer's age).")
    if np.any((frequency == 0) & (recency != 0)):
        raise InvalidInput("recency must be 0 for a customer with no repeat transaction.")


def aggregate(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Collapse identical rows: the distinct rows (column by column) and how often each occurs.

    Log-likelihoods are sums over customers, so customers with the same history contribute the
    same term; with histories measured in whole days or weeks this shrinks the work many-fold.
    """
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i].copy() for i in range(unique.shape[1])], counts.astype(np.float64)


Objective = Callable[[FloatArray], tuple[float, FloatArray | None]]


def maximise(
    objective: Callable[[FloatArray], tuple[float, FloatArray]] | Callable[[FloatArray], float],
    start: FloatArray,
    *,
    gradient: bool,
    weight: float,
) -> tuple[FloatArray, float]:
    """Maximise a log-likelihood over log-parameters with L-BFGS-B.

    ``objective(log_params)`` returns the log-likelihood (and its gradient with respect to the
    log-parameters when ``gradient``). The optimiser sees it divided by ``weight`` (the number
    of customers) so that its tolerances do not depend on the size of the base.
    Returns the parameters (not logged) and the log-likelihood at the optimum.
    """

    def negative(theta: FloatArray) -> Any:
        if gradient:
            value, grad = objective(theta)  # type: ignore[misc]
            if not np.isfinite(value):
                return 1e10, np.zeros_like(theta)
            return -value / weight, -np.asarray(grad) / weight
        value = objective(theta)
        return -float(value) / weight if np.isfinite(value) else 1e10  # type: ignore[arg-type]

    bounds = [(-15.0, 15.0)] * len(start)
    result = minimize(
        negative,
        start,
        jac=gradient,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    value = objective(theta)
    loglik = float(value[0] if isinstance(value, tuple) else value)
    return np.exp(theta), loglik


class FittedModel:
    """Common state: the parameters, the log-likelihood and the number of customers."""

    param_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, float] = {}
        self.log_likelihood: float = float("nan")
        self.n_customers: int = 0

    def _require_fit(self) -> dict[str, float]:
        if not self.params:
            raise InvalidInput(
                f"This {type(self).__name__} is not fitted yet.",
                hint="Call .fit(...) first, or build it with .from_params(...).",
            )
        return self.params

    @classmethod
    def from_params(cls, **params: float) -> Any:
        """A model with known parameters (for scoring, simulation or tests)."""
        missing = set(cls.param_names) - set(params)
        if missing:
            raise InvalidInput(f"Missing parameters: {', '.join(sorted(missing))}.")
        model = cls()
        model.params = {name: float(params[name]) for name in cls.param_names}
        return model

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-ready data (models are saved as JSON, never pickled)."""
        return {
            "model": type(self).__name__,
            "params": dict(self.params),
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items()) or "not fitted"
        return f"<{type(self).__name__} {shown}>"
