"""API bearer tokens: created once, stored as SHA-256 digests, checked on every request."""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel
from sqlalchemy import select, update

from clientbook.errors import NotFound, NotPermitted
from clientbook.store.db import session_scope
from clientbook.store.models.access import ApiToken
from clientbook.store.models.base import utcnow

TOKEN_PREFIX = "cbt_"


class TokenInfo(BaseModel):
    """A token as listed (never the token itself)."""

    id: int
    name: str
    created_at: str
    revoked: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(url: str, name: str) -> str:
    """Create a token named ``name`` and return it; only its digest is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope(url) as session:
        session.add(ApiToken(name=name, token_hash=_digest(token)))
    return token


def list_tokens(url: str) -> list[TokenInfo]:
    """Every token, newest first."""
    with session_scope(url, write=False) as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
        return [
            TokenInfo(
                id=r.id, name=r.name, created_at=str(r.created_at), revoked=r.revoked_at is not None
            )
            for r in rows
        ]


def revoke_token(url: str, token_id: int) -> None:
    """Revoke a token by its id; it stops working at once."""
    with session_scope(url) as session:
        done = session.execute(  # type: ignore[attr-defined]
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
    if not done:
        raise NotFound(f"No active token with id {token_id}.", hint="See `clientbook tokens list`.")


def check_token(url: str, token: str) -> str:
    """Return the name of the token, or raise NotPermitted if it is unknown or revoked."""
    with session_scope(url, write=False) as session:
        name = session.scalar(
            select(ApiToken.name).where(
                ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)
            )
        )
    if name is None:
        raise NotPermitted(
            "The bearer token is unknown or revoked.",
            hint="Create one with `clientbook tokens create`.",
        )
    return name
