"""Turns stored events into the customer record: identity, traits, contacts, orders, accounts.

The collector answers as soon as the raw event is committed; this processor then reads the
events not yet processed, oldest first, and for each one resolves the customer (through
:func:`clientbook.identity.graph.resolve`) and writes what the event means, in one transaction
per chunk. Each event runs in a savepoint: an event that cannot be applied is marked with its
error and does not hold back the others. On PostgreSQL several workers share the queue
(``FOR UPDATE SKIP LOCKED``); a crash loses nothing, since the events stay pending.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clientbook.collect import records
from clientbook.config import Settings
from clientbook.identity.graph import resolve
from clientbook.identity.policy import Policy
from clientbook.store.activity import (
    add_interaction,
    add_order,
    upsert_account_member,
    user_id_known,
)
from clientbook.store.db import session_scope, writers_waiting
from clientbook.store.events import StoredEvent, mark_processed, pending_events

log = logging.getLogger(__name__)
#: A chunk of the processor commits after this many seconds even if nobody waits.
CHUNK_SECONDS = 0.25


@dataclass(frozen=True)
class ProcessReport:
    """What one call of :func:`process_pending` did."""

    processed: int
    failed: int


def apply_event(session: Session, event: StoredEvent, policy: Policy) -> int:
    """Write what one event means; return the customer it belongs to."""
    payload = event.payload
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
    if contact is not None:
        add_interaction(session, contact)
    purchase = records.order(payload, event.source, customer_id, event.timestamp)
    if purchase is not None:
        add_order(session, purchase)
    organisation = records.account(payload, event.source)
    if organisation is not None:
        upsert_account_member(session, organisation, customer_id)
    return customer_id


def process_pending(settings: Settings, limit: int | None = None) -> ProcessReport:
    """Process up to ``limit`` pending events in one transaction; report how many.

    On SQLite the transaction holds the one write lock, so the chunk ends early, after the
    event at hand, when another writer of this process (the collector) waits for the lock or
    the chunk has taken :data:`CHUNK_SECONDS`; the rest stay pending for the next chunk.
    """
    limit = limit or settings.collect_process_batch
    url = settings.database_url
    policy = Policy.from_settings(settings)
    done = failed = 0
    deadline = time.monotonic() + CHUNK_SECONDS
    with session_scope(url) as session:
        for event in pending_events(session, limit):
            error = _apply_isolated(session, event, policy)
            failed += error is not None
            done += 1
            mark_processed(session, event.id, error)
            if writers_waiting(url) or time.monotonic() > deadline:
                break
    return ProcessReport(processed=done, failed=failed)


def _apply_isolated(session: Session, event: StoredEvent, policy: Policy) -> str | None:
    try:
        with session.begin_nested():
            apply_event(session, event, policy)
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


class BackgroundProcessor:
    """A daemon thread that processes pending events while the server runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clientbook-events", daemon=True)

    def start(self) -> BackgroundProcessor:
        """Start the thread (no-op when the interval setting is 0)."""
        if self.settings.collect_process_interval > 0:
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish its chunk and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        interval = self.settings.collect_process_interval
        while not self._stop.is_set():
            try:
                report: Any = process_pending(self.settings)
            except Exception as exc:  # keep serving; the events stay pending
                log.warning("event processing failed, will retry: %s", exc)
                report = None
            if report is None or report.processed == 0:
                self._stop.wait(interval)
