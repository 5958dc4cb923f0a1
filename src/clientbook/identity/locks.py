"""Locks that keep concurrent resolutions from splitting or orphaning a customer.

On SQLite every writer already holds the database lock (``BEGIN IMMEDIATE``), so these are no-ops
there. On PostgreSQL:

* an identifier value is locked with a transaction-level advisory lock before a resolution
  creates or attaches it, so two requests that bring the same new ``user_id`` at once create one
  customer, not two;
* the customers a resolution reads are locked ``FOR SHARE`` (nothing changes) or ``FOR UPDATE``
  (something may merge); a merge that absorbs a customer waits for every transaction that is
  still writing rows for it, and those that come later see it merged and follow it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clientbook.store.models.parties import Account, Customer

_PARTIES = {"customer": Customer.__table__, "account": Account.__table__}


def is_postgres(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def value_key(kind: str, type_: str, value: str) -> int:
    """A signed 64-bit advisory lock key for one identifier value."""
    digest = hashlib.blake2b(f"{kind}\0{type_}\0{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_values(session: Session, kind: str, values: Iterable[tuple[str, str]]) -> None:
    """Take the advisory locks of these identifier values, in a fixed order (no deadlock)."""
    if not is_postgres(session):
        return
    for key in sorted({value_key(kind, t, v) for t, v in values}):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def lock_parties(
    session: Session, ids: Iterable[int], *, kind: str = "customer", exclusive: bool = True
) -> dict[int, int | None]:
    """Lock these customers (or accounts) in id order; return id -> merged_into_id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    table = _PARTIES[kind]
    query = select(table.c.id, table.c.merged_into_id).where(table.c.id.in_(wanted))
    query = query.order_by(table.c.id)
    if is_postgres(session):
        query = query.with_for_update(read=not exclusive)
    return {row.id: row.merged_into_id for row in session.execute(query)}
