"""Admin pages: users and roles, API keys, settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import make_url

from clientbook.config import Settings
from clientbook.errors import UsageError
from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.auth import AdminDep, CsrfDep
from clientbook.serve.web.templating import render
from clientbook.store.db import schema_revisions
from clientbook.store.models.users import ROLES
from clientbook.store.tokens import create_token, list_tokens, revoke_token
from clientbook.store.users import create_user, list_users, set_disabled

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/users")
def users(request: Request, settings: SettingsDep, web_session: AdminDep) -> Response:
    """Everyone who can sign in, and a form to add someone."""
    return render(
        request, "admin_users.html", {"users": list_users(settings.database_url), "roles": ROLES}
    )


@router.post("/users", dependencies=[CsrfDep])
def add_user(
    request: Request,
    settings: SettingsDep,
    web_session: AdminDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form()],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Create a user (or reset the role and password of an existing one)."""
    create_user(settings.database_url, email, role, password)
    return RedirectResponse("/admin/users", 303)


@router.post("/users/{user_id}/disable", dependencies=[CsrfDep])
def disable_user(
    user_id: int, settings: SettingsDep, web_session: AdminDep, disabled: Annotated[str, Form()]
) -> Response:
    """Disable (and sign out) or re-enable a user."""
    if user_id == web_session.user.id:
        raise UsageError("You cannot disable yourself.")
    set_disabled(settings.database_url, user_id, disabled == "yes")
    return RedirectResponse("/admin/users", 303)


@router.get("/keys")
def keys(request: Request, settings: SettingsDep, web_session: AdminDep) -> Response:
    """API bearer tokens (names only; a new token is shown once)."""
    return render(request, "admin_keys.html", {"tokens": list_tokens(settings.database_url)})


@router.post("/keys", dependencies=[CsrfDep])
def add_key(
    request: Request,
    settings: SettingsDep,
    web_session: AdminDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    """Create a token and show it this once."""
    token = create_token(settings.database_url, name.strip())
    context = {"tokens": list_tokens(settings.database_url), "new_token": token, "name": name}
    return render(request, "admin_keys.html", context)


@router.post("/keys/{token_id}/revoke", dependencies=[CsrfDep])
def revoke_key(token_id: int, settings: SettingsDep, web_session: AdminDep) -> Response:
    """Revoke a token."""
    revoke_token(settings.database_url, token_id)
    return RedirectResponse("/admin/keys", 303)


def shown_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, description) for every setting; secrets in URLs hidden."""
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if name.endswith("_url") and isinstance(value, str):
            value = make_url(value).render_as_string(hide_password=True)
        elif any(word in name for word in ("secret", "password", "key")):
            value = "(set)" if value else "(not set)"
        rows.append((f"CLIENTBOOK_{name.upper()}", str(value), field.description or ""))
    return rows


@router.get("/settings")
def settings_page(request: Request, settings: SettingsDep, web_session: AdminDep) -> Response:
    """The settings in force (read-only: they come from CLIENTBOOK_* variables)."""
    context = {
        "settings_rows": shown_settings(settings),
        "revisions": schema_revisions(settings.database_url),
    }
    return render(request, "admin_settings.html", context)
