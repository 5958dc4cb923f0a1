"""The app factory: one FastAPI app serving the API (and the web application, where present)."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientbook import __version__
from clientbook.config import Settings, get_settings
from clientbook.errors import ClientbookError
from clientbook.serve import web
from clientbook.serve.api import routers
from clientbook.serve.api.routers.collector import CollectorFront


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment)."""
    app = FastAPI(
        title="Clientbook",
        version=__version__,
        description="Customer platform for one-to-one marketing. `/api/*` needs a bearer token "
        "from `clientbook tokens create`.",
    )
    app.state.settings = settings or get_settings()

    @app.exception_handler(ClientbookError)
    async def _clientbook_error(_request: Request, exc: ClientbookError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        response = JSONResponse(exc.to_json(), status_code=exc.status_code, headers=headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, f"{where}: {first.get('msg')}" if where else str(first.get("msg")))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    for module in pkgutil.iter_modules(routers.__path__):
        app.include_router(importlib.import_module(f"{routers.__name__}.{module.name}").router)
    web.mount(app)
    app.add_middleware(CollectorFront)  # added last, so it runs before the other middleware
    return app
