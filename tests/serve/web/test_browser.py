"""The web application driven in headless Chromium, as a person would use it.

Starts the real server (uvicorn) on a loopback port over a seeded SQLite store, and saves a
screenshot of each page: under docs/screenshots/ (shown in the README) when
``CLIENTBOOK_SCREENSHOTS=1``, else in a temporary folder, so that ordinary runs leave the
committed pictures alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.serve.web.browsing import free_port, open_tab, sign_in, stop, wait_until_up
from tests.serve.web.seed import XSS_NAME, XSS_URL, score, seed_retailer

from clientbook.store.db import dispose_engines, migrate
from clientbook.store.users import ensure_demo_users

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real server on 127.0.0.1 over a seeded store; yields its base URL and the ids."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'clientbook.db'}"
    migrate(url)
    ids = seed_retailer(url, customers=120)
    score(url)
    ensure_demo_users(url)
    dispose_engines()
    port = free_port()
    env = {**os.environ, "CLIENTBOOK_DATABASE_URL": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "clientbook.serve.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield {"base": base, "ids": ids, "url": url}
    finally:
        stop(process)


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser tab at desktop width."""
    tab = open_tab(browser, server["base"])
    yield tab
    tab.context.close()


def test_agent_finds_a_customer_and_logs_a_call(
    page: Any, server: dict[str, Any], shots: Path
) -> None:
    sign_in(page, "agent", shot=shots / "login.png")
    assert page.url.endswith("/customers")
    page.get_by_label("Search names").press_sequentially("ann.smith0@", delay=30)
    page.locator("#results").get_by_text("1 customer", exact=True).wait_for()
    row = page.locator("#results").get_by_role("link", name="Ann Smith")
    page.screenshot(path=shots / "customers.png")
    row.click()
    page.get_by_role("heading", level=1, name="Ann Smith").wait_for()
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Called about the damaged parcel")
    page.get_by_label("Notes").fill("Sent a replacement; follow up Friday.")
    page.get_by_label("Minutes").fill("6")
    page.get_by_role("button", name="Log contact").click()
    first = page.locator("#timeline li").first
    first.get_by_text("Called about the damaged parcel").wait_for()
    assert "agent@demo.clientbook.dev" in first.inner_text()
    page.screenshot(path=shots / "customer-360.png", full_page=True)
    page.get_by_label("Resolution").first.fill("Replacement sent")
    page.get_by_role("button", name="Resolve").first.click()
    page.locator("#cases").get_by_text("No open case.").wait_for()


def test_marketer_sees_the_dashboard(page: Any) -> None:
    """On the small seeded store (the populated demo dashboard: test_make_demo.py)."""
    sign_in(page, "marketer")
    assert page.url.endswith("/dashboard")
    assert page.get_by_role("heading", name="Cohort retention").is_visible()
    assert page.locator("figure.chart svg").count() >= 4


def test_marketer_builds_a_segment(page: Any, shots: Path) -> None:
    sign_in(page, "marketer")
    page.get_by_role("link", name="Segments").click()
    page.get_by_label("Name (lower case").fill("loyal-leeds")
    page.get_by_label("Description").fill("Two orders or more, in Leeds")
    page.get_by_label("Field 1").select_option("orders")
    page.get_by_label("Operator 1").select_option("gte")
    page.get_by_label("Value 1").fill("2")
    page.get_by_label("Field 2").select_option("city")
    page.get_by_label("Value 2").fill("Leeds")
    page.get_by_role("button", name="Preview size").click()
    size = page.locator("#segment-size strong")
    size.wait_for()
    expected = int(size.inner_text().replace(",", ""))
    assert expected > 0
    page.screenshot(path=shots / "segments.png", full_page=True)
    page.get_by_role("button", name="Save segment").click()
    page.get_by_role("heading", level=1, name="Segment loyal-leeds").wait_for()
    assert int(page.locator("#segment-members").inner_text().replace(",", "")) == expected
    assert page.locator("table tbody tr").count() == expected
    page.screenshot(path=shots / "segment.png", full_page=True)


def test_admin_pages(page: Any, shots: Path) -> None:
    sign_in(page, "admin")
    page.goto("/admin/users")
    assert page.get_by_role("cell", name="agent@demo.clientbook.dev").is_visible()
    page.screenshot(path=shots / "admin-users.png", full_page=True)


def test_wrong_password_is_refused(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill("admin@demo.clientbook.dev")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong e-mail or password."
    assert page.context.cookies() == [] or all(
        c["name"] != "cb_session" for c in page.context.cookies()
    )


def test_form_without_csrf_token_is_refused(page: Any, server: dict[str, Any]) -> None:
    sign_in(page, "agent")
    ann = server["ids"]["ann"]
    response = page.request.post(
        f"/customers/{ann}/interactions", form={"kind": "call", "subject": "forged"}
    )
    assert response.status == 403
    page.goto("/customers")
    page.locator("form.signout input[name=csrf_token]").evaluate("e => e.remove()")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_agent_opening_an_admin_page_is_refused(page: Any) -> None:
    sign_in(page, "agent")
    response = page.goto("/admin/users")
    assert response.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert page.get_by_role("link", name="Admin").count() == 0


def test_script_in_a_name_or_url_is_shown_as_text(page: Any, server: dict[str, Any]) -> None:
    sign_in(page, "agent")
    page.goto("/customers?q=mallory")
    page.get_by_role("link", name=f"{XSS_NAME} {XSS_URL}").click()
    page.get_by_role("heading", level=1).wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == f"{XSS_NAME} {XSS_URL}"
    assert page.locator("#timeline").get_by_text(XSS_URL).first.is_visible()
    assert page.locator("#timeline").get_by_text(XSS_NAME).is_visible()
    assert page.get_by_text(XSS_URL).count() >= 2  # the trait and the page view
    assert page.locator("img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.get_by_label("Subject").fill(XSS_NAME)
    page.get_by_role("button", name="Log contact").click()
    page.locator("#timeline li").first.get_by_text(XSS_NAME).wait_for()
    page.wait_for_timeout(200)
    assert page.dialogs == []


def test_parameters_outside_the_allow_list_are_400(page: Any) -> None:
    sign_in(page, "agent")
    for query in ("sort=password_hash", "direction=up", "stage=vip", "order_by=id"):
        response = page.goto(f"/customers?{query}")
        assert response.status == 400, query
        assert page.get_by_role("heading", name="Bad request").is_visible()


def test_usable_at_phone_width(browser: Any, server: dict[str, Any], shots: Path) -> None:
    page = open_tab(browser, server["base"], width=390, height=844)
    try:
        sign_in(page, "agent")
        page.goto(f"/customers/{server['ids']['ann']}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        page.get_by_label("Subject").focus()
        page.screenshot(path=shots / "customer-360-phone.png", full_page=True)
    finally:
        page.context.close()
