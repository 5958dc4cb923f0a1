"""The identity review queue in the web application: pairs side by side, merge or keep apart."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.serve.web.conftest import sign_in

from clientbook.store.db import session_scope
from clientbook.store.models.identity import IdentityReview
from clientbook.store.models.parties import Customer


def _pairs(url: str) -> list[int]:
    with session_scope(url) as session:
        twin = Customer(first_name="Ann", last_name="Smyth", email="ann.smyth@example.com")
        other = Customer(first_name="Anne", last_name="Smith", city="York")
        session.add_all([twin, other])
        session.flush()
        reviews = [
            IdentityReview(
                left_id=1,
                right_id=twin.id,
                rule="probabilistic",
                reason="name, city",
                probability=0.91,
            ),
            IdentityReview(
                left_id=1, right_id=other.id, rule="probabilistic", reason="name", probability=0.62
            ),
        ]
        session.add_all(reviews)
        session.flush()
        return [r.id for r in reviews]


def test_decide_pairs_side_by_side(web: TestClient) -> None:
    url = web.app.state.settings.database_url
    first, second = _pairs(url)
    csrf = sign_in(web, "marketer")
    page = web.get("/review").text
    assert page.index(f"Pair {first}") < page.index(f"Pair {second}")  # most probable first
    assert "ann.smyth@example.com" in page and "91.0% match" in page
    merged = web.post(f"/review/{first}", data={"decision": "merge", "csrf_token": csrf})
    assert merged.status_code == 200 and f"Pair {first}" not in merged.text
    survivor = web.get("/customers/1").text
    assert "<h3>Merges</h3>" in survivor and "merged into #1" in survivor
    apart = web.post(f"/review/{second}", data={"decision": "keep_apart", "csrf_token": csrf})
    assert "No pair waits for a decision." in apart.text
    again = web.post(f"/review/{first}", data={"decision": "merge", "csrf_token": csrf})
    assert again.status_code == 409
    bad = web.post(f"/review/{second}", data={"decision": "maybe", "csrf_token": csrf})
    assert bad.status_code == 400


def test_agent_cannot_review(web: TestClient) -> None:
    sign_in(web, "agent")
    assert web.get("/review").status_code == 403
