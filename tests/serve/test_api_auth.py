"""The API needs a valid bearer token; errors come as one JSON body."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clientbook.serve.api.app import create_app
from clientbook.store.tokens import create_token, list_tokens, revoke_token


def test_health_needs_no_token(api: TestClient) -> None:
    response = TestClient(api.app).get("/health")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_revoked_token_is_refused(settings) -> None:
    token = create_token(settings.database_url, "short-lived")
    client = TestClient(create_app(settings))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/customers/1", headers=headers).status_code in (200, 404)
    revoke_token(settings.database_url, list_tokens(settings.database_url)[0].id)
    refused = client.get("/api/customers/1", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {
        "ok": False,
        "error": refused.json()["error"],
        "status": 401,
    }
    assert "revoked" in refused.json()["error"]


def test_missing_token_is_refused(settings) -> None:
    response = TestClient(create_app(settings)).get("/api/customers/1")
    assert response.status_code == 401
    assert "bearer token" in response.json()["error"]
