"""The model used when EM cannot train: the default m with the store's own u."""

from __future__ import annotations

import copy

from clientbook.identity.matching import default_model, with_u_of


def level(model: dict, column: str, label: str) -> dict:
    (comparison,) = [c for c in model["comparisons"] if c["output_column_name"] == column]
    (found,) = [lv for lv in comparison["comparison_levels"] if lv["label_for_charts"] == label]
    return found


def test_with_u_of_takes_the_estimated_u_and_keeps_m() -> None:
    default = default_model()
    store = copy.deepcopy(default)
    level(store, "city", "Exact match on city")["u_probability"] = 0.125  # eight cities
    level(store, "city", "Exact match on city")["m_probability"] = 0.01
    del level(store, "phone", "Exact match on phone")["u_probability"]  # not estimated
    out = with_u_of(default, store)
    city = level(out, "city", "Exact match on city")
    assert city["u_probability"] == 0.125
    assert city["m_probability"] == level(default, "city", "Exact match on city")["m_probability"]
    phone = level(out, "phone", "Exact match on phone")
    assert phone == level(default, "phone", "Exact match on phone")
    assert level(default, "city", "Exact match on city")["u_probability"] != 0.125  # a copy
