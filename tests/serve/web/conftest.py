"""Fixtures of the web tests: a seeded store with the demo users, a client that signs in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.serve.web.seed import seed_retailer

from clientbook.config import Settings
from clientbook.serve.api.app import create_app
from clientbook.store.users import ensure_demo_users


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, role: str) -> str:
    """Sign in as the demo user of ``role``; returns the session's CSRF token."""
    email, password = {c.role: (c.email, c.password) for c in client.app.state.demo_users}[role]
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/customers").text)


@pytest.fixture
def seeded(sqlite_url: str) -> tuple[str, dict[str, int]]:
    """A SQLite store with the retailer and the demo users."""
    ids = seed_retailer(sqlite_url)
    return sqlite_url, ids


@pytest.fixture
def web(seeded: tuple[str, dict[str, int]]) -> Iterator[TestClient]:
    """The app in-process over the seeded store (nobody signed in yet)."""
    url, ids = seeded
    app = create_app(Settings(database_url=url))
    app.state.demo_users = ensure_demo_users(url)
    app.state.ids = ids
    with TestClient(app) as client:
        yield client
