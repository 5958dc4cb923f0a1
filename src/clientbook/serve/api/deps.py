"""Dependencies shared by the routers: settings, and the bearer-token guard of ``/api``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clientbook.config import Settings
from clientbook.errors import NotPermitted
from clientbook.store.tokens import check_token

_bearer = HTTPBearer(auto_error=False, description="A token from `clientbook tokens create`.")


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Admit a request with a valid bearer token; return the token's name."""
    if credentials is None:
        raise NotPermitted(
            "This endpoint needs a bearer token.",
            hint="Send 'Authorization: Bearer TOKEN'; create one with `clientbook tokens create`.",
        )
    return check_token(settings.database_url, credentials.credentials)


TokenDep = Annotated[str, Depends(require_token)]
