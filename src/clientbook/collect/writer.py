"""Group commit of the collector: one thread appends what many requests accepted.

Each request hands its rows to :class:`GroupWriter` and waits; the writer takes everything
queued, checks the write keys and appends all rows in one transaction, then answers each
request. A request is answered only after its rows are committed; when the store cannot commit,
every request of the group gets 503 and nothing of them is written. Under load the groups grow,
so one commit (and one turn at SQLite's write lock) serves many requests.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from clientbook.errors import NotPermitted, StoreUnavailable
from clientbook.store.db import connection_scope, unavailable
from clientbook.store.events import KeyOwner, append_events, key_owner

#: A group stops growing at this many rows (a few full batches).
MAX_GROUP_ROWS = 5000


@dataclass
class Refusal:
    """Why rows were not written: an HTTP status and a message for the sender."""

    status: int
    message: str


@dataclass
class _Request:
    key: str
    rows: list[dict[str, Any]]
    done: Future[Refusal | None] = field(default_factory=Future)


class GroupWriter:
    """A daemon thread that commits queued rows of ``events``, many requests per transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="clientbook-collect", daemon=True)
        self._thread.start()

    def submit(self, key: str, rows: list[dict[str, Any]]) -> Future[Refusal | None]:
        """Queue rows under a write key; the future gives None once committed, or a Refusal."""
        request = _Request(key, rows)
        self._queue.put(request)
        return request.done

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, size, last = [first], len(first.rows), False
            while size < MAX_GROUP_ROWS:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    last = True
                    break
                group.append(more)
                size += len(more.rows)
            try:
                self._commit(group)
            except Exception as exc:  # a bug must not leave requests waiting forever
                for request in group:
                    if not request.done.done():
                        request.done.set_exception(exc)
            if last:
                return

    def _commit(self, group: list[_Request]) -> None:
        refused: dict[str, Refusal] = {}
        try:
            with connection_scope(self.url) as connection:
                owners: dict[str, KeyOwner] = {}
                for request in group:
                    if request.key in owners or request.key in refused:
                        continue
                    try:
                        owners[request.key] = key_owner(connection, request.key)
                    except NotPermitted as exc:
                        refused[request.key] = Refusal(401, str(exc))
                for key, owner in owners.items():
                    rows = [row for r in group if r.key == key for row in r.rows]
                    append_events(connection, owner, rows)
        except (StoreUnavailable, SQLAlchemyError) as exc:
            if isinstance(exc, SQLAlchemyError):
                exc = unavailable(self.url, exc)
            failure = Refusal(503, str(exc))
            for request in group:
                request.done.set_result(refused.get(request.key, failure))
            return
        for request in group:
            request.done.set_result(refused.get(request.key))
