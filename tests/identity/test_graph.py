"""The online identity graph: links, every guard, merges and their log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from clientbook.config import Settings
from clientbook.errors import InvalidInput
from clientbook.identity.graph import resolve
from clientbook.identity.policy import Policy
from clientbook.store.db import session_scope
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.identity import IdentityMerge, IdentityMergeMove, IdentityReview
from clientbook.store.models.parties import Customer, Identifier

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def run(url: str, ids: list[tuple[str, str]], **kwargs: Any) -> int:
    with session_scope(url) as session:
        return resolve(session, ids, source="web", region="GB", **kwargs)


def add_interaction(url: str, customer_id: int, key: str) -> None:
    with session_scope(url) as session:
        session.add(
            Interaction(
                source="web",
                interaction_id=key,
                customer_id=customer_id,
                channel="web",
                occurred_at=WHEN,
                type="page",
            )
        )


def survivor(url: str, customer_id: int) -> int:
    with session_scope(url, write=False) as session:
        while True:
            nxt = session.scalar(select(Customer.merged_into_id).where(Customer.id == customer_id))
            if nxt is None:
                return customer_id
            customer_id = nxt


def test_same_identifiers_find_the_same_customer_and_values_are_normalised(
    database_url: str,
) -> None:
    first = run(database_url, [("email", " Ann@Example.COM "), ("phone", "01632 960001")])
    again = run(database_url, [("email", "ann@example.com")])
    by_phone = run(database_url, [("phone", "+44 1632 960001")])
    assert first == again == by_phone
    with session_scope(database_url, write=False) as session:
        values = set(session.execute(select(Identifier.type, Identifier.value)).all())
    assert values == {("email", "ann@example.com"), ("phone", "+441632960001")}


def test_identify_joins_the_anonymous_visitor_and_the_user_with_their_history(
    database_url: str,
) -> None:
    visitor = run(database_url, [("anonymous_id", "cookie-1")])
    add_interaction(database_url, visitor, "page-1")
    member = run(database_url, [("user_id", "u-42"), ("email", "bob@example.com")])
    add_interaction(database_url, member, "page-2")
    joined = run(
        database_url,
        [("anonymous_id", "cookie-1"), ("user_id", "u-42")],
        traits={"first_name": "Bob", "plan": "gold"},
    )
    assert joined == min(visitor, member)
    absorbed = max(visitor, member)
    assert survivor(database_url, absorbed) == joined
    assert run(database_url, [("anonymous_id", "cookie-1")]) == joined
    with session_scope(database_url, write=False) as session:
        owners = set(session.scalars(select(Interaction.customer_id)))
        merge = session.scalars(select(IdentityMerge)).one()
        moved = session.scalars(select(IdentityMergeMove.table_name)).all()
        customer = session.get(Customer, joined)
        assert customer is not None
        assert (customer.first_name, customer.traits) == ("Bob", {"plan": "gold"})
    assert owners == {joined}
    assert (merge.survivor_id, merge.absorbed_id, merge.rule) == (joined, absorbed, "deterministic")
    assert "interactions" in moved and "identifiers" in moved


@pytest.mark.parametrize(
    "placeholder", ["undefined", "null", "0", "", "'none'", "[object Object]", "----", "00000"]
)
def test_placeholders_never_link(database_url: str, placeholder: str) -> None:
    a = run(database_url, [("anonymous_id", "a-1"), ("user_id", placeholder)])
    b = run(database_url, [("anonymous_id", "b-1"), ("user_id", placeholder)])
    assert a != b
    with pytest.raises(InvalidInput, match="No usable identifier"):
        run(database_url, [("user_id", placeholder)])


def test_configured_placeholder_and_test_email_never_link(database_url: str) -> None:
    policy = Policy.from_settings(Settings(identity_placeholders=["nobody@shop.example"]))
    a = run(database_url, [("user_id", "1"), ("email", "nobody@shop.example")], policy=policy)
    b = run(database_url, [("user_id", "2"), ("email", "NOBODY@shop.example")], policy=policy)
    c = run(database_url, [("user_id", "3"), ("email", "test@test.com")])
    d = run(database_url, [("user_id", "4"), ("email", "test@test.com")])
    assert len({a, b, c, d}) == 4


def test_a_merge_that_breaks_a_limit_goes_to_review(database_url: str) -> None:
    mum = run(database_url, [("user_id", "mum"), ("email", "family@example.com")])
    son = run(database_url, [("user_id", "son"), ("email", "family@example.com")])
    assert mum != son
    with session_scope(database_url, write=False) as session:
        review = session.scalars(select(IdentityReview)).one()
        merges = session.scalar(select(func.count(IdentityMerge.id)))
    assert (review.left_id, review.right_id, review.status) == (mum, son, "pending")
    assert "user_id" in review.reason and merges == 0
    # the e-mail alone goes to the customer who claimed it last, never merging the two
    assert run(database_url, [("email", "family@example.com")]) in (mum, son)
    assert survivor(database_url, mum) == mum and survivor(database_url, son) == son


def test_a_shared_device_is_not_a_merge(database_url: str) -> None:
    ann = run(database_url, [("anonymous_id", "tablet"), ("user_id", "ann")])
    assert run(database_url, [("anonymous_id", "tablet")]) == ann
    bob = run(database_url, [("anonymous_id", "tablet"), ("user_id", "bob")])
    assert bob != ann
    # later anonymous events go to whoever identified on the device last
    assert run(database_url, [("anonymous_id", "tablet")]) == bob
    assert run(database_url, [("anonymous_id", "tablet"), ("user_id", "ann")]) == ann
    assert run(database_url, [("anonymous_id", "tablet")]) == ann
    with session_scope(database_url, write=False) as session:
        assert session.scalar(select(func.count(IdentityReview.id))) == 0
        assert session.scalar(select(func.count(IdentityMerge.id))) == 0


def test_an_alias_of_two_user_ids_merges_them(database_url: str) -> None:
    old = run(database_url, [("user_id", "old-login")])
    new = run(database_url, [("user_id", "new-login")])
    both = run(database_url, [("user_id", "new-login"), ("user_id", "old-login")])
    assert both == min(old, new)
    assert run(database_url, [("user_id", "old-login")]) == both


def test_an_over_shared_value_stops_linking(database_url: str) -> None:
    policy = Policy.from_settings(Settings(identity_shared_limit=2))
    shop = "+441632960999"
    a = run(database_url, [("user_id", "a"), ("phone", shop)], policy=policy)
    b = run(database_url, [("user_id", "b"), ("phone", shop)], policy=policy)
    c = run(database_url, [("email", "c@example.com"), ("phone", shop)], policy=policy)
    assert len({a, b, c}) == 3  # held by two customers already: no longer links c
