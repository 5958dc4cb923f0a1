"""The demo generator: seeded, realistic in shape, with a ground truth that matches its records."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clientbook.demo.generator import generate


def test_same_seed_same_data_and_truth_covers_every_record(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=3, people=400, accounts=20)
    b = generate(tmp_path / "b", seed=3, people=400, accounts=20)
    assert a == b
    assert (tmp_path / "a" / "orders_webshop.csv").read_bytes() == (
        tmp_path / "b" / "orders_webshop.csv"
    ).read_bytes()
    truth = pd.read_csv(tmp_path / "a" / "truth.csv", dtype=str)
    records = pd.concat(
        pd.read_csv(tmp_path / "a" / f"customers_{s}.csv", dtype=str).assign(source=s)
        for s in ("webshop", "loyalty", "callcentre", "b2b")
    )
    assert set(zip(truth.source, truth.source_record_id, strict=True)) == set(
        zip(records.source, records.customer_id, strict=True)
    )
    # The same person appears in more than one source, under different identifiers.
    per_person = truth[truth.source != "b2b"].groupby("person_id").size()
    assert (per_person > 1).mean() > 0.2
    people = pd.read_csv(tmp_path / "a" / "people.csv")
    assert len(people) == 400 and people["lambda"].gt(0).all()
    assert people["p"].between(0, 1).all()


def test_sources_hold_what_real_ones_hold_and_namesakes_exist(tmp_path: Path) -> None:
    generate(tmp_path, seed=5, people=3000, accounts=10)
    web = pd.read_csv(tmp_path / "customers_webshop.csv", dtype=str)
    loyalty = pd.read_csv(tmp_path / "customers_loyalty.csv", dtype=str)
    # a shop that ships goods has a delivery address, usually a phone, sometimes a birth date
    assert web[["street", "city", "postcode"]].notna().all().all()
    assert 0.6 < web.phone.notna().mean() < 0.8 and 0.2 < web.birth_date.notna().mean() < 0.4
    # a loyalty card is signed up with an e-mail or a phone, and a postcode
    assert (loyalty.email.notna() | loyalty.phone.notna()).all()
    assert loyalty.postcode.notna().all()
    # names are skewed: the commonest surname is frequent, and full namesakes exist
    truth = pd.read_csv(tmp_path / "truth.csv", dtype=str)
    named = web.merge(truth, left_on="customer_id", right_on="source_record_id")
    assert named.last_name.value_counts(normalize=True).iloc[0] > 0.02
    people_per_name = named.groupby(["first_name", "last_name"]).person_id.nunique()
    assert (people_per_name > 1).sum() > 10
