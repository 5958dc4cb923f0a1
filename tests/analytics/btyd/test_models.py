"""Model behaviour beyond the papers: validation, units, recovering known parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientbook.analytics.btyd import BGNBD, GammaGamma, ParetoNBD, _base, summary_data
from clientbook.analytics.btyd._base import WARM_SAMPLE, aggregate, maximise
from clientbook.analytics.btyd.bgnbd import _objective
from clientbook.analytics.btyd.simulate import bgnbd_histories, bgnbd_purchases
from clientbook.errors import InvalidInput


def test_simulated_purchases_follow_the_model() -> None:
    truth = {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}
    customer, time = bgnbd_purchases(np.full(200_000, 52.0), **truth, seed=3)
    counts = np.bincount(customer, minlength=200_000)
    model = BGNBD.from_params(**truth)
    assert counts.mean() == pytest.approx(float(model.expected_purchases(52.0)), rel=0.02)
    # P(X(t) = 0) = (alpha / (alpha + t))^r under BG/NBD
    assert np.mean(counts == 0) == pytest.approx((10.0 / 62.0) ** 0.5, rel=0.01)
    assert np.all((time > 0) & (time <= 52.0))


def test_bgnbd_recovers_known_parameters() -> None:
    truth = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.5}
    T = np.random.default_rng(7).integers(30, 366, 40_000).astype(float)
    x, t_x, T = bgnbd_histories(T, **truth, seed=7, days_per_unit=1.0)
    model = BGNBD().fit(x, t_x, T)
    for name, value in truth.items():
        assert model.params[name] == pytest.approx(value, rel=0.15), name


def test_a_large_base_warm_starts_to_the_same_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above 5 x WARM_SAMPLE customers the fit starts from a sample's optimum (BFGS)."""
    T = np.random.default_rng(8).integers(52, 105, 5 * WARM_SAMPLE + 1).astype(float)
    x, t_x, T = bgnbd_histories(T, r=0.24, alpha=4.4, a=0.79, b=2.4, seed=8, days_per_unit=7.0)
    with monkeypatch.context() as patch:  # the L-BFGS-B fallback must not be needed
        patch.setattr(_base, "maximise", None)
        warm = BGNBD().fit(x, t_x, T)
    start = np.log(np.array([1.0, float(np.mean(T)) / 4.0, 1.0, 1.0]))
    values, loglik = maximise(_objective(aggregate(x, t_x, T)), start, gradient=True, weight=len(x))
    assert list(warm.params.values()) == pytest.approx(list(values), rel=1e-5)
    assert warm.log_likelihood == pytest.approx(loglik, abs=1e-4)


def test_fits_do_not_depend_on_the_order_of_customers(cdnow: pd.DataFrame) -> None:
    """Engines hand rows over in different orders; the estimates must be the same."""
    order = np.random.default_rng(4).permutation(len(cdnow))
    shuffled = cdnow.iloc[order]
    columns = ["frequency_cal", "recency_cal", "T_cal"]
    assert BGNBD().fit(*(cdnow[c] for c in columns)).params == (
        BGNBD().fit(*(shuffled[c] for c in columns)).params
    )
    spend = ["frequency_cal", "monetary_value_cal"]
    assert GammaGamma().fit(*(cdnow[c] for c in spend)).params == (
        GammaGamma().fit(*(shuffled[c] for c in spend)).params
    )


def test_aggregate_counts_distinct_rows() -> None:
    grouped = aggregate(np.array([1.0, 0.0, 1.0, 1.0]), np.array([0.5, 0.0, 0.5, 2.0]))
    rows = sorted(zip(grouped.column(0), grouped.column(1), grouped.counts, strict=True))
    assert rows == [(0.0, 0.0, 1.0), (1.0, 0.5, 2.0), (1.0, 2.0, 1.0)]


def test_time_unit_scales_only_alpha(cdnow: pd.DataFrame) -> None:
    weeks = BGNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"])
    days = BGNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"] * 7, cdnow["T_cal"] * 7)
    assert days.params["alpha"] == pytest.approx(7 * weeks.params["alpha"], rel=1e-3)
    assert days.params["r"] == pytest.approx(weeks.params["r"], rel=1e-3)


def test_inputs_are_validated_with_the_broken_rule() -> None:
    with pytest.raises(InvalidInput, match="recency must lie between 0 and T"):
        BGNBD().fit([1, 2], [5, 12], [10, 10])
    with pytest.raises(InvalidInput, match="whole number"):
        ParetoNBD().fit([1.5], [1], [3])
    with pytest.raises(InvalidInput, match="same length"):
        BGNBD().fit([1, 2], [1], [3, 3])
    with pytest.raises(InvalidInput, match="not fitted"):
        BGNBD().probability_alive([1], [1], [2])
    with pytest.raises(InvalidInput, match="at least 3"):
        GammaGamma().fit([0, 1], [0, 10.0])


def test_summary_conventions() -> None:
    orders = pd.DataFrame(
        {
            "c": [1, 1, 1, 1, 2, 3],
            "at": [
                "2025-01-01 09:00",
                "2025-01-01 18:00",
                "2025-01-08",
                "2025-01-15",
                "2025-01-10",
                "2025-02-01",
            ],
            "v": [10.0, 5.0, 20.0, 40.0, 7.0, 1.0],
        }
    )
    s = summary_data(orders, "c", "at", "v", observation_end="2025-01-29", time_unit="week")
    assert list(s.index) == [1, 2]  # customer 3 was born after the end
    assert s.loc[1].tolist() == [2.0, 2.0, 4.0, 30.0]  # two repeat days, mean repeat spend 30
    assert s.loc[2].tolist() == [0.0, 0.0, pytest.approx(19 / 7), 0.0]


def test_models_round_trip_through_json_ready_dicts() -> None:
    model = BGNBD.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4)
    again = BGNBD.from_params(**model.to_dict()["params"])
    assert again.probability_alive([2], [20], [38]) == pytest.approx(
        model.probability_alive([2], [20], [38])
    )
