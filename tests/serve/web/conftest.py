"""Fixtures of the web tests: a seeded store with the demo users, a client that signs in."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.serve.web.browsing import CHROMIUM, CHROMIUM_ARGS, DOCS_SCREENSHOTS
from tests.serve.web.seed import score, seed_retailer

from clientbook.config import Settings
from clientbook.serve.api.app import create_app
from clientbook.store.db import dispose_engines, migrate
from clientbook.store.users import DemoCredential, ensure_demo_users


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


@pytest.fixture(scope="session")
def seeded_template(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, int], list[DemoCredential]]:
    """One seeded SQLite file with the demo users, built once and copied for each test."""
    path = tmp_path_factory.mktemp("web-template") / "clientbook.db"
    url = f"sqlite:///{path}"
    migrate(url)
    ids = seed_retailer(url)
    score(url)
    users = ensure_demo_users(url)
    dispose_engines()  # closes the file, folding the WAL back into it
    return path, ids, users


@pytest.fixture
def web(
    seeded_template: tuple[Path, dict[str, int], list[DemoCredential]], tmp_path: Path
) -> Iterator[TestClient]:
    """The app in-process over a fresh copy of the seeded store (nobody signed in yet)."""
    template, ids, users = seeded_template
    shutil.copy(template, tmp_path / "clientbook.db")
    url = f"sqlite:///{tmp_path / 'clientbook.db'}"
    app = create_app(Settings(database_url=url))
    app.state.demo_users = users
    app.state.ids = ids
    with TestClient(app) as client:
        yield client
    dispose_engines()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots/ when asked for (CLIENTBOOK_SCREENSHOTS=1), else a temporary folder."""
    if os.environ.get("CLIENTBOOK_SCREENSHOTS") == "1":
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
