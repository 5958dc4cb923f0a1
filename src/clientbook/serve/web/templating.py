"""The Jinja2 environment of the web pages (autoescaped) and the one way pages are rendered."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clientbook.serve.web.charts import CHART_GLOBALS
from clientbook.store.models.users import ROLES

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# Every template is HTML: escape everything, whatever the file name.
templates.env.autoescape = True


def money(value: float | None) -> str:
    """``1234.5`` → ``€1,234.50`` (the demo retailer trades in euros)."""
    return "–" if value is None else f"€{value:,.2f}"


def when(value: datetime | date | None) -> str:
    """A short, sortable date and time in UTC."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def number(value: float | int | None, digits: int = 0) -> str:
    """Thousands separated."""
    return "–" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None, digits: int = 0) -> str:
    """``0.42`` → ``42%``."""
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def label(value: str | None) -> str:
    """``first_purchase`` → ``First purchase``."""
    return "–" if not value else value.replace("_", " ").capitalize()


templates.env.filters.update(money=money, when=when, number=number, percent=percent, label=label)
templates.env.globals.update(CHART_GLOBALS)


def can(role: str | None, needed: str) -> bool:
    """Whether ``role`` has at least the rights of ``needed``."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


templates.env.globals["can"] = can


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render ``template`` with the signed-in user and CSRF token of the request."""
    web_session = getattr(request.state, "web_session", None)
    base = {
        "user": web_session.user if web_session else None,
        "csrf_token": web_session.csrf_token if web_session else "",
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )
