"""Household values (phone, e-mail) link only when the names agree."""

from __future__ import annotations

import pytest

from clientbook.config import Settings
from clientbook.identity.graph import resolve
from clientbook.identity.names import Agreement, agreement, folded_name, part_agrees
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
