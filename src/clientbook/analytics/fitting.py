"""`clientbook clv fit`: fit one model on the store's orders, with calibration and holdout."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from clientbook.analytics.btyd import MODELS, calibration_and_holdout, summary_data, unit_days
from clientbook.analytics.refresh import prepare
from clientbook.errors import InvalidInput, UsageError
from clientbook.store.value import load_value_inputs


def fit_from_store(
    url: str,
    *,
    model: str,
    calibration_end: date,
    holdout_end: date | None = None,
    time_unit: str = "week",
) -> dict[str, Any]:
    """Fit ``model`` on purchases up to ``calibration_end``; validate on the holdout if given.

    Returns the parameters, log-likelihood and, with a holdout, predicted against actual
    repeat transactions in total and on average per customer by calibration frequency.
    """
    if model not in MODELS:
        raise UsageError(f"Unknown model {model!r}.", hint=f"Use one of: {', '.join(MODELS)}.")
    per = unit_days(time_unit)
    if holdout_end is not None and holdout_end <= calibration_end:
        raise UsageError("--holdout-end must come after --calibration-end.")
    inputs = prepare(load_value_inputs(url, holdout_end or calibration_end))
    orders = pd.DataFrame(
        {
            "customer_id": inputs.orders["customer_id"].to_numpy(),
            "day": inputs.orders["day"].to_numpy().astype(np.int64),
            "revenue": inputs.orders["revenue"].to_numpy(),
        }
    )
    if orders.empty:
        raise InvalidInput("There are no orders to fit on.", hint="Import orders first.")
    if holdout_end is None:
        summary = summary_data(
            orders,
            "customer_id",
            "day",
            "revenue",
            observation_end=calibration_end,
            time_unit=time_unit,
        ).add_suffix("_cal")
    else:
        summary = calibration_and_holdout(
            orders,
            "customer_id",
            "day",
            "revenue",
            calibration_end=calibration_end,
            observation_end=holdout_end,
            time_unit=time_unit,
        )
    x, t_x, big_t = (summary[c].to_numpy() for c in ("frequency_cal", "recency_cal", "T_cal"))
    if model == "gamma-gamma":
        fitted = MODELS[model]().fit(x, summary["monetary_value_cal"].to_numpy())  # type: ignore[attr-defined]
    else:
        fitted = MODELS[model]().fit(x, t_x, big_t)  # type: ignore[attr-defined]
    out: dict[str, Any] = {
        "model": model,
        "calibration_end": calibration_end.isoformat(),
        "time_unit": time_unit,
        "customers": int(len(summary)),
        "fit_customers": fitted.n_customers,
        "params": fitted.params,
        "log_likelihood": fitted.log_likelihood,
    }
    if holdout_end is not None and model != "gamma-gamma":
        duration = (holdout_end - calibration_end).days / per
        predicted = fitted.conditional_expected_purchases(duration, x, t_x, big_t)
        actual = summary["frequency_holdout"].to_numpy()
        by_x = (
            pd.DataFrame(
                {
                    "frequency": np.minimum(x, 7).astype(int),
                    "predicted": predicted,
                    "actual": actual,
                }
            )
            .groupby("frequency")
            .agg(
                customers=("actual", "size"),
                predicted=("predicted", "mean"),
                actual=("actual", "mean"),
            )
            .reset_index()
        )
        out["holdout"] = {
            "holdout_end": holdout_end.isoformat(),
            "duration": duration,
            "predicted_total": float(predicted.sum()),
            "actual_total": float(actual.sum()),
            "per_customer_mae": float(np.abs(predicted - actual).mean()),
            "by_frequency": by_x.to_dict(orient="records"),
        }
    return out
