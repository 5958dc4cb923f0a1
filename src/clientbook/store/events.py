"""The collector's tables: write keys, and the append-only log of raw events.

Appending is one ``INSERT ... ON CONFLICT (source, message_id) DO NOTHING``: a repeated message id
is stored once even when two clients race, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import Session

from clientbook.errors import NotFound, NotPermitted, UsageError
from clientbook.store.db import session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.events import Event, WriteKey

KEY_PREFIX = "cbw_"


class WriteKeyInfo(BaseModel):
    """A write key as listed: its name, source and first characters, never the key."""

    id: int
    name: str
    source: str
    hint: str
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class KeyOwner:
    """Who a valid write key belongs to."""

    id: int
    source: str


@dataclass(frozen=True)
class StoredEvent:
    """An event as the processor reads it."""

    id: int
    source: str
    type: str
    timestamp: datetime
    received_at: datetime
    payload: dict[str, Any]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_write_key(url: str, name: str, source: str | None = None) -> str:
    """Create a write key and return it; only its digest and first characters are kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise UsageError("A write key needs a name of 1 to 100 characters.")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    with session_scope(url) as session:
        session.add(
            WriteKey(
                name=name, source=(source or name)[:100], key_hash=_digest(key), key_hint=key[:10]
            )
        )
    return key


def list_write_keys(url: str) -> list[WriteKeyInfo]:
    """Every write key, newest first."""
    with session_scope(url, write=False) as session:
        rows = session.scalars(select(WriteKey).order_by(WriteKey.id.desc())).all()
        return [
            WriteKeyInfo(
                id=r.id,
                name=r.name,
                source=r.source,
                hint=r.key_hint + "…",
                created_at=r.created_at,
                revoked=r.revoked_at is not None,
            )
            for r in rows
        ]


