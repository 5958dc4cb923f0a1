"""`/clientbook.js` with the bundled @segment/analytics-next, in headless Chromium (Debian's)."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from clientbook.store.db import session_scope
from clientbook.store.events import create_write_key
from clientbook.store.models.contacts import Interaction
from clientbook.store.models.events import Event
from clientbook.store.models.parties import Identifier
from tests.collect.conftest import LiveServer, free_port
from tests.collect.test_real_clients import wait_processed
from tests.serve.web.browsing import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
PAGE = """<!doctype html>
<html><head><title>Spring shoes</title>
<script src="{collector}/clientbook.js" data-write-key="{key}"></script>
</head><body><h1>Spring shoes</h1></body></html>
"""


@pytest.fixture
def shop_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A web site on another loopback origin than the collector (so CORS is exercised)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", tmp_path
    httpd.shutdown()


def events_of(url: str, source: str) -> list[Event]:
    with session_scope(url, write=False) as session:
        return list(
            session.scalars(select(Event).where(Event.source == source).order_by(Event.id)).all()
        )


def wait_events(url: str, source: str, count: int, timeout: float = 30.0) -> list[Event]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = events_of(url, source)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{len(events_of(url, source))} events arrived, {count} expected")


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
def test_snippet_tracks_a_visitor_who_then_signs_in(
    live_server: LiveServer, shop_site: tuple[str, Path]
) -> None:
    from playwright.sync_api import sync_playwright

    source = f"browser-{live_server.database_url.split(':')[0]}"
    key = create_write_key(live_server.database_url, source)
    origin, root = shop_site
    (root / "shoes.html").write_text(PAGE.format(collector=live_server.url, key=key))
    landing = f"{origin}/shoes.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(landing, referer="https://www.google.com/search?q=red+trail+shoes")
            (view,) = wait_events(live_server.database_url, source, 1)
            cookies = {c["name"]: c["value"] for c in page.context.cookies(origin)}
            anonymous_id = unquote(cookies["ajs_anonymous_id"]).strip('"')
            assert view.type == "page" and view.anonymous_id == anonymous_id
            page.evaluate(
                """() => {
                  analytics.identify('web-user-7', {email: 'kim@example.com', firstName: 'Kim'});
                  analytics.track('Product Viewed', {sku: 'TR-9', price: 89.5});
                }"""
            )
            wait_events(live_server.database_url, source, 3)
        finally:
            browser.close()
    wait_processed(live_server.database_url, source, 3)
    url = live_server.database_url
    with session_scope(url, write=False) as session:
        owners = set(
            session.scalars(
                select(Identifier.customer_id).where(
                    Identifier.value.in_([anonymous_id, "web-user-7", "kim@example.com"])
                )
            ).all()
        )
        rows = session.scalars(
            select(Interaction).where(Interaction.source == source).order_by(Interaction.id)
        ).all()
    assert len(owners) == 1  # the cookie's history belongs to the person who signed in
    assert [(r.channel, r.type) for r in rows] == [("web", "page"), ("web", "Product Viewed")]
    assert {r.customer_id for r in rows} == owners
    props = rows[0].properties
    assert props["url"] == landing and props["path"] == "/shoes.html"
    assert props["title"] == "Spring shoes"
    assert props["referrer"].startswith("https://www.google.com/search")
    assert props["search_terms"] == "red trail shoes"
    assert props["campaign"] == {"source": "newsletter", "medium": "email", "name": "spring-sale"}
    assert props["anonymous_id"] == anonymous_id
    assert rows[1].properties == {"sku": "TR-9", "price": 89.5}
