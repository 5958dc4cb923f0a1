"""The HTTP collector in-process, on SQLite and PostgreSQL: auth, dedup, limits, CORS, 429, 503."""

from __future__ import annotations

import gzip
import json
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientbook.config import Settings
from clientbook.serve.api.app import create_app
from clientbook.store.db import session_scope
from clientbook.store.events import create_write_key, list_write_keys, revoke_write_key
from clientbook.store.models.events import Event
from tests.collect.conftest import Collector, basic


def stored(url: str) -> list[Event]:
    with session_scope(url, write=False) as session:
        return list(session.scalars(select(Event).order_by(Event.id)).all())


def test_every_type_is_stored_with_its_source(collector: Collector) -> None:
    calls = {
        "identify": {"userId": "u-1", "traits": {"email": "ann@example.com"}},
        "track": {"userId": "u-1", "event": "Product Viewed", "properties": {"sku": "A1"}},
        "page": {"anonymousId": "anon-1", "name": "Home"},
        "screen": {"userId": "u-1", "name": "Basket"},
        "group": {"userId": "u-1", "groupId": "acme"},
        "alias": {"userId": "u-1", "previousId": "anon-1"},
    }
    for kind, body in calls.items():
        response = collector.post(f"/v1/{kind}", body)
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True
    events = stored(collector.settings.database_url)
    assert [e.type for e in events] == list(calls)
    assert {e.source for e in events} == {"website"}
    assert events[1].event == "Product Viewed" and events[1].payload["properties"] == {"sku": "A1"}
    assert all(e.processed_at is None for e in events)


def test_a_repeated_message_id_is_stored_once_and_still_succeeds(collector: Collector) -> None:
    body = {"userId": "u-1", "event": "Signed Up", "messageId": "dup-1"}
    assert collector.post("/v1/track", body).status_code == 200
    assert collector.post("/v1/track", {**body, "event": "Changed"}).status_code == 200
    batch = {"batch": [{**body, "type": "track"}, {**body, "type": "track"}]}
    assert collector.post("/v1/batch", batch).json()["rejected"] == []
    events = stored(collector.settings.database_url)
    assert len(events) == 1 and events[0].event == "Signed Up"


def test_concurrent_duplicates_race_to_one_row(collector: Collector) -> None:
    bodies = [{"userId": f"u-{i % 3}", "event": "Race", "messageId": "race-1"} for i in range(16)]
    statuses: list[int] = []

    def send(body: dict[str, object]) -> None:
        statuses.append(collector.post("/v1/track", body).status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 16
    assert len(stored(collector.settings.database_url)) == 1


def test_batch_keeps_the_good_messages_and_lists_the_rejected(collector: Collector) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u-1", "event": "Good", "messageId": "g-1"},
            {"type": "track", "userId": "u-1", "messageId": "bad-1"},
            {"type": "identify", "messageId": "bad-2", "traits": {"email": "x@example.com"}},
            {"type": "page", "anonymousId": "a-1", "messageId": "g-2"},
            {"type": "track", "userId": "u", "event": "x", "messageId": "m" * 101},
        ]
    }
    response = collector.post("/v1/batch", batch)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["messageId"]) for r in body["rejected"]] == [
        (1, "bad-1"),
        (2, "bad-2"),
        (4, "m" * 101),
    ]
    assert "event name" in body["rejected"][0]["error"]
    assert [e.message_id for e in stored(collector.settings.database_url)] == ["g-1", "g-2"]


