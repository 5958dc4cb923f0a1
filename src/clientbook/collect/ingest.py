"""The collector's write path: validate, authenticate, append, commit — then answer.

An answer of 200 means every accepted message and its dedup key were committed in one
transaction (the :class:`~clientbook.collect.writer.GroupWriter` commits several requests
together). A store that cannot commit gives 503, so that clients retry. Rejected messages are
listed; nothing of them is written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from clientbook.collect.writer import GroupWriter


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


@dataclass
class Intake:
    """What a request brought that passed validation: rows to append, and the answer after."""

    key: str
    rows: list[dict[str, Any]]
    answer: dict[str, Any]


def _body_key(document: Any) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("writeKey"), str):
        return str(document["writeKey"])
    return None


def intake_one(body: bytes, path_type: str, key: str | None) -> Intake | Outcome:
    """Validate ``POST /v1/<type>`` (and the short paths): one message."""
    received_at = now()
    try:
        document = parse_json(body, MAX_MESSAGE_BYTES)
        key = key or _body_key(document)
        if not key:
            return _failure(401, "No write key was sent; send it as the HTTP Basic user name.")
        item = validate(document, received_at, path_type=path_type, size=len(body))
    except Rejected as exc:
        return _failure(exc.status, exc.reason)
    return Intake(key, [_row(item, received_at)], {"ok": True, "success": True})


def intake_batch(body: bytes, key: str | None) -> Intake | Outcome:
    """Validate ``POST /v1/batch``: keep the good messages, list the rejected ones."""
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
    rows = [_row(item, received_at) for item in accepted.values()]
    answer = {
        "ok": True,
        "success": True,
        "accepted": len(messages) - len(rejected),
        "rejected": rejected,
    }
    return Intake(key, rows, answer)


async def commit(writer: GroupWriter, intake: Intake | Outcome) -> Outcome:
    """Append what was accepted (group commit) and answer only once it is committed."""
    if isinstance(intake, Outcome):
        return intake
    refusal = await asyncio.wrap_future(writer.submit(intake.key, intake.rows))
    if refusal is not None:
        return _failure(refusal.status, refusal.message)
    return Outcome(200, intake.answer)
