"""SIGKILL in the middle of a load: every acknowledged event is in the store after restart."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from clientbook.store.db import session_scope
from clientbook.store.events import create_write_key
from clientbook.store.models.events import Event
from tests.collect.conftest import basic, start_server, stop_server
from tests.collect.test_real_clients import wait_processed

pytestmark = pytest.mark.slow


def load(url: str, key: str, acked: set[str], stop: threading.Event, worker: int) -> None:
    """Send batches of 20 and single tracks until the server dies; remember what got a 200."""
    counter = itertools.count()
    with httpx.Client(base_url=url, headers=basic(key), timeout=5) as client:
        while not stop.is_set():
            n = next(counter)
            ids = [f"w{worker}-{n}-{i}" for i in range(20 if n % 2 else 1)]
            try:
                if len(ids) == 1:
                    response = client.post(
                        "/v1/track",
                        json={"userId": f"u-{n % 50}", "event": "Tick", "messageId": ids[0]},
                    )
                else:
                    batch = [
                        {
                            "type": "track",
                            "anonymousId": f"a-{n % 70}",
                            "event": "Tock",
                            "messageId": mid,
                        }
                        for mid in ids
                    ]
                    response = client.post("/v1/batch", json={"batch": batch})
            except httpx.HTTPError:
                continue  # the server is gone: nothing acknowledged, the client would retry
            if response.status_code == 200:
                acked.update(ids)


def processors_of(server: int) -> list[int]:
    """Event processors started by a server process (found by their --exit-with argument)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--follow" in args and str(server).encode() in args:
            found.append(int(entry.name))
    return found


def test_sigkill_during_load_loses_no_acknowledged_event(database_url: str) -> None:
    key = create_write_key(database_url, "crash-test")
    server = start_server(database_url)
    acked: set[str] = set()
    stop = threading.Event()
    threads = [
        threading.Thread(target=load, args=(server.url, key, acked, stop, w)) for w in range(4)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 1500 and time.monotonic() < deadline:
        time.sleep(0.05)
    processors = processors_of(server.process.pid)
    assert len(processors) == 1  # `clientbook serve` runs its event processor beside it
    os.kill(server.process.pid, signal.SIGKILL)  # mid-load: requests are in flight
    server.process.wait()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 1500
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{pid}").exists() for pid in processors):  # it ends with its server
        assert time.monotonic() < deadline, "the event processor outlived its killed server"
        time.sleep(0.1)
    restarted = start_server(database_url)
    try:
        with session_scope(database_url, write=False) as session:
            stored = set(session.scalars(select(Event.message_id)).all())
        assert acked <= stored, f"{len(acked - stored)} acknowledged events were lost"
        # what was stored but not yet applied is applied after the restart
        wait_processed(database_url, "crash-test", len(stored), timeout=120)
    finally:
        stop_server(restarted)
