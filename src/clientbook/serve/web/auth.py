"""Sign-in, sessions in HTTP-only cookies, roles, and CSRF tokens on every form."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clientbook.errors import Forbidden, NotPermitted
from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.templating import can, render
from clientbook.store.users import (
    SESSION_LIFETIME,
    SessionInfo,
    authenticate,
    end_session,
    session_user,
    start_session,
)

SESSION_COOKIE = "cb_session"
LOGIN_CSRF_COOKIE = "cb_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    """Raised by page guards when nobody is signed in; answered with a redirect to /login."""


def secure_cookies(request: Request) -> bool:
    """Mark cookies Secure on HTTPS; plain HTTP is accepted only on the loopback interface."""
    return request.url.scheme == "https" or request.url.hostname in ("127.0.0.1", "localhost")


def _set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax" if name == SESSION_COOKIE else "strict",
        path="/",
    )


def current_session(request: Request, settings: SettingsDep) -> SessionInfo | None:
    """The session of the request's cookie, if any (cached on the request)."""
    if not hasattr(request.state, "web_session"):
        token = request.cookies.get(SESSION_COOKIE)
        found = session_user(settings.database_url, token) if token else None
        request.state.web_session = found
    found_session: SessionInfo | None = request.state.web_session
    return found_session


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in (never another site: no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def require(role: str) -> object:
    """A dependency admitting users with at least ``role``; returns the session."""

    def guard(
        request: Request, web_session: Annotated[SessionInfo | None, Depends(current_session)]
    ) -> SessionInfo:
        if web_session is None:
            raise SignInRequired(request.url.path)
        if not can(web_session.user.role, role):
            raise Forbidden(
                f"This page is for {role}s; you are signed in as {web_session.user.role}.",
                hint="Ask an admin if you need access.",
            )
        return web_session

    return Depends(guard)


async def verify_csrf(
    request: Request, web_session: Annotated[SessionInfo | None, Depends(current_session)]
) -> None:
    """Refuse a form whose CSRF token is missing or does not match the session's."""
    if web_session is None:
        raise SignInRequired(request.url.path)
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(sent, str) or not secrets.compare_digest(sent, web_session.csrf_token):
        raise Forbidden(
            "The form's security token is missing or out of date.",
            hint="Reload the page and try again.",
        )


AgentDep = Annotated[SessionInfo, require("agent")]
MarketerDep = Annotated[SessionInfo, require("marketer")]
AdminDep = Annotated[SessionInfo, require("admin")]
CsrfDep = Depends(verify_csrf)


def home_for(role: str) -> str:
    """Where a user lands after signing in."""
    return "/dashboard" if can(role, "marketer") else "/customers"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    """The sign-in form (with a CSRF token bound to a short-lived cookie)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", {"login_csrf": token, "next": safe_next(next)})
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success start a session and go on."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token, expected):
        raise Forbidden(
            "The form's security token is missing or out of date.",
            hint="Reload the sign-in page and try again.",
        )
    try:
        user = authenticate(settings.database_url, email, password)
    except NotPermitted as exc:
        context = {"login_csrf": expected, "next": safe_next(next), "error": exc.message}
        context["email"] = email
        return render(request, "login.html", context, status=401)
    token, _info = start_session(settings.database_url, user.id)
    target = safe_next(next)
    response = RedirectResponse(home_for(user.role) if target == "/" else target, 303)
    _set_cookie(response, request, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, settings: SettingsDep) -> Response:
    """Sign out and forget the session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(settings.database_url, token)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(web_session: AgentDep) -> Response:
    """The dashboard for marketers and admins, the customer search for agents."""
    return RedirectResponse(home_for(web_session.user.role), 303)


def login_redirect(path: str) -> RedirectResponse:
    """Send the browser to the sign-in page, coming back to ``path`` afterwards."""
    return RedirectResponse(f"/login?next={quote(safe_next(path))}", 303)
