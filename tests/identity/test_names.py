"""Household values (phone, e-mail) link only when the names agree."""

from __future__ import annotations

import pytest

from clientbook.config import Settings
from clientbook.identity.clusters import Clusters
from clientbook.identity.graph import resolve
from clientbook.identity.names import (
    Agreement,
    agreement,
    births_agree,
    folded_name,
    part_agrees,
)
from clientbook.identity.policy import Policy
from clientbook.identity.resolver import resolve_new
from clientbook.identity.service import list_reviews
from clientbook.store.db import session_scope
from tests.identity.records import add_record
from tests.identity.test_resolver import alive


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("sara", "sra", True),  # a dropped letter
        ("holmes", "hlomes", True),  # neighbouring letters swapped
        ("chris", "christopher", True),  # a short form
        ("j", "jane", True),  # an initial
        ("yusuf", "yuusf", True),
        (None, "adam", True),  # unknown is no contradiction
        ("adam", "dina", False),
        ("jane", "john", False),
        ("j", "adam", False),
        ("ola", "olga", True),
        ("tom", "tim", True),  # one edit in a short name: names this close cannot be told apart
        ("tom", "sam", False),
    ],
)
def test_name_parts_agree_despite_typos_but_not_across_people(
    a: str | None, b: str | None, agree: bool
) -> None:
    assert part_agrees(a, b) is agree


def test_agreement_of_name_sets() -> None:
    ann = {folded_name("Ann", "Lee")}
    assert agreement(ann, {folded_name("ANN", "Lée")}) is Agreement.AGREE
    assert agreement(ann, {folded_name("Ann", "Morgan")}) is Agreement.LAST_NAME_DIFFERS
    assert agreement(ann, {folded_name("Bob", "Lee")}) is Agreement.DIFFER
    assert agreement(ann, {folded_name("Bob", "Lee"), folded_name("An", "Lee")}) is Agreement.AGREE
    assert agreement(ann, {folded_name(None, None)}) is Agreement.AGREE


def test_birth_dates_agree_within_two_typing_errors() -> None:
    assert births_agree({"1980-03-14"}, {"1980-03-14"})
    assert births_agree({"1980-03-14"}, {"1980-03-41"})  # day digits swapped
    assert births_agree({"1980-03-14"}, set())  # unknown is no contradiction
    assert not births_agree({"1980-03-14"}, {"1992-07-02"})


def test_probabilistic_chains_do_not_join_two_people() -> None:
    """A web account without birth date matches both a father and a son of one name at one
    address; the two loyalty cards carry different birth dates, so only one match holds."""
    clusters = Clusters(Policy.from_settings(Settings()))
    clusters.add_names([(c, folded_name("William", "Thomas")) for c in (1, 2, 3)])
    clusters.add_births([(2, "1961-05-02"), (3, "1990-11-23")])
    assert clusters.union(1, 2, "match probability 0.995", "probabilistic", 0.995)
    assert not clusters.union(1, 3, "match probability 0.993", "probabilistic", 0.993)
    (refused,) = clusters.refused
    assert refused.over == ["birth_date"] and (refused.left, refused.right) == (1, 3)
    # a first name that differs is vouched for by the same birth date (a replaced name)
    clusters.add_names([(4, folded_name("Bill", "Thomas"))])
    clusters.add_births([(4, "1961-05-02")])
    assert clusters.union(2, 4, "match probability 0.999", "probabilistic", 0.999)
    clusters.add_names([(5, folded_name("Ann", "Thomas"))])
    assert not clusters.union(3, 5, "match probability 0.992", "probabilistic", 0.992)
    assert clusters.refused[-1].over == ["first_name"]


def test_shared_phone_links_one_person_but_not_a_household(database_url: str) -> None:
    with session_scope(database_url) as session:
        ids = {
            "loyalty": add_record(
                session, "loyalty", "1", first_name="Sara", last_name="Singh", phone="07700 912594"
            ),
            # the call centre typed her with a typo, her number in international form
            "call": add_record(
                session, "call", "1", first_name="Sra", last_name="Singh", phone="+447700912594"
            ),
            # someone else in the house (or a chance collision): same number, another first name
            "other": add_record(
                session, "call", "2", first_name="Jonas", last_name="Singh", phone="07700912594"
            ),
            # same first name, another last name, same e-mail: maybe married, maybe not
            "web": add_record(
                session, "web", "1", first_name="Ann", last_name="Lee", email="al@example.com"
            ),
            "shop": add_record(
                session, "shop", "1", first_name="Ann", last_name="Morgan", email="al@example.com"
            ),
            # an e-mail with no name on one side: nothing contradicts
            "anon": add_record(session, "web", "2", email="al@example.com"),
        }
    report = resolve_new(Settings(database_url=database_url), probabilistic=False)
    assert report.deterministic_merges == 2 and report.household_links_refused == 1
    assert alive(database_url) == 4
    (pending,) = list_reviews(database_url)
    assert {pending.left.id, pending.right.id} == {ids["web"], ids["shop"]}
    assert "last_name" in pending.reason


def test_online_graph_applies_the_same_guard(database_url: str) -> None:
    def identify(user: str, first: str, last: str, **keys: str) -> int:
        with session_scope(database_url) as session:
            pairs = [("user_id", user), *keys.items()]
            traits = {"first_name": first, "last_name": last}
            return resolve(session, pairs, source="web", region="GB", traits=traits)

    sara = identify("u1", "Sara", "Singh", phone="07700 912594")
    jonas = identify("u2", "Jonas", "Singh", phone="+44 7700 912594")  # her household
    assert jonas != sara
    with session_scope(database_url) as session:  # a later event of hers, with a typo
        again = resolve(
            session,
            [("phone", "07700912594"), ("email", "sara@example.com")],
            source="shop",
            region="GB",
            traits={"first_name": "Sra", "last_name": "Singh"},
        )
    assert again == sara
    ann = identify("u3", "Ann", "Lee", email="al@example.com")
    other = identify("u4", "Ann", "Morgan", email="al@example.com")
    assert other != ann
    (pending,) = list_reviews(database_url)
    assert {pending.left.id, pending.right.id} == {ann, other}
