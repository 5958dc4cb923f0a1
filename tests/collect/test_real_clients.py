"""The published Python client libraries, unchanged, against `clientbook serve` on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient
from sqlalchemy import func, select

from clientbook.store.db import session_scope
from clientbook.store.events import create_write_key
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.events import Event
from clientbook.store.models.parties import Customer, Identifier
from tests.collect.conftest import LiveServer


def wait_processed(url: str, source: str, expected: int, timeout: float = 60.0) -> None:
    """Wait until the server's background processor has applied a source's events."""
    deadline = time.monotonic() + timeout
    query = select(func.count(), func.count(Event.processed_at)).where(Event.source == source)
    while time.monotonic() < deadline:
        with session_scope(url, write=False) as session:
            total, done = session.execute(query).one()
        if total >= expected and done == total:
            return
        time.sleep(0.1)
    raise AssertionError(f"{source}: {done} of {total} events processed, {expected} expected")


def send(client: SegmentClient | RudderClient, tag: str) -> None:
    client.page(anonymous_id=f"cookie-{tag}", name="Home", properties={"url": "https://s.example/"})
    client.identify(
        f"cust-{tag}",
        {"email": f"zoe.{tag}@example.com", "firstName": "Zoe"},
        anonymous_id=f"cookie-{tag}",
    )
    client.track(
        f"cust-{tag}",
        "Order Completed",
        {"order_id": f"R-{tag}", "revenue": 12.5, "products": [{"sku": "S-1", "price": 12.5}]},
        timestamp=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    )
    client.group(f"cust-{tag}", f"org-{tag}", {"name": "Zoe & Co"})
    client.flush()


def check(server: LiveServer, source: str, tag: str) -> None:
    url = server.database_url
    wait_processed(url, source, 4)
    with session_scope(url, write=False) as session:
        events = session.scalars(
            select(Event).where(Event.source == source).order_by(Event.id)
        ).all()
        assert [e.type for e in events] == ["page", "identify", "track", "group"]
        assert all(e.error is None for e in events)
        # corrected by receivedAt - sentAt: the network delay, milliseconds on loopback
        skew = events[2].timestamp.replace(tzinfo=UTC) - datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
        assert abs(skew.total_seconds()) < 1
        ids = [f"cookie-{tag}", f"cust-{tag}", f"zoe.{tag}@example.com"]
        owners = set(
            session.scalars(select(Identifier.customer_id).where(Identifier.value.in_(ids))).all()
        )
        assert len(owners) == 1
        (customer,) = session.scalars(select(Customer).where(Customer.id.in_(owners))).all()
        assert customer.first_name == "Zoe"
        kinds = session.scalars(
            select(Interaction.type).where(Interaction.source == source).order_by(Interaction.id)
        ).all()
        assert kinds == ["page", "Order Completed"]


def test_segment_analytics_python(live_server: LiveServer) -> None:
    key = create_write_key(live_server.database_url, "segment-backend")
    errors: list[Exception] = []
    client = SegmentClient(
        key, host=live_server.url, sync_mode=True, on_error=lambda e, _b: errors.append(e)
    )
    send(client, "seg")
    assert errors == []
    check(live_server, "segment-backend", "seg")
    refused = SegmentClient(
        "cbw_unknown", host=live_server.url, max_retries=0, on_error=lambda e, _b: errors.append(e)
    )
    refused.track("u-1", "Anything")
    refused.flush()
    refused.join()
    assert "unknown or revoked" in str(errors) and "401" in str(errors)


def test_rudder_sdk_python(live_server: LiveServer) -> None:
    key = create_write_key(live_server.database_url, "rudder-backend")
    errors: list[Exception] = []
    client = RudderClient(
        key, host=live_server.url, sync_mode=True, on_error=lambda e, _b: errors.append(e)
    )
    send(client, "rud")
    assert errors == []
    check(live_server, "rudder-backend", "rud")
