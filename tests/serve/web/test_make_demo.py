"""`make demo` opens on a populated dashboard, seen in headless Chromium.

Runs the ``clientbook`` commands that `make demo` runs (read from ``make -n demo``: the demo
set-up, then the server), with a smaller demo retailer, through the real CLI; then signs in as the
demo marketer and reads the dashboard's charts and their data tables.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.serve.web.browsing import (
    PASSWORDS,
    free_port,
    open_tab,
    sign_in,
    stop,
    wait_until_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
SMALL = "--people 400 --accounts 20"


def make_demo_commands(url: str, data: Path) -> list[list[str]]:
    """The clientbook commands of `make demo` (as ``make -n`` prints them), for a small demo."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    printed = subprocess.run(
        [make, "-n", "-s", "-C", str(REPO), "demo", f"DEMO_DB={url}", f"DEMO_DATA={data}"]
        + [f"DEMO_ARGS={SMALL}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commands = [shlex.split(line) for line in printed.splitlines() if "bin/clientbook " in line]
    assert [c[1:3] for c in commands] == [["demo", "setup"], ["serve", "--db"]], printed
    # The console script of the environment running the tests, as .venv/bin/clientbook is.
    script = Path(sys.executable).with_name("clientbook")
    return [[str(script), *c[1:]] for c in commands]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Set up the demo and serve it as `make demo` does; yields the base URL."""
    folder = tmp_path_factory.mktemp("make-demo")
    url = f"sqlite:///{folder / 'clientbook.db'}"
    setup, serve = make_demo_commands(url, folder / "demo-data")
    done = subprocess.run(setup, capture_output=True, text=True, timeout=900, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    for email, password in PASSWORDS.values():
        assert f"{email}  password: {password}" in done.stdout
    port = free_port()
    env = {**os.environ, "CLIENTBOOK_PORT": str(port)}
    process = subprocess.Popen(serve, env=env, cwd=folder, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        stop(process)


def _number(text: str) -> float:
    found = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert found, f"no number in {text!r}"
    return float(found.group(0).replace(",", ""))


def _chart_data(section: Any, title: str) -> dict[str, float]:
    """The data table of the chart called ``title`` inside ``section``: label -> value."""
    figure = section.locator("figure.chart").filter(has_text=title)
    assert figure.locator("svg rect").count() > 0, f"{title}: no bars"
    rows = figure.locator("details tbody tr")
    return {
        (rows.nth(i).locator("td").first.text_content() or "").strip(): _number(
            rows.nth(i).locator("td").last.text_content() or ""
        )
        for i in range(rows.count())
    }


def _kpi(page: Any, name: str) -> float:
    item = page.locator(".kpis li").filter(has=page.locator(".k", has_text=re.compile(f"^{name}$")))
    return _number(item.locator(".v").inner_text())


def test_make_demo_opens_on_a_populated_dashboard(
    browser: Any, demo_server: str, shots: Path
) -> None:
    page = open_tab(browser, demo_server)
    try:
        sign_in(page, "marketer")
        assert page.url.endswith("/dashboard")
        customers = _kpi(page, "Customers")
        assert customers > 300
        assert 0 < _kpi(page, "Buyers") <= customers
        assert _kpi(page, "Orders") > _kpi(page, "Buyers")
        assert _kpi(page, "Revenue") > 0 and _kpi(page, "Contacts") > 0

        concentration = page.locator(
            "section", has=page.get_by_role("heading", name="Value concentration")
        )
        clv = _chart_data(concentration, "Customers by lifetime value (CLV)")
        assert sum(1 for v in clv.values() if v > 0) >= 4
        shares = concentration.locator("p.big strong").all_inner_texts()
        assert 10 < _number(shares[0]) <= _number(shares[1]) <= 100

        rfm = _chart_data(
            page.locator("section", has=page.get_by_role("heading", name="RFM segments")),
            "RFM segment",
        )
        assert len(rfm) >= 5 and sum(rfm.values()) > 0.5 * _kpi(page, "Buyers")

        lifecycle = page.locator("section", has=page.get_by_role("heading", name="Lifecycle"))
        stages = _chart_data(lifecycle, "lifecycle stage")
        assert sum(stages.values()) == customers
        # Every buyer has a CLV, in exactly one band (negative ones too).
        no_purchase = stages.get("Registered", 0) + stages.get("Anonymous visitor", 0)
        assert sum(clv.values()) == customers - no_purchase
        assert {"Loyal", "Inactive", "Registered"} <= set(stages)
        assert lifecycle.locator("table caption", has_text="Movements since").count() == 1

        cohorts = page.locator("section", has=page.get_by_role("heading", name="Cohort retention"))
        assert cohorts.locator("svg rect").count() >= 12 * 2
        assert cohorts.locator("details tbody tr").count() >= 12

        top = page.locator(
            "section", has=page.get_by_role("heading", name="Top customers by lifetime value")
        )
        assert top.locator("tbody tr").count() == 10
        channels = _chart_data(
            page.locator("section", has=page.get_by_role("heading", name="Revenue and cost")),
            "Revenue by channel",
        )
        assert {"web", "store", "call centre"} <= set(channels)
        page.screenshot(path=shots / "dashboard.png", full_page=True)

        # The value on the dashboard leads to a customer 360 with scores and a timeline.
        top.locator("tbody a").first.click()
        page.get_by_role("heading", level=1).wait_for()
        assert page.locator("#timeline li").count() > 0
    finally:
        page.context.close()
