"""The fits reproduce the published estimates on the CDNOW sample (to within 1%)."""

from __future__ import annotations

import pandas as pd
import pytest

from clientbook.analytics.btyd import BGNBD, GammaGamma, ParetoNBD


def close(fitted: dict[str, float], published: dict[str, float]) -> None:
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=0.01), name


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow: pd.DataFrame) -> None:
    model = BGNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"])
    assert model is not None and model.n_customers == 2357
    close(model.params, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    per_customer = model.log_likelihood_per_customer(
        cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"]
    )
    assert per_customer.sum() == pytest.approx(model.log_likelihood)


def test_pareto_nbd_reproduces_published_estimates(cdnow: pd.DataFrame) -> None:
    model = ParetoNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"])
    close(model.params, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    assert model.log_likelihood == pytest.approx(-9595.0, abs=0.5)


def test_gamma_gamma_reproduces_published_estimates(cdnow: pd.DataFrame) -> None:
    model = GammaGamma().fit(cdnow["frequency_cal"], cdnow["monetary_value_cal"])
    assert model.n_customers == 946
    close(model.params, {"p": 6.25, "q": 3.74, "gamma": 15.44})
    spend = model.expected_spend(cdnow["frequency_cal"], cdnow["monetary_value_cal"])
    repeat = cdnow["frequency_cal"] > 0
    # Shrinks each customer's mean towards the population mean, so stays between them.
    assert spend[~repeat.to_numpy()] == pytest.approx(model.mean_spend())
    assert 30 < spend[repeat.to_numpy()].mean() < 40


def test_holdout_validation_bgnbd(cdnow: pd.DataFrame, cdnow_transactions: pd.DataFrame) -> None:
    model = BGNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"])
    assert cdnow["frequency_holdout"].sum() == 1882  # weeks 40-78, the published figure
    predicted = model.conditional_expected_purchases(
        39, cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"]
    )
    assert 0.8 * 1882 < predicted.sum() < 1882
    # Per customer, by calibration frequency, the predictions track the actuals.
    by_x = (
        pd.DataFrame(
            {
                "x": cdnow["frequency_cal"].clip(upper=7),
                "pred": predicted,
                "actual": cdnow["frequency_holdout"],
            }
        )
        .groupby("x")
        .mean()
    )
    assert (by_x["pred"] - by_x["actual"]).abs().max() < 1.0
    # Cumulative repeat transactions of the cohort at week 78: about 4% under (the paper).
    first = cdnow_transactions.groupby("customer_id")["date"].min()
    birth = (first - pd.Timestamp("1997-01-01")).dt.days / 7
    expected = model.expected_purchases(546 / 7 - birth.to_numpy()).sum()
    purchase_days = cdnow_transactions.drop_duplicates(["customer_id", "date"])
    actual = len(purchase_days) - purchase_days["customer_id"].nunique()
    assert expected / actual - 1 == pytest.approx(-0.04, abs=0.01)


def test_p_alive_and_conditional_expectations_behave(cdnow: pd.DataFrame) -> None:
    for model in (
        BGNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"]),
        ParetoNBD().fit(cdnow["frequency_cal"], cdnow["recency_cal"], cdnow["T_cal"]),
    ):
        alive = model.probability_alive([5, 5, 0], [30, 10, 0], [38, 38, 38])
        assert 0 <= alive.min() and alive.max() <= 1
        assert alive[0] > alive[1]  # a recent buyer is more likely alive
        pred = model.conditional_expected_purchases(10, [5, 5], [30, 10], [38, 38])
        assert pred[0] > pred[1] > 0
        assert model.expected_purchases(39) > model.expected_purchases(10) > 0
