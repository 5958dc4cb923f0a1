"""Validation of single messages and batches, and the clock-skew correction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clientbook.collect.messages import (
    MAX_BATCH_EVENTS,
    Rejected,
    batch_messages,
    corrected_timestamp,
    inherit,
    parse_json,
    validate,
)

RECEIVED = datetime(2026, 3, 14, 12, 0, 0, tzinfo=UTC)


def test_clock_skew_is_corrected_from_sent_at() -> None:
    # the device clock runs 2 hours fast; the event happened 5 s before it was sent
    message = {"timestamp": "2026-03-14T13:59:55Z", "sentAt": "2026-03-14T14:00:00Z"}
    when, sent_at, flag = corrected_timestamp(message, RECEIVED)
    assert when == RECEIVED - timedelta(seconds=5)
    assert sent_at == datetime(2026, 3, 14, 14, 0, tzinfo=UTC)
    assert flag is None


def test_original_timestamp_is_the_client_time() -> None:
    message = {
        "originalTimestamp": "2026-03-14T11:59:00.000+01:00",
        "sentAt": "2026-03-14T11:59:30.000+01:00",
    }
    when, _, _ = corrected_timestamp(message, RECEIVED)
    assert when == RECEIVED - timedelta(seconds=30)


def test_without_sent_at_the_client_time_is_kept() -> None:
    when, _, flag = corrected_timestamp({"timestamp": "2025-01-02T03:04:05Z"}, RECEIVED)
    assert when == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC) and flag is None


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ({"timestamp": "yesterday-ish"}, "invalid_timestamp"),
        ({"timestamp": 12345}, "invalid_timestamp"),
        ({"timestamp": "2026-03-16T12:00:00Z"}, "future_timestamp"),
    ],
)
def test_bad_timestamps_become_the_receive_time_and_are_flagged(message, flag) -> None:
    when, _, got = corrected_timestamp(message, RECEIVED)
    assert when == RECEIVED and got == flag


def test_a_valid_track_message() -> None:
    item = validate(
        {"userId": 42, "event": "Product Viewed", "messageId": "m-1", "writeKey": "secret"},
        RECEIVED,
        path_type="track",
    )
    assert (item.type, item.user_id, item.event, item.message_id) == (
        "track",
        "42",
        "Product Viewed",
        "m-1",
    )
    assert "writeKey" not in item.payload  # a credential is not stored with the event


def test_a_missing_message_id_is_generated() -> None:
    item = validate({"type": "page", "anonymousId": "a"}, RECEIVED)
    assert item.message_id.startswith("cb-") and len(item.message_id) <= 100


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"event": "x"}, "neither userId nor anonymousId"),
        ({"userId": "u"}, "needs an event name"),
        ({"userId": "u", "event": "x", "messageId": "m" * 101}, "limit is 100"),
        ({"userId": "u", "event": "x", "properties": [1]}, "properties must be a JSON object"),
        ({"userId": "u", "event": "x", "type": "page"}, "does not match"),
        ({"userId": {"a": 1}, "event": "x"}, "userId must be a string"),
    ],
)
def test_invalid_track_messages_say_what_is_wrong(message, words) -> None:
    with pytest.raises(Rejected, match=words):
        validate(message, RECEIVED, path_type="track")


def test_unknown_type_group_without_id_alias_without_previous() -> None:
    with pytest.raises(Rejected, match="Unknown type"):
        validate({"type": "purchase", "userId": "u"}, RECEIVED)
    with pytest.raises(Rejected, match="groupId"):
        validate({"type": "group", "userId": "u"}, RECEIVED)
    with pytest.raises(Rejected, match="previousId"):
        validate({"type": "alias", "userId": "u"}, RECEIVED)


def test_a_message_over_32_kb_is_refused() -> None:
    message = {"userId": "u", "event": "x", "properties": {"blob": "x" * 33_000}}
    with pytest.raises(Rejected, match="limit is 32,768") as info:
        validate(message, RECEIVED, path_type="track")
    assert info.value.status == 413


def test_bodies_that_are_not_json_or_too_big() -> None:
    with pytest.raises(Rejected, match="not valid JSON"):
        parse_json(b"{not json", 1000)
    with pytest.raises(Rejected, match="limit is 10"):
        parse_json(b'{"a": "0123456789"}', 10)


def test_batch_limits_and_inheritance() -> None:
    with pytest.raises(Rejected, match="2,500"):
        batch_messages({"batch": [{}] * (MAX_BATCH_EVENTS + 1)})
    with pytest.raises(Rejected, match='"batch" list'):
        batch_messages([{"type": "track"}])
    messages, shared = batch_messages(
        {"batch": [{"context": {"ip": "1"}}], "context": {"library": {"name": "x"}}, "sentAt": "s"}
    )
    merged = inherit(messages[0], shared)
    assert merged["context"] == {"library": {"name": "x"}, "ip": "1"}
    assert merged["sentAt"] == "s"
    assert json.dumps(merged)
