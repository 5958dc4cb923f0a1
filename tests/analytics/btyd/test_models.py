"""Model behaviour beyond the papers: validation, units, recovering known parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientbook.analytics.btyd import BGNBD, GammaGamma, ParetoNBD, summary_data
from clientbook.errors import InvalidInput


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, seed: int) -> tuple:
    """Customers from a known BG/NBD process observed for a whole number of days."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 366, n).astype(float)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / lam[idx])
        bought = t[idx] <= T[idx]
        done = idx[~bought]
        alive[done] = False
        buyers = idx[bought]
        x[buyers] += 1
        t_x[buyers] = t[buyers]
        alive[buyers[rng.random(len(buyers)) < p[buyers]]] = False
    return x, np.floor(t_x), T


def test_bgnbd_recovers_known_parameters() -> None:
    truth = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.5}
    x, t_x, T = simulate_bgnbd(40_000, **truth, seed=7)
    model = BGNBD().fit(x, t_x, T)
    for name, value in truth.items():
        assert model.params[name] == pytest.approx(value, rel=0.15), name


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
