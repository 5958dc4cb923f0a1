"""Fixtures of the collector tests: an in-process app with a write key, and a live server."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from clientbook.config import Settings
from clientbook.serve.api.app import create_app
from clientbook.store.events import create_write_key
from tests.conftest import BACKENDS, new_database


def basic(key: str) -> dict[str, str]:
    """The Authorization header the Segment libraries send."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@dataclass
class Collector:
    """An in-process app, its settings and a valid write key (source ``website``)."""

    client: TestClient
    settings: Settings
    key: str

    def post(self, path: str, body: object, key: str | None = None) -> httpx.Response:
        return self.client.post(path, json=body, headers=basic(key or self.key))


@pytest.fixture
def collector(settings: Settings) -> Iterator[Collector]:
    """The collector with its background processor off (tests process explicitly)."""
    settings = settings.model_copy(update={"collect_process_interval": 0})
    key = create_write_key(settings.database_url, "website")
    with TestClient(create_app(settings)) as client:
        yield Collector(client, settings, key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """`clientbook serve` running in a child process on a loopback port."""

    url: str
    database_url: str
    process: subprocess.Popen[bytes]


def start_server(
    database_url: str, *, env: dict[str, str] | None = None, workers: int = 1
) -> LiveServer:
    """Start `clientbook serve` and wait until /health answers."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "clientbook"),
        "serve",
        "--db",
        database_url,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    full_env = {**os.environ, "CLIENTBOOK_COLLECT_PROCESS_INTERVAL": "0.2", **(env or {})}
    process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # a busy 2-core machine imports slowly (>120 s seen)
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return LiveServer(url, database_url, process)
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"clientbook serve exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("clientbook serve did not start within 600 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real server (uvicorn) on loopback, one per backend for the session (it starts slowly).

    Tests share it: each makes its own write key (so its own source) and its own ids.
    """
    with new_database(request.param, tmp_path_factory.mktemp("live")) as url:
        server = start_server(url)
        yield server
        stop_server(server)
