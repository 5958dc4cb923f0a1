"""Validation of Segment-spec messages, and the clock-skew correction of their timestamps.

A message that passes becomes an :class:`Accepted` row for the ``events`` table; one that fails
raises :class:`Rejected` with a reason written for the sender. Nothing here touches the store.

Limits follow Segment's HTTP Tracking API: 32 KB per message, 500 KB and 2,500 messages per batch,
``messageId`` at most 100 characters.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2500
MAX_MESSAGE_ID = 100
MAX_ID = 200
MAX_EVENT_NAME = 200
#: A client timestamp further ahead of the receive time than this is not believed.
FUTURE_TOLERANCE = timedelta(days=1)

TYPES = ("identify", "track", "page", "screen", "group", "alias")
#: The short paths of analytics-next (``/v1/t``) and the long ones (``/v1/track``).
PATH_TYPES = {
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    **{t: t for t in TYPES},
}
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")


class Rejected(Exception):
    """A message the collector refuses; ``reason`` says why, ``status`` is the HTTP status."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Accepted:
    """A valid message, ready to append to the ``events`` table."""

    message_id: str
    type: str
    event: str | None
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    sent_at: datetime | None
    timestamp_flag: str | None
    payload: dict[str, Any]


def parse_json(body: bytes, limit: int) -> Any:
    """Decode a request body, refusing one over ``limit`` bytes or that is not JSON."""
    if len(body) > limit:
        raise Rejected(f"The body is {len(body):,} bytes; the limit is {limit:,}.", 413)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # orjson is stricter (NaN, integers over 64 bits): the standard library decides
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(f"The body is not valid JSON: {exc}.") from None


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def corrected_timestamp(
    message: dict[str, Any], received_at: datetime
) -> tuple[datetime, datetime | None, str | None]:
    """The event time, corrected for the client's clock skew; and sentAt and a flag.

    ``timestamp = receivedAt - (sentAt - client timestamp)`` when the client sent both times
    (its clock's offset cancels out). An unreadable timestamp, or one more than a day ahead of
    the receive time, is replaced by the receive time and flagged.
    """
    raw = message.get("originalTimestamp") or message.get("timestamp")
    sent_at = parse_instant(message.get("sentAt"))
    if raw is None:
        return received_at, sent_at, None
    client = parse_instant(raw)
    if client is None:
        return received_at, sent_at, "invalid_timestamp"
    when = received_at - (sent_at - client) if sent_at is not None else client
    if when - received_at > FUTURE_TOLERANCE:
        return received_at, sent_at, "future_timestamp"
    return when, sent_at, None


def _identity(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Rejected(f"{key} must be a string.")
    text = str(value)
    if len(text) > MAX_ID:
        raise Rejected(f"{key} is {len(text)} characters long; the limit is {MAX_ID}.")
    return text


def validate(
    message: Any, received_at: datetime, *, path_type: str | None = None, size: int | None = None
) -> Accepted:
    """Check one message against the spec and the limits; raise :class:`Rejected` if it fails.

    ``path_type`` is the type the URL names (``/v1/track``); ``size`` the message's size in bytes
    when the caller already knows it.
    """
    if not isinstance(message, dict):
        raise Rejected("A message must be a JSON object.")
    if size is None:
        size = len(json.dumps(message, separators=(",", ":"), default=str).encode())
    if size > MAX_MESSAGE_BYTES:
        raise Rejected(f"The message is {size:,} bytes; the limit is {MAX_MESSAGE_BYTES:,}.", 413)
    type_ = message.get("type") or path_type
    if path_type and message.get("type") not in (None, path_type):
        raise Rejected(f"type {message.get('type')!r} does not match the path /v1/{path_type}.")
    if type_ not in TYPES:
        raise Rejected(f"Unknown type {type_!r}; use one of: {', '.join(TYPES)}.")
    message_id = message.get("messageId")
    if message_id is None or message_id == "":
        message_id = f"cb-{uuid.uuid4()}"
    elif isinstance(message_id, bool) or not isinstance(message_id, str | int):
        raise Rejected("messageId must be a string.")
    message_id = str(message_id)
    if len(message_id) > MAX_MESSAGE_ID:
        raise Rejected(
            f"messageId is {len(message_id)} characters long; the limit is {MAX_MESSAGE_ID}."
        )
    user_id = _identity(message, "userId")
    anonymous_id = _identity(message, "anonymousId")
    if user_id is None and anonymous_id is None:
        raise Rejected("The message has neither userId nor anonymousId; send at least one.")
    for field in _OBJECT_FIELDS:
        if message.get(field) is not None and not isinstance(message[field], dict):
            raise Rejected(f"{field} must be a JSON object.")
    event = _required_fields(message, type_)
    timestamp, sent_at, flag = corrected_timestamp(message, received_at)
    payload = {**message, "type": type_, "messageId": message_id}
    payload.pop("writeKey", None)  # the key is a credential: it is not kept with the event
    return Accepted(
        message_id=message_id,
        type=type_,
        event=event,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        sent_at=sent_at,
        timestamp_flag=flag,
        payload=payload,
    )


def _required_fields(message: dict[str, Any], type_: str) -> str | None:
    """Check what each type needs; return the event (or page/screen) name."""
    if type_ == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            raise Rejected("A track message needs an event name (event).")
        if len(event) > MAX_EVENT_NAME:
            raise Rejected(f"event is longer than {MAX_EVENT_NAME} characters.")
        return event
    if type_ == "group" and _identity(message, "groupId") is None:
        raise Rejected("A group message needs a groupId.")
    if type_ == "alias" and _identity(message, "previousId") is None:
        raise Rejected("An alias message needs a previousId.")
    if type_ in ("page", "screen"):
        name = message.get("name")
        return name[:MAX_EVENT_NAME] if isinstance(name, str) and name else None
    return None


def batch_messages(document: Any) -> tuple[list[Any], dict[str, Any]]:
    """The messages of a ``/v1/batch`` body, and the fields its messages inherit."""
    if not isinstance(document, dict) or not isinstance(document.get("batch"), list):
        raise Rejected('A batch must be a JSON object with a "batch" list.')
    messages = document["batch"]
    if len(messages) > MAX_BATCH_EVENTS:
        raise Rejected(
            f"The batch holds {len(messages):,} messages; the limit is {MAX_BATCH_EVENTS:,}.", 413
        )
    shared = {k: document[k] for k in ("context", "integrations", "sentAt") if k in document}
    return messages, shared


def inherit(message: Any, shared: dict[str, Any]) -> Any:
    """A batch message with the batch's context, integrations and sentAt filled in."""
    if not shared or not isinstance(message, dict):
        return message
    merged = dict(message)
    for key, value in shared.items():
        if key == "sentAt":
            merged.setdefault("sentAt", value)
        elif isinstance(value, dict):
            mine = merged.get(key)
            merged[key] = {**value, **mine} if isinstance(mine, dict) else mine or value
    return merged


def now() -> datetime:
    """The receive time."""
    return datetime.now(UTC)
