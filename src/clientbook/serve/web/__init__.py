"""The web application: server-rendered pages (Jinja2 + htmx), mounted on the API's app."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientbook.errors import ClientbookError
from clientbook.serve.web import pages
from clientbook.serve.web.auth import SignInRequired, login_redirect
from clientbook.serve.web.auth import router as auth_router
from clientbook.serve.web.templating import HERE, render

#: Paths served by the web application (everything else keeps the API's JSON errors).
WEB_PREFIXES = ("/login", "/logout", "/customers", "/dashboard", "/segments", "/review", "/admin")

#: Scripts and styles come only from this server; nothing inline, no framing, no plug-ins.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[Request, Any], Any]
Next = Callable[[Request], Awaitable[Response]]


def is_web(request: Request) -> bool:
    """Whether the request is for a page (HTML errors) rather than the API (JSON errors)."""
    path = request.url.path
    return path == "/" or path.startswith(WEB_PREFIXES)


def _status_of(exc: Exception) -> int:
    if isinstance(exc, ClientbookError):
        return exc.status_code
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code
    return 400


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ClientbookError):
        return str(exc)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        return f"Invalid parameter {where}: {first.get('msg', 'not allowed')}."
    if isinstance(exc, StarletteHTTPException):
        return "No such page." if exc.status_code == 404 else str(exc.detail)
    return "Bad request."


def _html_or(api_handler: Handler | None) -> Handler:
    async def handler(request: Request, exc: Any) -> Response:
        if is_web(request):
            status = _status_of(exc)
            return render(
                request, "error.html", {"status": status, "message": _message_of(exc)}, status
            )
        assert api_handler is not None
        response = api_handler(request, exc)
        return await response if inspect.isawaitable(response) else response

    return handler


def mount(app: FastAPI) -> None:
    """Add the pages, the static assets and HTML error pages to ``app``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth_router)
    for module in pkgutil.iter_modules(pages.__path__):
        app.include_router(importlib.import_module(f"{pages.__name__}.{module.name}").router)

    for exc_class in (ClientbookError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(exc_class, _html_or(app.exception_handlers.get(exc_class)))

    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return login_redirect(str(exc.args[0]) if exc.args else "/")

    app.add_exception_handler(SignInRequired, _sign_in)  # type: ignore[arg-type]

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        if is_web(request) or request.url.path.startswith("/static"):
            response.headers.update(SECURITY_HEADERS)
            if is_web(request):
                response.headers["Cache-Control"] = "no-store"
        return response
