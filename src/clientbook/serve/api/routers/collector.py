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
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

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


def _limiter(state: State) -> RateLimiter:
    limiter = getattr(state, "collect_limiter", None)
    if limiter is None:  # an app used without its lifespan (some tests)
        limiter = state.collect_limiter = RateLimiter(state.settings.collect_rate_limit)
    return limiter


def _writer(state: State) -> GroupWriter:
    writer = getattr(state, "collect_writer", None)
    if writer is None:  # an app used without its lifespan (some tests)
        writer = state.collect_writer = GroupWriter(state.settings.database_url)
    return writer


def basic_user(authorization: str) -> str | None:
    """The HTTP Basic user name (the write key) of an Authorization header, if one was sent."""
    scheme, _, value = authorization.partition(" ")
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


@dataclass
class Answer:
    """What the collector sends back: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _refused(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, failure_body(status, message), headers or {})


async def collect_message(
    state: State, kind: str, body: bytes, authorization: str, encoding: str, client: str
) -> Answer:
    """``POST /v1/<kind>``: limit, inflate, validate, commit, then answer."""
    if kind not in PATH_TYPES and kind not in BATCH_PATHS:
        paths = ", ".join(f"/v1/{k}" for k in (*PATH_TYPES, *BATCH_PATHS))
        return _refused(404, f"There is no collector path /v1/{kind}; use one of: {paths}.")
    key = basic_user(authorization)
    wait = _limiter(state).admit(key or client)
    if wait:
        return _refused(
            429, "Too many requests for this write key.", {"Retry-After": retry_after(wait)}
        )
    if encoding.lower() == "gzip":
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
    outcome = await commit(_writer(state), intake)
    headers = {"WWW-Authenticate": 'Basic realm="clientbook"'} if outcome.status == 401 else {}
    return Answer(outcome.status, outcome.body, headers)


def _json_response(answer: Answer) -> Response:
    return Response(
        orjson.dumps(answer.body),
        status_code=answer.status,
        media_type="application/json",
        headers={**CORS, **answer.headers},
    )


def _preflight_headers(asked: str | None) -> dict[str, str]:
    return {**CORS, "Access-Control-Allow-Headers": asked or "Content-Type, Authorization"}


class CollectorFront:
    """Pure ASGI middleware that serves ``POST`` and ``OPTIONS`` of ``/v1/<kind>`` directly.

    The collector's hot path skips the framework's routing, dependency and middleware layers
    (about a millisecond of CPU per request); the answers are those of the routes below, which
    remain for the OpenAPI description and for everything else under ``/v1/``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        kind = path[4:] if path.startswith("/v1/") else ""
        method = scope.get("method")
        # POST /v1/<kind>, and the preflight of any /v1/ path; the rest goes to the routes
        if not kind or method not in ("POST", "OPTIONS") or (method == "POST" and "/" in kind):
            await self.app(scope, receive, send)
            return
        headers = {name: value for name, value in scope["headers"]}
        if method == "OPTIONS":
            asked = headers.get(b"access-control-request-headers")
            reply = Response(
                status_code=204,
                headers=_preflight_headers(asked.decode("latin-1") if asked else None),
            )
            await reply(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        client = scope.get("client")
        answer = await collect_message(
            scope["app"].state,
            kind,
            b"".join(chunks),
            headers.get(b"authorization", b"").decode("latin-1"),
            headers.get(b"content-encoding", b"").decode("latin-1"),
            client[0] if client else "-",
        )
        await _json_response(answer)(scope, receive, send)


@router.post("/v1/{kind}", summary="Send a message (Segment HTTP Tracking API)")
async def collect(kind: str, request: Request) -> Response:
    """``/v1/identify|track|page|screen|group|alias|batch`` and analytics-next's ``/v1/i|t|...``."""
    answer = await collect_message(
        request.app.state,
        kind,
        await request.body(),
        request.headers.get("authorization", ""),
        request.headers.get("content-encoding", ""),
        request.client.host if request.client else "-",
    )
    return _json_response(answer)


@router.options("/v1/{path:path}", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight of the collector paths (no credentials)."""
    asked = request.headers.get("access-control-request-headers")
    return Response(status_code=204, headers=_preflight_headers(asked))


@router.get("/v1/projects/{write_key}/settings", summary="Settings for analytics-next")
def settings_for_browser(write_key: str, request: Request) -> Response:
    """What ``@segment/analytics-next`` loads first: it sends every event to this server."""
    try:
        with session_scope(_settings(request).database_url, write=False) as session:
            key_owner(session, write_key)
    except ClientbookError as exc:
        return _json_response(
            _refused(exc.status_code if exc.status_code != 401 else 404, str(exc))
        )
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
        return _json_response(_refused(404, f"No analytics-next file {name!r}."))
    return FileResponse(
        path,
        media_type="application/javascript",
        headers={**CORS, "Cache-Control": "max-age=3600"},
    )
