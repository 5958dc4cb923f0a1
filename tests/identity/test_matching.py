"""The model used when EM cannot train: the default m with the store's own u."""

from __future__ import annotations

import copy

from clientbook.identity.matching import (
    UNSEEN_M,
    default_model,
    rarely_contradicted,
    with_u_of,
    with_unseen_m,
)


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


def test_unseen_m_levels_get_a_small_m() -> None:
    store = copy.deepcopy(default_model())
    other = "All other comparisons"
    level(store, "first_name", other)["m_probability"] = None  # EM saw no match at this level
    level(store, "city", "Exact match on city")["m_probability"] = 0.5
    out = with_unseen_m(store)
    assert level(out, "first_name", other)["m_probability"] == UNSEEN_M
    assert level(out, "city", "Exact match on city")["m_probability"] == 0.5
    assert level(out, "first_name", "first_name is NULL").get("m_probability") is None


def test_rarely_contradicted_reads_the_all_other_level() -> None:
    model = copy.deepcopy(default_model())
    # FEBRL's records of one person often disagree on names and birth dates
    assert rarely_contradicted(model, ("first_name", "birth_date")) == set()
    level(model, "birth_date", "All other comparisons")["m_probability"] = 0.001
    assert rarely_contradicted(model, ("first_name", "birth_date")) == {"birth_date"}
