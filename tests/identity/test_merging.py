"""Unmerge restores both customers with their rows; concurrent resolutions leave one survivor."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from clientbook.errors import Conflict, NotFound
from clientbook.identity.graph import resolve
from clientbook.identity.merging import unmerge
from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.identity import IdentityMerge, IdentityReview
from clientbook.store.models.parties import Customer, Identifier, SourceRecord

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def run(url: str, ids: list[tuple[str, str]]) -> int:
    with session_scope(url) as session:
        return resolve(session, ids, source="crm", region="GB")


def test_unmerge_restores_both_customers_and_keeps_them_apart(database_url: str) -> None:
    ann = run(database_url, [("loyalty_card", "LC-1"), ("email", "ann@example.com")])
    web = run(database_url, [("user_id", "w-9"), ("phone", "07700 900123")])
    with session_scope(database_url) as session:
        session.get_one(Customer, web).first_name = "Ann"
        session.add(SourceRecord(source="web", source_record_id="w-9", customer_id=web))
        session.add(
            Order(source="web", order_id="o-1", customer_id=web, ordered_at=WHEN, revenue=30.0)
        )
        session.add(
            Order(source="shop", order_id="o-2", customer_id=ann, ordered_at=WHEN, revenue=12.5)
        )
    joined = run(database_url, [("email", "ann@example.com"), ("user_id", "w-9")])
    assert joined == ann
    with session_scope(database_url, write=False) as session:
        assert session.get_one(Customer, ann).first_name == "Ann"
        assert set(session.scalars(select(Order.customer_id))) == {ann}
        merge_id = session.scalars(select(IdentityMerge.id)).one()
    # an order that arrives after the merge stays with the survivor
    with session_scope(database_url) as session:
        session.add(
            Order(source="web", order_id="o-3", customer_id=ann, ordered_at=WHEN, revenue=5.0)
        )
        result = unmerge(session, merge_id)
    assert (result.survivor_id, result.restored_id) == (ann, web)
    with session_scope(database_url, write=False) as session:
        orders = dict(session.execute(select(Order.order_id, Order.customer_id)).all())
        restored = session.get_one(Customer, web)
        held = {
            (t, v): c
            for t, v, c in session.execute(
                select(Identifier.type, Identifier.value, Identifier.customer_id)
            )
        }
        record = session.scalars(select(SourceRecord.customer_id)).one()
        assert session.get_one(Customer, ann).first_name is None
        review = session.scalars(select(IdentityReview)).one()
    assert orders == {"o-1": web, "o-2": ann, "o-3": ann}
    assert restored.merged_into_id is None and restored.first_name == "Ann"
    assert held[("user_id", "w-9")] == web and held[("phone", "+447700900123")] == web
    assert held[("loyalty_card", "LC-1")] == ann and record == web
    assert review.status == "kept_apart"
    # the same evidence does not merge them again
    again = run(database_url, [("email", "ann@example.com"), ("user_id", "w-9")])
    assert again == web
    with session_scope(database_url, write=False) as session:
        assert session.get_one(Customer, ann).merged_into_id is None
    with pytest.raises(Conflict), session_scope(database_url) as session:
        unmerge(session, merge_id)
    with pytest.raises(NotFound), session_scope(database_url) as session:
        unmerge(session, 999)


def test_unmerge_of_an_earlier_merge_follows_the_rows_to_the_current_survivor(
    database_url: str,
) -> None:
    a = run(database_url, [("anonymous_id", "a")])
    b = run(database_url, [("anonymous_id", "b")])
    c = run(database_url, [("anonymous_id", "c")])
    for cid, key in ((a, "ia"), (b, "ib"), (c, "ic")):
        with session_scope(database_url) as session:
            session.add(
                Interaction(
                    source="web",
                    interaction_id=key,
                    customer_id=cid,
                    channel="web",
                    occurred_at=WHEN,
                )
            )
    run(database_url, [("anonymous_id", "b"), ("anonymous_id", "c")])  # c into b
    run(database_url, [("anonymous_id", "a"), ("anonymous_id", "b")])  # b into a
    with session_scope(database_url) as session:
        first = session.scalars(
            select(IdentityMerge.id).where(IdentityMerge.absorbed_id == c)
        ).one()
        unmerge(session, first)
    with session_scope(database_url, write=False) as session:
        owners = dict(
            session.execute(select(Interaction.interaction_id, Interaction.customer_id)).all()
        )
    assert owners == {"ia": a, "ib": a, "ic": c}


def test_concurrent_resolutions_leave_one_survivor_and_no_orphaned_events(
    database_url: str,
) -> None:
    """Eight threads send events of one person under three cookies, a login and an e-mail."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(12):
                ids = [("anonymous_id", f"cookie-{(n + i) % 3}")]
                if (n + i) % 4 == 0:
                    ids.append(("user_id", "u-1"))
                if (n + i) % 5 == 0:
                    ids.append(("email", "person@example.com"))
                with session_scope(database_url) as session:
                    cid = resolve(session, ids, source="web", region="GB")
                    session.add(
                        Interaction(
                            source="web",
                            interaction_id=f"{n}-{i}",
                            customer_id=cid,
                            channel="web",
                            occurred_at=WHEN,
                        )
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with session_scope(database_url, write=False) as session:
        alive = session.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))).all()
        events = session.scalar(select(func.count(Interaction.id)))
        orphans = session.scalar(
            select(func.count(Interaction.id))
            .join(Customer, Customer.id == Interaction.customer_id)
            .where(Customer.merged_into_id.is_not(None))
        )
        stray = session.scalar(
            select(func.count(Identifier.id))
            .join(Customer, Customer.id == Identifier.customer_id)
            .where(Customer.merged_into_id.is_not(None))
        )
    assert len(alive) == 1 and events == 96 and orphans == 0 and stray == 0
