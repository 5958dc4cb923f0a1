"""Per-customer summaries (frequency, recency, T, monetary value) from transactions.

Conventions (those of the papers, and the same in the engine's SQL)
------------------------------------------------------------------
- Time is counted in **whole days between dates** (``date(b) - date(a)``, UTC calendar days),
  then divided by the time unit (``day`` = 1, ``week`` = 7 days).
- Several purchases on one day count as **one transaction** (their values are summed).
- The first purchase is not a repeat purchase: ``frequency`` = days with a purchase - 1.
- ``recency`` = last purchase day - first purchase day; ``T`` = observation end - first day;
  both 0 for a one-time buyer bought on the last day.
- ``monetary_value`` = mean value of the **repeat** transactions (0 when there is none).
- The observation end day is included: a purchase on that day counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from clientbook.errors import UsageError

TIME_UNITS = {"day": 1.0, "week": 7.0}


def unit_days(time_unit: str) -> float:
    """Days in one time unit (``day`` or ``week``)."""
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise UsageError(
            f"Unknown time unit {time_unit!r}.", hint=f"Use one of: {', '.join(TIME_UNITS)}."
        ) from None


def day_numbers(values: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Dates, datetimes or ISO strings (or day numbers already) as whole days since 1970-01-01."""
    raw = np.asarray(values)
    if np.issubdtype(raw.dtype, np.integer):
        return raw.astype(np.int64)
    as_days = pd.to_datetime(pd.Series(values), utc=True, format="mixed").dt.tz_localize(None)
    return np.asarray(as_days.values.astype("datetime64[D]").astype(np.int64))


def _day(value: date | str) -> int:
    return int(day_numbers([value])[0])


def summary_data(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    monetary_col: str | None = None,
    *,
    observation_end: date | str,
    time_unit: str = "day",
) -> pd.DataFrame:
    """frequency, recency, T (and monetary_value) per customer, as of ``observation_end``.

    Customers whose first purchase is after ``observation_end`` are left out.
    """
    per = unit_days(time_unit)
    end = _day(observation_end)
    days = _daily(transactions, customer_col, date_col, monetary_col)
    days = days[days["day"] <= end]
    grouped = days.groupby("customer", sort=True)
    first = grouped["day"].min()
    out = pd.DataFrame(
        {
            "frequency": (grouped["day"].count() - 1).astype(np.float64),
            "recency": (grouped["day"].max() - first) / per,
            "T": (end - first) / per,
        }
    )
    if monetary_col is not None:
        first_value = days.loc[grouped["day"].idxmin(), ["customer", "value"]].set_index("customer")
        repeat_total = grouped["value"].sum() - first_value["value"]
        out["monetary_value"] = np.where(
            out["frequency"] > 0,
            repeat_total / out["frequency"].where(out["frequency"] > 0, 1),
            0.0,
        )
    out.index.name = customer_col
    return out


def calibration_and_holdout(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    monetary_col: str | None = None,
    *,
    calibration_end: date | str,
    observation_end: date | str,
    time_unit: str = "day",
) -> pd.DataFrame:
    """Calibration summaries (``*_cal``) and holdout counts for customers born by the split.

    ``frequency_holdout`` counts purchase days in (calibration_end, observation_end];
    ``duration_holdout`` is that period's length in the time unit.
    """
    cal_end, obs_end = _day(calibration_end), _day(observation_end)
    if obs_end <= cal_end:
        raise UsageError("observation_end must come after calibration_end.")
    cal = summary_data(
        transactions,
        customer_col,
        date_col,
        monetary_col,
        observation_end=calibration_end,
        time_unit=time_unit,
    ).add_suffix("_cal")
    days = _daily(transactions, customer_col, date_col, monetary_col)
    holdout = days[(days["day"] > cal_end) & (days["day"] <= obs_end)].groupby("customer")
    cal["frequency_holdout"] = holdout["day"].count().reindex(cal.index, fill_value=0).astype(float)
    if monetary_col is not None:
        spent = holdout["value"].mean().reindex(cal.index, fill_value=0.0)
        cal["monetary_value_holdout"] = spent
    cal["duration_holdout"] = (obs_end - cal_end) / unit_days(time_unit)
    return cal


def _daily(
    transactions: pd.DataFrame, customer_col: str, date_col: str, monetary_col: str | None
) -> pd.DataFrame:
    """One row per customer and purchase day, values summed."""
    frame = pd.DataFrame(
        {
            "customer": transactions[customer_col].to_numpy(),
            "day": day_numbers(transactions[date_col].to_numpy()),
            "value": transactions[monetary_col].to_numpy(dtype=np.float64)
            if monetary_col is not None
            else 0.0,
        }
    )
    return frame.groupby(["customer", "day"], as_index=False, sort=True)["value"].sum()
