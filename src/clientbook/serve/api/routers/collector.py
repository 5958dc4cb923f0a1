"""The Segment HTTP Tracking API (``/v1/*``), ``/clientbook.js`` and the analytics-next files.

The write key (HTTP Basic user name, or ``writeKey`` in a ``text/plain`` body as analytics-next
sends it) may only append events. CORS is open on these paths, without credentials; the admin
API keeps its own rules.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from clientbook.collect.browser import project_settings, snippet, static_file
from clientbook.collect.ingest import (
    Intake,
    Outcome,
    commit,
    failure_body,
    intake_batch,
    intake_one,
)
from clientbook.collect.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, PATH_TYPES
from clientbook.collect.ratelimit import RateLimiter, retry_after
from clientbook.collect.writer import GroupWriter
from clientbook.config import Settings
from clientbook.errors import ClientbookError
from clientbook.store.db import session_scope
from clientbook.store.events import key_owner

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
BATCH_PATHS = ("batch", "b", "import")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.collect_limiter = RateLimiter(settings.collect_rate_limit)
    app.state.collect_writer = GroupWriter(settings.database_url)
    try:
        yield
    finally:
        await run_in_threadpool(app.state.collect_writer.stop)


router = APIRouter(tags=["collector"], lifespan=_lifespan)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "collect_limiter", None)
    if limiter is None:  # an app used without its lifespan (some tests)
        limiter = request.app.state.collect_limiter = RateLimiter(
            _settings(request).collect_rate_limit
        )
    return limiter


def _writer(request: Request) -> GroupWriter:
    writer = getattr(request.app.state, "collect_writer", None)
    if writer is None:  # an app used without its lifespan (some tests)
        writer = request.app.state.collect_writer = GroupWriter(_settings(request).database_url)
    return writer


def basic_user(request: Request) -> str | None:
    """The HTTP Basic user name (the write key), if one was sent."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def gunzip(body: bytes, limit: int) -> bytes:
    """Inflate a gzip body, stopping at ``limit`` bytes (the size check then refuses it)."""
    inflater = zlib.decompressobj(wbits=31)
    out = inflater.decompress(body, limit)
    if not inflater.eof and len(out) < limit:
        raise EOFError("truncated gzip body")
    return out


def _answer(outcome: Outcome, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        outcome.body, status_code=outcome.status, headers={**CORS, **(headers or {})}
    )


def _refused(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return _answer(Outcome(status, failure_body(status, message)), headers)


async def _collect(request: Request, kind: str) -> JSONResponse:
    key = basic_user(request)
    client = request.client.host if request.client else "-"
    wait = _limiter(request).admit(key or client)
    if wait:
        return _refused(
            429, "Too many requests for this write key.", {"Retry-After": retry_after(wait)}
        )
    body = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            body = gunzip(body, MAX_BATCH_BYTES + 1)
        except (OSError, zlib.error, EOFError):
            return _refused(400, "The body is not valid gzip.")
    intake: Intake | Outcome
    if kind not in BATCH_PATHS:
        intake = intake_one(body, PATH_TYPES[kind], key)
    elif len(body) <= MAX_MESSAGE_BYTES:  # validation of a small batch takes a few ms
        intake = intake_batch(body, key)
    else:  # a large one, up to ~100 ms: off the event loop
        intake = await run_in_threadpool(intake_batch, body, key)
    outcome = await commit(_writer(request), intake)
    headers = {"WWW-Authenticate": 'Basic realm="clientbook"'} if outcome.status == 401 else None
    return _answer(outcome, headers)


@router.post("/v1/{kind}", summary="Send a message (Segment HTTP Tracking API)")
async def collect(kind: str, request: Request) -> Response:
    """``/v1/identify|track|page|screen|group|alias|batch`` and analytics-next's ``/v1/i|t|...``."""
    if kind not in PATH_TYPES and kind not in BATCH_PATHS:
        paths = ", ".join(f"/v1/{k}" for k in (*PATH_TYPES, *BATCH_PATHS))
        return _refused(404, f"There is no collector path /v1/{kind}; use one of: {paths}.")
    return await _collect(request, kind)


@router.options("/v1/{path:path}", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight of the collector paths (no credentials)."""
    asked = request.headers.get("access-control-request-headers", "Content-Type, Authorization")
    return Response(status_code=204, headers={**CORS, "Access-Control-Allow-Headers": asked})


@router.get("/v1/projects/{write_key}/settings", summary="Settings for analytics-next")
def settings_for_browser(write_key: str, request: Request) -> Response:
    """What ``@segment/analytics-next`` loads first: it sends every event to this server."""
    try:
        with session_scope(_settings(request).database_url, write=False) as session:
            key_owner(session, write_key)
    except ClientbookError as exc:
        return _refused(exc.status_code if exc.status_code != 401 else 404, str(exc))
    body = project_settings(write_key, request.url.netloc, request.url.scheme)
    return JSONResponse(body, headers={**CORS, "Cache-Control": "max-age=300"})


@router.get("/clientbook.js", include_in_schema=False)
def clientbook_js() -> Response:
    """The tracking snippet: ``<script src=".../clientbook.js" data-write-key="KEY">``."""
    return Response(
        snippet(),
        media_type="application/javascript",
        headers={**CORS, "Cache-Control": "max-age=300"},
    )


@router.get("/analytics-next/{name:path}", include_in_schema=False)
def analytics_next(name: str) -> Response:
    """The bundled browser files of @segment/analytics-next."""
    path = static_file(name)
    if path is None:
        return _refused(404, f"No analytics-next file {name!r}.")
    return FileResponse(
        path,
        media_type="application/javascript",
        headers={**CORS, "Cache-Control": "max-age=3600"},
    )
