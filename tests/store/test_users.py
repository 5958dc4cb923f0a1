"""Users: argon2 hashes, idempotent creation, sign-in, sessions."""

from __future__ import annotations

import pytest

from clientbook.errors import InvalidInput, NotPermitted, UsageError
from clientbook.store.users import (
    authenticate,
    create_user,
    end_session,
    ensure_demo_users,
    session_user,
    set_disabled,
    start_session,
)


def test_create_authenticate_and_sessions(database_url: str) -> None:
    user, created = create_user(database_url, "Ann@Shop.example", "agent", "correct horse")
    assert created and user.email == "ann@shop.example"
    again, created = create_user(database_url, "ann@shop.example", "marketer", None)
    assert not created and again.role == "marketer"
    assert authenticate(database_url, "ANN@shop.example", "correct horse").id == user.id
    with pytest.raises(NotPermitted, match="Wrong e-mail or password"):
        authenticate(database_url, "ann@shop.example", "wrong horse")
    with pytest.raises(NotPermitted, match="Wrong e-mail or password"):
        authenticate(database_url, "nobody@shop.example", "correct horse")
    token, info = start_session(database_url, user.id)
    found = session_user(database_url, token)
    assert found is not None and found.csrf_token == info.csrf_token
    assert session_user(database_url, token + "x") is None
    end_session(database_url, token)
    assert session_user(database_url, token) is None
    token, _ = start_session(database_url, user.id)
    set_disabled(database_url, user.id, True)
    assert session_user(database_url, token) is None
    with pytest.raises(NotPermitted):
        authenticate(database_url, "ann@shop.example", "correct horse")


def test_rules(database_url: str) -> None:
    with pytest.raises(UsageError):
        create_user(database_url, "a@b.example", "root", "long enough pw")
    with pytest.raises(InvalidInput):
        create_user(database_url, "a@b.example", "agent", "short")
    with pytest.raises(UsageError):
        create_user(database_url, "a@b.example", "agent", None)


def test_demo_users_are_idempotent(database_url: str) -> None:
    first = ensure_demo_users(database_url)
    second = ensure_demo_users(database_url)
    assert first == second and {c.role for c in first} == {"admin", "marketer", "agent"}
    for c in second:
        assert authenticate(database_url, c.email, c.password).role == c.role
