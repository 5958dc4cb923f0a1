"""Turns stored events into the customer record: identity, traits, contacts, orders, accounts.

The collector answers as soon as the raw event is committed; this processor then reads the
events not yet processed, oldest first, and for each one resolves the customer (through
:func:`clientbook.identity.graph.resolve`, or, for a customer already known, through the
transaction's :class:`~clientbook.collect.chunk.Chunk`) and writes what the event means, in one
transaction per chunk, together with the mark that the event is done: an event is applied once,
and a crash loses nothing, since what was not committed stays pending for the next run. Each
event that writes runs in a savepoint (the contacts of known customers are inserted together,
and one by one if that fails): an event that cannot be applied is marked with its error and
does not hold back the others. On PostgreSQL several processors share the queue (``FOR UPDATE
SKIP LOCKED``).

:func:`run` is the long-running loop: `clientbook serve` starts it in a process of its own at a
lower CPU priority (`clientbook events process --follow`), so that it neither shares the
collector's interpreter lock nor, on SQLite, keeps the collector waiting for the write lock: it
is a background writer, which ends its transaction as soon as a collector waits.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clientbook.collect import records
from clientbook.collect.chunk import Chunk, contact_only
from clientbook.config import Settings
from clientbook.identity.graph import resolve
from clientbook.identity.policy import Policy
from clientbook.store.activity import (
    add_interaction,
    add_order,
    upsert_account_member,
    user_id_known,
)
from clientbook.store.db import session_scope, wait_for_foreground_writers, writers_waiting
from clientbook.store.events import (
    StoredEvent,
    claim_events,
    mark_processed,
    mark_processed_many,
    pending_events,
    release_events,
)

log = logging.getLogger(__name__)
#: A chunk of the processor commits after this many seconds even if nobody waits.
CHUNK_SECONDS = 0.25


@dataclass(frozen=True)
class ProcessReport:
    """What one call of :func:`process_pending` did."""

    processed: int
    failed: int


def apply_event(
    session: Session, event: StoredEvent, policy: Policy, chunk: Chunk | None = None
) -> int:
    """Write what one event means; return the customer it belongs to.

    When the ``chunk`` already knows the customer (:meth:`Chunk.resolve`), identity resolution
    is skipped, and a contact-only event's contact is kept in the chunk, to be inserted with
    the others.
    """
    payload = event.payload
    known = chunk.known_customer(event.id) if chunk is not None else None
    customer_id = known
    if customer_id is None:
        pairs = records.identifiers(payload)
        if payload.get("type") == "alias":
            previous = str(payload["previousId"])
            # previousId is the earlier identity: a cookie id unless it is a known user id
            known_user = previous != payload.get("anonymousId") and user_id_known(session, previous)
            pairs.append(("user_id" if known_user else "anonymous_id", previous))
        traits = records.customer_traits(payload) if payload.get("type") == "identify" else None
        customer_id = resolve(
            session,
            pairs,
            source=event.source,
            region=policy.region,
            traits=traits,
            policy=policy,
        )
    contact = records.interaction(payload, event.source, customer_id, event.timestamp)
    if contact is not None and chunk is not None and known is not None and contact_only(payload):
        chunk.add(event.id, contact)
    elif contact is not None:
        add_interaction(session, contact)
    purchase = records.order(payload, event.source, customer_id, event.timestamp)
    if purchase is not None:
        add_order(session, purchase)
    organisation = records.account(payload, event.source)
    if organisation is not None:
        upsert_account_member(session, organisation, customer_id)
    return customer_id


def process_pending(settings: Settings, limit: int | None = None) -> ProcessReport:
    """Process up to ``limit`` pending events; report how many.

    On PostgreSQL in one transaction of at most :data:`CHUNK_SECONDS` (the rest stays pending),
    the events locked (``SKIP LOCKED``) so that processors share the queue. On SQLite, whose
    one write lock the collector needs, the events are read first (a read does not block the
    collector in WAL mode) and then applied in short write transactions: each starts only when
    no other writer (the collector, in this process or another) waits, and ends after the event
    at hand as soon as one does, or when it has taken :data:`CHUNK_SECONDS`. Each event is
    claimed (marked done if still pending) in the transaction that applies it, so it is applied
    once even if two processors run. Within a transaction, a :class:`Chunk` resolves the events
    of known customers together and inserts their contacts together.
    """
    limit = limit or settings.collect_process_batch
    url = settings.database_url
    policy = Policy.from_settings(settings)
    if not url.startswith("sqlite"):
        done = 0
        deadline = time.monotonic() + CHUNK_SECONDS
        with session_scope(url) as session:
            events = pending_events(session, limit)
            chunk = Chunk(policy, events)
            failures = chunk.failures
            for event in events:
                done += 1
                error = _apply_isolated(session, event, policy, chunk)
                if error is not None:
                    failures.append((event.id, error))
                if time.monotonic() > deadline:
                    break  # commit what is done; the rest is picked up by the next chunk
            chunk.flush(session)
            mark_processed_many(session, [e.id for e in events[:done]])
            for event_id, error in failures:
                mark_processed(session, event_id, error)
        return ProcessReport(processed=done, failed=len(failures))
    with session_scope(url, write=False) as session:
        events = pending_events(session, limit)
    done = failed = 0
    chunk = Chunk(policy, events)
    while done < len(events):
        wait_for_foreground_writers(url)
        deadline = time.monotonic() + CHUNK_SECONDS
        with session_scope(url, background=True) as session:
            chunk.reset()
            # claimed (marked done) together; those not reached are given back before commit
            claimed = claim_events(session, [e.id for e in events[done:]])
            while done < len(events):
                event = events[done]
                done += 1
                if event.id not in claimed:
                    continue  # another processor applied it meanwhile
                error = _apply_isolated(session, event, policy, chunk)
                if error is not None:
                    failed += 1
                    mark_processed(session, event.id, error)
                if writers_waiting(url) or time.monotonic() > deadline:
                    break
            release_events(session, [e.id for e in events[done:] if e.id in claimed])
            chunk.flush(session)
            for event_id, error in chunk.failures:
                mark_processed(session, event_id, error)
            failed += len(chunk.failures)
            chunk.failures.clear()
    return ProcessReport(processed=done, failed=failed)


def _apply_isolated(
    session: Session, event: StoredEvent, policy: Policy, chunk: Chunk
) -> str | None:
    try:
        known = chunk.resolve(session, event)
        if known is not None and contact_only(event.payload):
            # its contact is kept for later: nothing is written now, so a failure leaves
            # nothing to undo
            apply_event(session, event, policy, chunk)
            return None
        chunk.flush(session)  # rows keep the order of the events
        with session.begin_nested():
            customer_id = apply_event(session, event, policy, chunk)
        if known is None:
            chunk.learn(event, customer_id)
    except OperationalError:
        raise  # the store itself failed: leave every event pending
    except Exception as exc:  # a bad event must not hold back the others
        log.warning("event %s could not be processed: %s", event.id, exc)
        return f"{type(exc).__name__}: {exc}"
    return None


def process_all(settings: Settings, *, max_rounds: int = 10_000) -> ProcessReport:
    """Process until no event is pending (or ``max_rounds`` chunks were done)."""
    done = failed = 0
    for _ in range(max_rounds):
        report = process_pending(settings)
        done, failed = done + report.processed, failed + report.failed
        if report.processed == 0:
            break
    return ProcessReport(processed=done, failed=failed)


def run(
    settings: Settings,
    stop: threading.Event,
    *,
    parent: int | None = None,
    on_chunk: Callable[[ProcessReport], None] | None = None,
) -> ProcessReport:
    """Process pending events until ``stop`` is set; sleep the interval setting when idle.

    With ``parent``, the loop also ends when that process is gone (`clientbook serve` killed):
    a processor is never left behind without its server. A failing store is retried.
    """
    interval = settings.collect_process_interval or 0.5
    done = failed = 0
    while not stop.is_set():
        if parent is not None and os.getppid() != parent:
            log.warning("the server (pid %s) is gone: the event processor stops", parent)
            break
        try:
            report = process_pending(settings)
        except Exception as exc:  # keep going; the events stay pending
            log.warning("event processing failed, will retry: %s", exc)
            stop.wait(interval)
            continue
        done, failed = done + report.processed, failed + report.failed
        if on_chunk is not None:
            on_chunk(report)
        if report.processed == 0:
            stop.wait(interval)
    return ProcessReport(processed=done, failed=failed)
