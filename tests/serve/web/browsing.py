"""Helpers of the browser tests: Debian's Chromium, a loopback port, a server start, signing in."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
PASSWORDS = {
    "admin": ("admin@demo.clientbook.dev", "demo-admin-pass"),
    "marketer": ("marketer@demo.clientbook.dev", "demo-marketer-pass"),
    "agent": ("agent@demo.clientbook.dev", "demo-agent-pass"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, process: subprocess.Popen[Any], seconds: float = 300) -> None:
    """Wait for ``/health`` to answer; fail when the server exits or never answers.

    Generous: importing the app took 141 s on the shared 2-core machine under a load of 9.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("the server did not start")


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop a server started by a test (killed when it does not stop within 30 s)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def sign_in(page: Any, role: str, *, shot: Path | None = None) -> None:
    email, password = PASSWORDS[role]
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    if shot:
        page.screenshot(path=shot)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Sign out").is_visible()


def open_tab(browser: Any, base: str, width: int = 1280, height: int = 900) -> Any:
    """A page in a fresh browser context (no cookies); dialogs are recorded, not shown."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base)
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    return tab
