"""From events to the customer record: identity, traits, contacts, orders, accounts."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from clientbook.collect import processor
from clientbook.collect.chunk import Chunk
from clientbook.collect.processor import process_all
from clientbook.errors import StoreUnavailable
from clientbook.store.activity import InteractionIn
from clientbook.store.customer360 import customer_360
from clientbook.store.db import connection_scope, session_scope
from clientbook.store.events import ROW_COLUMNS, append_events, key_owner
from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.events import Event
from clientbook.store.models.parties import Account, AccountMember, Customer, Identifier
from tests.collect.conftest import Collector

LANDING = (
    "https://shop.example/shoes?utm_source=newsletter&utm_medium=email"
    "&utm_campaign=spring&utm_content=hero"
)


def customer_of(url: str, type_: str, value: str) -> int:
    with session_scope(url, write=False) as session:
        ids = session.scalars(
            select(Identifier.customer_id).where(
                Identifier.type == type_, Identifier.value == value
            )
        ).all()
    assert len(set(ids)) == 1, ids
    return ids[0]


def interactions(url: str) -> list[Interaction]:
    with session_scope(url, write=False) as session:
        return list(session.scalars(select(Interaction).order_by(Interaction.id)).all())


def test_a_visitor_who_registers_keeps_the_history(collector: Collector) -> None:
    url = collector.settings.database_url
    collector.post(
        "/v1/page",
        {
            "anonymousId": "cookie-7",
            "messageId": "p-1",
            "name": "Shoes",
            "properties": {
                "url": LANDING,
                "path": "/shoes",
                "title": "Shoes",
                "referrer": "https://www.google.com/search?q=red+running+shoes&hl=en",
            },
            "context": {"sessionId": 1700},
        },
    )
    collector.post(
        "/v1/track",
        {"anonymousId": "cookie-7", "event": "Products Searched", "properties": {"query": "trail"}},
    )
    collector.post(
        "/v1/identify",
        {
            "anonymousId": "cookie-7",
            "userId": "cust-1001",
            "traits": {
                "firstName": "Ann",
                "lastName": "Baker",
                "email": "Ann.Baker@Example.com",
                "phone": "+44 20 7946 0018",
                "address": {"city": "Leeds", "postalCode": "LS1 4AP", "country": "GB"},
                "plan": "gold",
            },
        },
    )
    collector.post(
        "/v1/page", {"userId": "cust-1001", "properties": {"url": "https://shop.example/"}}
    )
    report = process_all(collector.settings)
    assert (report.processed, report.failed) == (4, 0)
    customer = customer_of(url, "anonymous_id", "cookie-7")
    assert customer == customer_of(url, "user_id", "cust-1001")
    assert customer == customer_of(url, "email", "ann.baker@example.com")
    view = customer_360(url, customer)
    assert (view.first_name, view.last_name, view.city, view.postcode, view.country) == (
        "Ann",
        "Baker",
        "Leeds",
        "LS1 4AP",
        "GB",
    )
    assert view.traits["plan"] == "gold"
    rows = interactions(url)
    assert [r.customer_id for r in rows] == [customer] * 3
    page = rows[0]
    assert (page.channel, page.type, page.direction, page.source, page.interaction_id) == (
        "web",
        "page",
        "inbound",
        "website",
        "p-1",
    )
    assert page.properties["campaign"] == {
        "source": "newsletter",
        "medium": "email",
        "name": "spring",
        "content": "hero",
    }
    assert page.properties["search_terms"] == "red running shoes"
    assert page.properties["path"] == "/shoes" and page.properties["anonymous_id"] == "cookie-7"
    assert page.properties["session_id"] == "1700"
    assert (rows[1].type, rows[1].properties) == ("Products Searched", {"query": "trail"})


def test_order_completed_becomes_an_order_with_lines_and_products(collector: Collector) -> None:
    url = collector.settings.database_url
    order = {
        "userId": "cust-7",
        "event": "Order Completed",
        "timestamp": "2026-02-01T10:00:00Z",
        "properties": {
            "order_id": "50314b8e",
            "revenue": 57.5,
            "currency": "GBP",
            "products": [
                {
                    "product_id": "507f1f77",
                    "sku": "G-32",
                    "name": "Monopoly",
                    "price": 18.75,
                    "quantity": 2,
                    "brand": "Hasbro",
                    "category": "Games",
                },
                {"product_id": "505bd76785", "name": "Uno", "price": 20, "category": "Games"},
            ],
        },
    }
    collector.post("/v1/track", {**order, "messageId": "o-1"})
    collector.post("/v1/track", {**order, "messageId": "o-2"})  # the same order sent twice
    assert process_all(collector.settings).failed == 0
    with session_scope(url, write=False) as session:
        (row,) = session.scalars(select(Order)).all()
        lines = session.scalars(select(OrderLine).order_by(OrderLine.line_no)).all()
        products = {p.sku: p for p in session.scalars(select(Product)).all()}
    assert (row.order_id, row.revenue, row.currency, row.source) == (
        "50314b8e",
        57.5,
        "GBP",
        "website",
    )
    assert row.customer_id == customer_of(url, "user_id", "cust-7")
    assert row.ordered_at.year == 2026 and row.ordered_at.month == 2
    assert [(li.sku, li.quantity, li.revenue, li.brand) for li in lines] == [
        ("G-32", 2, 37.5, "Hasbro"),
        ("505bd76785", 1, 20.0, None),
    ]
    assert products["G-32"].name == "Monopoly" and products["505bd76785"].category == "Games"


def test_group_links_the_person_to_an_account(collector: Collector) -> None:
    url = collector.settings.database_url
    traits = {"name": "Acme Ltd", "industry": "Retail", "employees": 250, "plan": "enterprise"}
    collector.post("/v1/group", {"userId": "buyer-1", "groupId": "acme", "traits": traits})
    collector.post("/v1/group", {"userId": "buyer-2", "groupId": "acme", "traits": {}})
    assert process_all(collector.settings).failed == 0
    with session_scope(url, write=False) as session:
        (account,) = session.scalars(select(Account)).all()
        members = session.scalars(select(AccountMember.customer_id)).all()
    assert (account.source_account_id, account.name, account.industry, account.employees) == (
        "acme",
        "Acme Ltd",
        "Retail",
        250,
    )
    assert account.traits == {"plan": "enterprise"}
    assert sorted(members) == sorted(
        [customer_of(url, "user_id", "buyer-1"), customer_of(url, "user_id", "buyer-2")]
    )


def test_screen_and_app_events_are_on_the_app_channel(collector: Collector) -> None:
    url = collector.settings.database_url
    collector.post("/v1/screen", {"userId": "u-5", "name": "Basket", "properties": {"items": 2}})
    collector.post(
        "/v1/track",
        {"userId": "u-5", "event": "Product Viewed", "context": {"app": {"name": "Shop"}}},
    )
    process_all(collector.settings)
    screen, viewed = interactions(url)
    assert (screen.channel, screen.type, screen.properties) == (
        "app",
        "screen",
        {"items": 2, "name": "Basket"},
    )
    assert (viewed.channel, viewed.type) == ("app", "Product Viewed")


def test_alias_joins_the_previous_id(collector: Collector) -> None:
    url = collector.settings.database_url
    collector.post("/v1/track", {"anonymousId": "dev-1", "event": "Opened"})
    collector.post("/v1/alias", {"userId": "member-9", "previousId": "dev-1"})
    collector.post("/v1/track", {"userId": "member-9", "event": "Signed In"})
    process_all(collector.settings)
    assert customer_of(url, "anonymous_id", "dev-1") == customer_of(url, "user_id", "member-9")
    assert len({r.customer_id for r in interactions(url)}) == 1


def test_an_event_that_cannot_be_applied_is_marked_and_does_not_block(
    collector: Collector,
) -> None:
    url = collector.settings.database_url
    collector.post("/v1/track", {"userId": "undefined", "event": "Broken"})  # a placeholder id
    collector.post("/v1/track", {"userId": "real-1", "event": "Fine"})
    report = process_all(collector.settings)
    assert (report.processed, report.failed) == (2, 1)
    with session_scope(url, write=False) as session:
        errors = session.scalars(select(Event.error).order_by(Event.id)).all()
        customers = session.scalars(select(Customer.id)).all()
    assert "No usable identifier" in (errors[0] or "") and errors[1] is None
    assert len(customers) == 1
    assert [r.type for r in interactions(url)] == ["Fine"]


def test_processors_that_race_apply_each_event_once(collector: Collector) -> None:
    url = collector.settings.database_url
    batch = [
        {"type": "track", "userId": f"r-{i % 7}", "event": "Raced", "messageId": f"race-{i}"}
        for i in range(40)
    ]
    assert collector.post("/v1/batch", {"batch": batch}).status_code == 200
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        process_all(collector.settings)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(interactions(url)) == 40
    with session_scope(url, write=False) as session:
        assert session.scalar(select(func.count()).where(Event.processed_at.is_(None))) == 0


def test_a_chunk_that_fails_leaves_its_events_pending(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = collector.settings.database_url
    for n in range(3):
        collector.post("/v1/track", {"userId": f"c-{n}", "event": "Crashed", "messageId": f"c{n}"})
    calls = 0
    real = processor.apply_event

    def crash_on_second(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:  # the store goes away in the middle of a chunk
            raise OperationalError("INSERT", None, Exception("disk I/O error"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(processor, "apply_event", crash_on_second)
    with pytest.raises(StoreUnavailable):
        process_all(collector.settings)
    monkeypatch.setattr(processor, "apply_event", real)
    assert process_all(collector.settings).processed >= 2  # what was not committed is redone
    assert sorted(r.type for r in interactions(url)) == ["Crashed"] * 3


def test_a_transaction_cut_short_gives_back_the_events_it_did_not_apply(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = collector.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("on PostgreSQL a chunk is one transaction, its events locked")
    for n in range(3):
        collector.post("/v1/track", {"userId": f"s-{n}", "event": "Short", "messageId": f"s{n}"})
    pending: list[int] = []

    def waiting_for(_url: str) -> None:
        with session_scope(url, write=False) as session:
            pending.append(
                session.scalar(select(func.count()).where(Event.processed_at.is_(None))) or 0
            )

    # a writer always waits: each transaction applies one event and gives the others back
    monkeypatch.setattr(processor, "writers_waiting", lambda _url: 1)
    monkeypatch.setattr(processor, "wait_for_foreground_writers", waiting_for)
    assert process_all(collector.settings).processed == 3
    assert pending == [3, 2, 1]
    assert sorted(r.type for r in interactions(url)) == ["Short"] * 3
    with session_scope(url, write=False) as session:
        assert session.scalar(select(func.count()).where(Event.processed_at.is_(None))) == 0


def test_a_bad_event_later_in_the_chunk_fails_alone(collector: Collector) -> None:
    url = collector.settings.database_url
    collector.post("/v1/track", {"userId": "ok-1", "event": "First", "messageId": "ok1"})
    collector.post("/v1/track", {"userId": "ok-1", "event": "Second", "messageId": "ok2"})
    now = datetime.now(UTC)
    bad = {"type": "identify", "userId": "ok-1", "messageId": "bad1", "traits": ["not", "a", "map"]}
    row = {c: None for c in ROW_COLUMNS} | {"message_id": "bad1", "type": "identify"}
    row |= {"user_id": "ok-1", "timestamp": now, "received_at": now, "payload": bad}
    with connection_scope(url) as connection:
        append_events(connection, key_owner(connection, collector.key), [row])
    collector.post("/v1/track", {"userId": "ok-1", "event": "Third", "messageId": "ok3"})
    report = process_all(collector.settings)
    assert (report.processed, report.failed) == (4, 1)
    assert [r.type for r in interactions(url)] == ["First", "Second", "Third"]
    with session_scope(url, write=False) as session:
        errors = session.scalars(select(Event.error).order_by(Event.id)).all()
    assert [e is not None for e in errors] == [False, False, True, False]


def test_a_contact_that_cannot_be_inserted_fails_its_event_alone(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = collector.settings.database_url
    collector.post("/v1/track", {"userId": "k-1", "event": "One", "messageId": "k1"})
    process_all(collector.settings)  # the customer is known from now on
    for n in (2, 3, 4):
        collector.post("/v1/track", {"userId": "k-1", "event": f"E{n}", "messageId": f"k{n}"})
    real_add = Chunk.add

    def add(chunk: Chunk, event_id: int, contact: InteractionIn) -> None:
        if contact.interaction_id == "k3":  # a row the store refuses: no such customer
            contact = dataclasses.replace(contact, customer_id=10**9)
        real_add(chunk, event_id, contact)

    monkeypatch.setattr(Chunk, "add", add)
    report = process_all(collector.settings)
    assert (report.processed, report.failed) == (3, 1)
    assert [r.type for r in interactions(url)] == ["One", "E2", "E4"]
    with session_scope(url, write=False) as session:
        errors = session.scalars(select(Event.error).order_by(Event.id)).all()
        pending = session.scalar(select(func.count()).where(Event.processed_at.is_(None)))
    assert [e is not None for e in errors] == [False, False, True, False]
    assert "IntegrityError" in (errors[2] or "") and pending == 0
