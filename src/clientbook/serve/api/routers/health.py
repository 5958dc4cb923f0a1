"""``GET /health``: liveness and schema check, no token needed."""

from __future__ import annotations

from fastapi import APIRouter

from clientbook import __version__
from clientbook.serve.api.deps import SettingsDep
from clientbook.store.db import require_schema

router = APIRouter(tags=["health"])


@router.get("/health")
def health(settings: SettingsDep) -> dict[str, object]:
    """Answer 200 when the store is reachable and at the current schema, else 503."""
    require_schema(settings.database_url)
    return {"ok": True, "version": __version__}