def test_bad_input_gets_a_json_4xx_and_writes_nothing(collector: Collector) -> None:
    url = collector.settings.database_url
    headers = {**basic(collector.key), "Content-Type": "application/json"}
    cases = [
        (collector.client.post("/v1/track", content=b"{oops", headers=headers), 400, "JSON"),
        (collector.post("/v1/track", {"event": "x"}), 400, "neither userId nor anonymousId"),
        (collector.post("/v1/purchase", {"userId": "u"}), 404, "no collector path"),
        (collector.post("/v1/batch", {"batch": [{"type": "x"}]}), 400, "Every message"),
        (
            collector.post("/v1/track", {"userId": "u", "event": "x", "p": "y" * 33_000}),
            413,
            "32,768",
        ),
        (
            collector.post(
                "/v1/batch",
                {"batch": [{"type": "track", "userId": "u", "event": "e", "p": "y" * 30_000}] * 18},
            ),
            413,
            "512,000",
        ),
        (
            collector.post(
                "/v1/batch", {"batch": [{"type": "track", "userId": "u", "event": "e"}] * 2501}
            ),
            413,
            "2,500",
        ),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["ok"] is False and body["status"] == status
        assert words in body["error"]
    assert stored(url) == []


def test_missing_unknown_and_revoked_keys_are_refused(collector: Collector) -> None:
    body = {"userId": "u-1", "event": "x"}
    missing = collector.client.post("/v1/track", json=body)
    assert missing.status_code == 401 and "No write key" in missing.json()["error"]
    unknown = collector.post("/v1/track", body, key="cbw_not-a-key")
    assert unknown.status_code == 401 and "unknown or revoked" in unknown.json()["error"]
    url = collector.settings.database_url
    other = create_write_key(url, "call-centre")
    assert collector.post("/v1/track", body, key=other).status_code == 200
    revoke_write_key(url, next(k.id for k in list_write_keys(url) if k.name == "call-centre"))
    assert collector.post("/v1/track", body, key=other).status_code == 401
    assert len(stored(url)) == 1


def test_text_plain_body_with_the_key_inside(collector: Collector) -> None:
    # what @segment/analytics-next sends to its short paths
    body = {"type": "page", "anonymousId": "a-9", "writeKey": collector.key, "messageId": "p-1"}
    response = collector.client.post(
        "/v1/p", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    (event,) = stored(collector.settings.database_url)
    assert event.type == "page" and "writeKey" not in event.payload


def test_gzip_bodies_are_accepted(collector: Collector) -> None:
    batch = {"batch": [{"type": "track", "userId": "u-1", "event": "Zipped"}]}
    response = collector.client.post(
        "/v1/batch",
        content=gzip.compress(json.dumps(batch).encode()),
        headers={**basic(collector.key), "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert stored(collector.settings.database_url)[0].event == "Zipped"


def test_the_write_key_opens_no_read_and_no_delete(collector: Collector) -> None:
    headers = basic(collector.key)
    assert collector.client.get("/api/customers/1", headers=headers).status_code == 401
    assert collector.client.get("/v1/track", headers=headers).status_code == 405
    assert collector.client.delete("/v1/track", headers=headers).status_code == 405


def test_cors_is_open_on_the_collector_only(collector: Collector) -> None:
    origin = {"Origin": "https://shop.example"}
    preflight = collector.client.options(
        "/v1/track",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers
    refused = collector.client.post("/v1/track", json={"event": "x"}, headers=origin)
    assert refused.headers["access-control-allow-origin"] == "*"  # errors are readable too
    admin = collector.client.get("/api/customers/1", headers=origin)
    assert "access-control-allow-origin" not in admin.headers
    admin_preflight = collector.client.options(
        "/api/customers/1", headers={**origin, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in admin_preflight.headers


def test_over_the_rate_limit_is_429_with_retry_after(settings: Settings) -> None:
    # one request every 4 s: the second one, sent at once, is over the limit
    settings = settings.model_copy(
        update={"collect_rate_limit": 0.25, "collect_process_interval": 0}
    )
    key = create_write_key(settings.database_url, "website")
    with TestClient(create_app(settings)) as client:
        statuses = [
            client.post("/v1/track", json={"userId": "u", "event": "e"}, headers=basic(key))
            for _ in range(2)
        ]
    assert statuses[0].status_code == 200
    limited = statuses[1]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 4
    assert limited.json()["error"].startswith("Too many requests")
    assert len(stored(settings.database_url)) == 1


def test_a_store_that_cannot_commit_answers_503(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}"
    settings = Settings(database_url=url, collect_process_interval=0)
    client = TestClient(create_app(settings))
    response = client.post("/v1/track", json={"userId": "u", "event": "e"}, headers=basic("k"))
    assert response.status_code == 503
    assert response.json()["ok"] is False


def test_settings_snippet_and_bundled_library(collector: Collector) -> None:
    response = collector.client.get(f"/v1/projects/{collector.key}/settings")
    assert response.status_code == 200
    segment = response.json()["integrations"]["Segment.io"]
    assert segment == {"apiKey": collector.key, "apiHost": "testserver/v1", "protocol": "http"}
    assert collector.client.get("/v1/projects/cbw_nope/settings").status_code == 404
    snippet = collector.client.get("/clientbook.js")
    assert snippet.headers["content-type"].startswith("application/javascript")
    assert "/analytics-next/standalone.js" in snippet.text
    library = collector.client.get("/analytics-next/standalone.js")
    assert library.status_code == 200 and len(library.content) > 100_000
    assert collector.client.get("/analytics-next/../config.py").status_code == 404


def test_events_are_counted(collector: Collector) -> None:
    collector.post("/v1/track", {"userId": "u", "event": "e"})
    with session_scope(collector.settings.database_url, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 1