def revoke_write_key(url: str, key_id: int) -> None:
    """Revoke a write key by id: the collector refuses it from the next request on."""
    with session_scope(url) as session:
        result = session.execute(
            update(WriteKey)
            .where(WriteKey.id == key_id, WriteKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        done = getattr(result, "rowcount", 0)
    if not done:
        raise NotFound(f"No active write key with id {key_id}.", hint="See `clientbook keys list`.")


_KEY_QUERY = select(WriteKey.id, WriteKey.source).where(
    WriteKey.key_hash == bindparam("digest"), WriteKey.revoked_at.is_(None)
)


def key_owner(db: Session | Connection, key: str | None) -> KeyOwner:
    """The owner of an active write key; :class:`NotPermitted` when missing, unknown or revoked."""
    if not key:
        raise NotPermitted(
            "No write key was sent.",
            hint="Send it as the HTTP Basic user name (or as writeKey in the body); "
            "create one with `clientbook keys create --name NAME`.",
        )
    row = db.execute(_KEY_QUERY, {"digest": _digest(key)}).first()
    if row is None:
        raise NotPermitted("The write key is unknown or revoked.")
    return KeyOwner(id=row.id, source=row.source)


#: The columns a collector row brings, in the order of the statements below.
ROW_COLUMNS = (
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "timestamp",
    "received_at",
    "sent_at",
    "timestamp_flag",
    "payload",
)
_TIMES = ("timestamp", "received_at", "sent_at")
#: PostgreSQL: the whole group in one statement, one array per column, in the order received.
_APPEND_UNNEST = """
INSERT INTO events (source, write_key_id, message_id, type, event, user_id, anonymous_id,
                    "timestamp", received_at, sent_at, timestamp_flag, payload)
SELECT %(source)s, %(write_key_id)s, m, t, e, u, a, ts, r, s, f, p::jsonb
FROM unnest(%(message_id)b::text[], %(type)b::text[], %(event)b::text[], %(user_id)b::text[],
            %(anonymous_id)b::text[], %(timestamp)b::timestamptz[], %(received_at)b::timestamptz[],
            %(sent_at)b::timestamptz[], %(timestamp_flag)b::text[], %(payload)b::text[])
     WITH ORDINALITY AS x(m, t, e, u, a, ts, r, s, f, p, n)
ORDER BY n
ON CONFLICT (source, message_id) DO NOTHING
"""
#: SQLite: one prepared statement, executed per row by the driver.
_APPEND_ROWS = """
INSERT INTO events (source, write_key_id, message_id, type, event, user_id, anonymous_id,
                    "timestamp", received_at, sent_at, timestamp_flag, payload)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, message_id) DO NOTHING
"""


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer over 64 bits, which the standard library allows
        return json.dumps(value)


def append_events(connection: Connection, owner: KeyOwner, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows of ``events`` columns for ``owner``; repeated message ids are skipped.

    The hot path of the collector, so below the ORM and Core's per-row processing: on
    PostgreSQL one statement for all rows (arrays unnested: one round trip, one execution), on
    SQLite the driver's own executemany. Instants are stored as the column type stores them.
    """
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql":
        params: dict[str, Any] = {c: [row[c] for row in rows] for c in ROW_COLUMNS}
        params["payload"] = [_json_text(p) for p in params["payload"]]
        params.update(source=owner.source, write_key_id=owner.id)
        connection.exec_driver_sql(_APPEND_UNNEST, params)
        return
    instant = Event.__table__.c.timestamp.type.dialect_impl(dialect).bind_processor(dialect)
    connection.exec_driver_sql(
        _APPEND_ROWS,
        [
            (
                owner.source,
                owner.id,
                *(
                    _json_text(row[c])
                    if c == "payload"
                    else instant(row[c])
                    if c in _TIMES and instant is not None
                    else row[c]
                    for c in ROW_COLUMNS
                ),
            )
            for row in rows
        ],
    )


def pending_events(session: Session, limit: int) -> list[StoredEvent]:
    """The oldest unprocessed events; on PostgreSQL locked so that workers share the queue."""
    query = (
        select(
            Event.id, Event.source, Event.type, Event.timestamp, Event.received_at, Event.payload
        )
        .where(Event.processed_at.is_(None))
        .order_by(Event.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [StoredEvent(*row) for row in session.execute(query).all()]


#: Ids per statement when events are claimed or given back together.
ID_BATCH = 500


def claim_events(session: Session, event_ids: Sequence[int]) -> set[int]:
    """Mark these events processed where still pending; return those that were (ours now)."""
    table = Event.__table__
    claimed: set[int] = set()
    now = utcnow()
    for n in range(0, len(event_ids), ID_BATCH):
        rows = session.connection().execute(
            update(table)  # type: ignore[arg-type]  # Core: the ORM bulk UPDATE is slower
            .where(Event.id.in_(event_ids[n : n + ID_BATCH]), Event.processed_at.is_(None))
            .values(processed_at=now)
            .returning(Event.id)
        )
        claimed.update(rows.scalars())
    return claimed


def release_events(session: Session, event_ids: Sequence[int]) -> None:
    """Make events claimed in this transaction pending again (not applied after all)."""
    for n in range(0, len(event_ids), ID_BATCH):
        session.connection().execute(
            update(Event.__table__)  # type: ignore[arg-type]
            .where(Event.id.in_(event_ids[n : n + ID_BATCH]))
            .values(processed_at=None)
        )


def mark_processed(session: Session, event_id: int, error: str | None = None) -> None:
    """Record that the processor is done with an event (with the error, if it failed)."""
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(processed_at=utcnow(), error=error[:500] if error else None)
    )


def mark_processed_many(session: Session, event_ids: Sequence[int]) -> None:
    """Record that the processor is done with these events, without error."""
    for n in range(0, len(event_ids), ID_BATCH):
        session.connection().execute(
            update(Event.__table__)  # type: ignore[arg-type]
            .where(Event.id.in_(event_ids[n : n + ID_BATCH]))
            .values(processed_at=utcnow(), error=None)
        )


def event_counts(url: str) -> dict[str, int]:
    """How many events are stored, waiting to be processed, and failed."""
    with session_scope(url, write=False) as session:
        total, pending, failed = session.execute(
            select(
                func.count(),
                func.count().filter(Event.processed_at.is_(None)),
                func.count().filter(Event.error.is_not(None)),
            ).select_from(Event)
        ).one()
    return {"events": total, "pending": pending, "failed": failed}
