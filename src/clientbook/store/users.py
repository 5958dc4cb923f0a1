"""Users of the web application: argon2-hashed passwords, roles, and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import delete, func, select

from clientbook.errors import InvalidInput, NotFound, NotPermitted, UsageError
from clientbook.store.db import session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.users import ROLES, User, WebSession

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that a wrong e-mail costs as long as a wrong
# password and sign-in timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash("clientbook-no-such-user")

#: The demo users `clientbook demo` creates (passwords are public: demo data only).
DEMO_USERS = (
    ("admin@demo.clientbook.dev", "admin", "demo-admin-pass"),
    ("marketer@demo.clientbook.dev", "marketer", "demo-marketer-pass"),
    ("agent@demo.clientbook.dev", "agent", "demo-agent-pass"),
)


class UserOut(BaseModel):
    """A user as shown (never the password hash)."""

    id: int
    email: str
    role: str
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool


class SessionInfo(BaseModel):
    """The signed-in user of a session and the session's CSRF token."""

    user: UserOut
    csrf_token: str


class DemoCredential(BaseModel):
    """E-mail, role and password of a demo user."""

    email: str
    role: str
    password: str


def _out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        role=user.role,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        disabled=user.disabled_at is not None,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check(email: str, role: str, password: str | None) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise UsageError(f"{email!r} is not an e-mail address.")
    if role not in ROLES:
        raise UsageError(f"Unknown role {role!r}.", hint=f"Use one of: {', '.join(ROLES)}.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    return email


def create_user(url: str, email: str, role: str, password: str | None) -> tuple[UserOut, bool]:
    """Create a user, or update the role (and the password, if given) of an existing one.

    Returns the user and whether it was newly created, so that scripts may run it twice.
    A new user needs a password.
    """
    email = _check(email, role, password)
    hashed = _hasher.hash(password) if password is not None else None
    with session_scope(url) as session:
        user = session.scalar(select(User).where(User.email == email))
        created = user is None
        if user is None:
            if hashed is None:
                raise UsageError(f"A new user ({email}) needs a password.")
            user = User(email=email, role=role, password_hash=hashed)
            session.add(user)
        else:
            if hashed is not None or user.role != role:
                session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            user.role, user.disabled_at = role, None
            user.password_hash = hashed or user.password_hash
        session.flush()
        return _out(user), created


def user_exists(url: str, email: str) -> bool:
    """Whether someone signs in with this e-mail."""
    with session_scope(url, write=False) as session:
        found = session.scalar(select(User.id).where(User.email == email.strip().lower()))
        return found is not None


def ensure_demo_users(url: str) -> list[DemoCredential]:
    """Create (or reset) the demo admin, marketer and agent; return their credentials."""
    for email, role, password in DEMO_USERS:
        create_user(url, email, role, password)
    return [DemoCredential(email=e, role=r, password=p) for e, r, p in DEMO_USERS]


def list_users(url: str) -> list[UserOut]:
    """Every user, by e-mail."""
    with session_scope(url, write=False) as session:
        return [_out(u) for u in session.scalars(select(User).order_by(User.email))]


def count_users(url: str) -> int:
    """How many users exist."""
    with session_scope(url, write=False) as session:
        return session.scalar(select(func.count(User.id))) or 0


def set_disabled(url: str, user_id: int, disabled: bool) -> UserOut:
    """Disable (and sign out) or re-enable a user."""
    with session_scope(url) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        user.disabled_at = utcnow() if disabled else None
        if disabled:
            session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        session.flush()
        return _out(user)


def authenticate(url: str, email: str, password: str) -> UserOut:
    """The user with this e-mail and password; NotPermitted otherwise (same message either way)."""
    refused = NotPermitted("Wrong e-mail or password.")
    with session_scope(url) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            raise refused from None
        if user is None or user.disabled_at is not None:
            raise refused
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = utcnow()
        session.flush()
        return _out(user)


def start_session(url: str, user_id: int) -> tuple[str, SessionInfo]:
    """Open a session for the user; returns the cookie token (stored only as a digest)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with session_scope(url) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        now = utcnow()
        session.execute(delete(WebSession).where(WebSession.expires_at < now))
        session.add(
            WebSession(
                token_hash=_digest(token),
                user_id=user_id,
                csrf_token=csrf,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        return token, SessionInfo(user=_out(user), csrf_token=csrf)


def session_user(url: str, token: str) -> SessionInfo | None:
    """The session of a cookie token, or None when unknown, expired or the user is disabled."""
    with session_scope(url, write=False) as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == _digest(token))
        ).first()
        if row is None:
            return None
        web_session, user = row
        expires = web_session.expires_at
        if expires.tzinfo is None:  # SQLite hands back naive UTC instants
            expires = expires.replace(tzinfo=UTC)
        if expires < datetime.now(UTC) or user.disabled_at is not None:
            return None
        return SessionInfo(user=_out(user), csrf_token=web_session.csrf_token)


def end_session(url: str, token: str) -> None:
    """Sign out: forget the session."""
    with session_scope(url) as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
