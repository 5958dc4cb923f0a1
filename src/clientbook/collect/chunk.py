"""What the event processor knows within one transaction: who holds the identifiers, and the
contacts not yet written.

Most events come from a visitor or customer already known (a page view, a tracked action, an
order) and need nothing of identity resolution but "which customer holds these identifiers". A
:class:`Chunk` answers that for every event of a transaction from two queries (the identifiers
of all its events, then the state of their holders: merged or not, locked ``FOR SHARE`` on
PostgreSQL as :func:`~clientbook.identity.graph.resolve` locks them). The answer is exactly the
one ``resolve`` gives by its own fast path (events without traits): one customer, not merged
away, holds every value. The contacts of events that write nothing else are kept and inserted
together, without a savepoint each.

Every other event (identify with traits, alias, a new visitor, a value held by several
customers) goes through ``resolve`` as before, after the contacts kept so far are written, so
that rows keep the order of the events. What it did is then known when certain (nobody else held
its values: now its customer holds them all); otherwise everything is forgotten (it may have
merged customers) and read again when a later event needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clientbook.collect import records
from clientbook.identity.locks import lock_parties
from clientbook.identity.policy import Policy
from clientbook.store.activity import InteractionIn, interaction_row, interaction_statement
from clientbook.store.events import StoredEvent
from clientbook.store.models.parties import Identifier

log = logging.getLogger(__name__)

Value = tuple[str, str]
#: Event types whose only write is a contact (an ``Order Completed`` track also writes an order).
CONTACT_ONLY = ("page", "screen", "track")
#: Values looked up per query (two bound parameters each).
LOOKUP_SIZE = 400


def contact_only(payload: dict[str, Any]) -> bool:
    """True when the event writes nothing but a contact once its customer is known."""
    kind = payload.get("type")
    return kind in CONTACT_ONLY and not (
        kind == "track" and payload.get("event") == "Order Completed"
    )


class Chunk:
    """The identity cache and the pending contacts of one processor transaction."""

    def __init__(self, policy: Policy, events: Sequence[StoredEvent]) -> None:
        self.policy = policy
        self.events = list(events)
        self._position = {e.id: n for n, e in enumerate(self.events)}
        self._values: dict[int, list[Value] | None] = {}
        self._held: dict[Value, set[int]] = {}
        self._merged: dict[int, int | None] = {}
        self._known: dict[int, int] = {}
        self._contacts: list[tuple[int, dict[str, Any]]] = []
        #: (event id, error) of contacts that could not be written when flushed.
        self.failures: list[tuple[int, str]] = []

    def reset(self) -> None:
        """Forget what was read: a new transaction starts (others may have written meanwhile)."""
        self._held.clear()
        self._merged.clear()
        self._known.clear()

    def values(self, event: StoredEvent) -> list[Value] | None:
        """The cleaned identifiers of an event (None for an alias, whose pairs need a query)."""
        if event.id not in self._values:
            payload = event.payload
            found = None
            if payload.get("type") != "alias":
                found = self.policy.clean(records.identifiers(payload), self.policy.region)
            self._values[event.id] = found
        return self._values[event.id]

    def resolve(self, session: Session, event: StoredEvent) -> int | None:
        """The event's customer when it is known here, as ``resolve`` would find it.

        That is for events without traits (an identify with traits always goes through
        ``resolve``): one customer, not merged away, holds every value.
        """
        values = self.values(event)
        if not values:
            return None
        payload = event.payload
        if payload.get("type") == "identify" and records.customer_traits(payload):
            return None
        if any(tv not in self._held for tv in values):
            self._read(session, event)
        owners = {c for tv in values for c in self._held[tv]}
        if len(owners) != 1 or any(not self._held[tv] for tv in values):
            return None
        (owner,) = owners
        if owner not in self._merged or self._merged[owner] is not None:
            return None
        self._known[event.id] = owner
        return owner

    def known_customer(self, event_id: int) -> int | None:
        """The customer :meth:`resolve` found for this event, once."""
        return self._known.pop(event_id, None)

    def _read(self, session: Session, event: StoredEvent) -> None:
        """Read the holders of this event's values and of the events after it, and their state."""
        start = self._position.get(event.id, 0)
        wanted: dict[Value, None] = dict.fromkeys(self.values(event) or ())
        for later in self.events[start + 1 :]:
            try:
                ahead = self.values(later) or ()
            except Exception:  # a bad event fails at its own turn, not at this one
                continue
            wanted.update((tv, None) for tv in ahead)
        wanted = {tv: None for tv in wanted if tv not in self._held}
        missing = list(wanted)
        for n in range(0, len(missing), LOOKUP_SIZE):
            part = missing[n : n + LOOKUP_SIZE]
            for tv in part:
                self._held[tv] = set()
            rows = session.connection().execute(
                select(Identifier.type, Identifier.value, Identifier.customer_id).where(
                    tuple_(Identifier.type, Identifier.value).in_(part)
                )
            )
            for t, v, c in rows:
                self._held[(t, v)].add(c)
        owners = {c for tv in missing for c in self._held[tv]} - set(self._merged)
        if owners:
            # FOR SHARE on PostgreSQL: a concurrent merge of these customers waits for our commit
            self._merged.update(lock_parties(session, owners, exclusive=False))

    def learn(self, event: StoredEvent, customer_id: int) -> None:
        """After ``resolve`` placed an event with ``customer_id``: keep what is certain."""
        values = self.values(event)
        if values and all(self._held.get(tv, {0}) <= {customer_id} for tv in values):
            # nobody else held them: no merge, and now the customer holds every one
            for tv in values:
                self._held[tv] = {customer_id}
            self._merged.setdefault(customer_id, None)
            return
        self.reset()  # it may have merged customers: read again when needed

    def add(self, event_id: int, contact: InteractionIn) -> None:
        """Keep a contact to insert with the others at :meth:`flush`."""
        self._contacts.append((event_id, interaction_row(contact)))

    def flush(self, session: Session) -> None:
        """Insert the contacts kept; one that cannot be written is recorded in :attr:`failures`."""
        if not self._contacts:
            return
        rows, self._contacts = self._contacts, []
        dialect = session.get_bind().dialect.name
        statement = interaction_statement(dialect)
        try:
            # the savepoint is emitted when the session's connection is asked for inside it
            with session.begin_nested():
                session.connection().execute(statement, [row for _, row in rows])
            return
        except OperationalError:
            raise
        except Exception:  # one of them is bad: find it, write the others
            pass
        for event_id, row in rows:
            try:
                with session.begin_nested():
                    session.connection().execute(statement, row)
            except OperationalError:
                raise
            except Exception as exc:
                log.warning("event %s could not be processed: %s", event_id, exc)
                self.failures.append((event_id, f"{type(exc).__name__}: {exc}"))
