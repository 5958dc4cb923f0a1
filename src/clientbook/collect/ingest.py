"""The collector's write path: validate, authenticate, append, commit — then answer.

An answer of 200 means every accepted message and its dedup key were committed in one
transaction. A store that cannot commit gives :class:`~clientbook.errors.StoreUnavailable`
(503), so that clients retry. Rejected messages are listed; nothing of them is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from clientbook.collect.messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    Accepted,
    Rejected,
    batch_messages,
    inherit,
    now,
    parse_json,
    validate,
)
from clientbook.errors import NotPermitted, StoreUnavailable
from clientbook.store.db import session_scope, unavailable
from clientbook.store.events import append_events, key_owner


@dataclass
class Outcome:
    """The collector's answer: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


#: Error codes in the body, for the client libraries that log ``code`` and ``message``.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}


def failure_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """The one JSON error body, with Segment's ``code`` and ``message`` beside it."""
    return {
        "ok": False,
        "success": False,
        "error": message,
        "status": status,
        "code": CODES.get(status, "error"),
        "message": message,
        **extra,
    }


def _failure(status: int, message: str, **extra: Any) -> Outcome:
    return Outcome(status, failure_body(status, message, **extra))


def _row(item: Accepted, received_at: datetime) -> dict[str, Any]:
    return {
        "message_id": item.message_id,
        "type": item.type,
        "event": item.event,
        "user_id": item.user_id,
        "anonymous_id": item.anonymous_id,
        "timestamp": item.timestamp,
        "received_at": received_at,
        "sent_at": item.sent_at,
        "timestamp_flag": item.timestamp_flag,
        "payload": item.payload,
    }


def _store(
    url: str, key: str | None, items: list[Accepted], received_at: datetime
) -> Outcome | None:
    """Append the items under the write key in one transaction; an Outcome only on failure."""
    try:
        with session_scope(url) as session:
            owner = key_owner(session, key)
            append_events(session, owner, [_row(item, received_at) for item in items])
    except NotPermitted as exc:
        return _failure(401, str(exc))
    except StoreUnavailable as exc:
        return _failure(503, str(exc))
    except SQLAlchemyError as exc:
        return _failure(503, str(unavailable(url, exc)))
    return None


def _body_key(document: Any) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("writeKey"), str):
        return str(document["writeKey"])
    return None


def collect_one(url: str, body: bytes, path_type: str, key: str | None) -> Outcome:
    """Handle ``POST /v1/<type>`` (and the short paths): one message."""
    received_at = now()
    try:
        document = parse_json(body, MAX_MESSAGE_BYTES)
        key = key or _body_key(document)
        if not key:
            return _failure(401, "No write key was sent; send it as the HTTP Basic user name.")
        item = validate(document, received_at, path_type=path_type, size=len(body))
    except Rejected as exc:
        return _failure(exc.status, exc.reason)
    failed = _store(url, key, [item], received_at)
    return failed or Outcome(200, {"ok": True, "success": True})


def collect_batch(url: str, body: bytes, key: str | None) -> Outcome:
    """Handle ``POST /v1/batch``: keep the good messages, list the rejected ones."""
    received_at = now()
    try:
        document = parse_json(body, MAX_BATCH_BYTES)
        key = key or _body_key(document)
        if not key:
            return _failure(401, "No write key was sent; send it as the HTTP Basic user name.")
        messages, shared = batch_messages(document)
    except Rejected as exc:
        return _failure(exc.status, exc.reason)
    accepted: dict[str, Accepted] = {}
    rejected: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        try:
            item = validate(inherit(message, shared), received_at)
        except Rejected as exc:
            mid = message.get("messageId") if isinstance(message, dict) else None
            rejected.append({"index": index, "messageId": mid, "error": exc.reason})
            continue
        accepted.setdefault(item.message_id, item)  # a repeat inside the batch is a duplicate
    if not accepted and rejected:
        return _failure(400, "Every message of the batch was rejected.", rejected=rejected)
    failed = _store(url, key, list(accepted.values()), received_at)
    if failed:
        return failed
    return Outcome(
        200,
        {
            "ok": True,
            "success": True,
            "accepted": len(messages) - len(rejected),
            "rejected": rejected,
        },
    )
