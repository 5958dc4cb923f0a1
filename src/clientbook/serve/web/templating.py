"""The Jinja2 environment of the web pages (autoescaped) and the one way pages are rendered."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.numbers import format_currency, get_currency_symbol
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from clientbook.config import Settings
from clientbook.serve.web.charts import CHART_GLOBALS
from clientbook.store.models.users import ROLES
from clientbook.store.overview import main_currency

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# Every template is HTML: escape everything, whatever the file name.
templates.env.autoescape = True
#: Number formats of the pages (thousands separators, currency symbols).
LOCALE = "en_GB"


#: Seconds a store's main currency is remembered (finding it scans the orders).
CURRENCY_TTL = 600.0
_currencies: dict[str, tuple[float, str]] = {}


def display_currency(settings: Settings) -> str:
    """The currency money is shown in: the setting, else the one most orders are in, else EUR."""
    if settings.currency:
        return settings.currency
    url = settings.database_url
    seen = _currencies.get(url)
    if seen is None or time.monotonic() - seen[0] > CURRENCY_TTL:
        seen = (time.monotonic(), main_currency(url) or "EUR")
        _currencies[url] = seen
    return seen[1]


def symbol(currency: str) -> str:
    """``GBP`` → ``£``; codes without a symbol of their own stay codes (``CHF``)."""
    return get_currency_symbol(currency, locale=LOCALE)


@pass_context
def money(context: Context, value: float | None) -> str:
    """``1234.5`` → ``£1,234.50``, in the currency of the page (``currency`` in its context)."""
    if value is None:
        return "–"
    return format_currency(value, context.get("currency", "EUR"), locale=LOCALE)


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
        "currency": display_currency(request.app.state.settings),
    }
    return templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )
