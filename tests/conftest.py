"""Fixtures shared by the whole suite: a fresh store per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from clientbook.config import Settings
from clientbook.serve.api.app import create_app
from clientbook.store.db import dispose_engines, migrate
from clientbook.store.tokens import create_token

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CDNOW = SHARED / "data" / "cdnow"


def postgres_server_url() -> str | None:
    """The throwaway server started by scripts/postgres-for-tests (make test sets this)."""
    return os.environ.get("CLIENTBOOK_TEST_POSTGRES_URL")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def new_database(kind: str, folder: Path) -> Iterator[str]:
    """A new, migrated, empty database: a SQLite file in ``folder``, or a fresh PostgreSQL one."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'clientbook.db'}"
        migrate(url)
        yield url
        dispose_engines()
        return
    server = postgres_server_url()
    if not server:
        if os.environ.get("CI"):
            pytest.fail("CLIENTBOOK_TEST_POSTGRES_URL is not set: run the suite with `make test`.")
        pytest.skip("no PostgreSQL test server (run the suite with `make test`)")
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    dispose_engines()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, migrated, empty database per test, on SQLite and on PostgreSQL."""
    with new_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole test session."""
    pytest.importorskip("pyspark")
    from clientbook.analytics.engine import spark_session

    session = spark_session()
    yield session
    session.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A new, migrated SQLite database, for tests that need only the embedded default."""
    url = f"sqlite:///{tmp_path / 'clientbook.db'}"
    migrate(url)
    yield url
    dispose_engines()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=database_url)


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    """The app, called in-process, with a valid bearer token set on every request."""
    token = create_token(settings.database_url, "tests")
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
