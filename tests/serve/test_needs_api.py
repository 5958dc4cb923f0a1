"""Consents, declared preferences and questionnaires through the API; they show on the 360."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clientbook.store.db import session_scope
from clientbook.store.models.parties import Customer

FORM = {
    "key": "style-survey",
    "title": "Tell us what you like",
    "questions": [
        {
            "id": "size",
            "text": "Your size?",
            "kind": "single",
            "options": ["S", "M", "L"],
            "preference_key": "size",
        },
        {
            "id": "colours",
            "text": "Colours you like?",
            "kind": "multi",
            "options": ["red", "blue", "{{7*7}}"],
            "preference_key": "colour",
        },
        {"id": "comment", "text": "Anything else?", "kind": "text"},
    ],
}


def _customer(url: str) -> int:
    with session_scope(url) as session:
        c = Customer(first_name="Ann", traits={})
        session.add(c)
        session.flush()
        return c.id


def test_questionnaire_answers_become_declared_preferences(
    api: TestClient, database_url: str
) -> None:
    cid = _customer(database_url)
    assert api.post("/api/questionnaires", json=FORM).status_code == 201
    assert api.post("/api/questionnaires", json=FORM).status_code == 409
    bad = {**FORM, "key": "x", "questions": [{"id": "__class__", "text": "?"}]}
    assert api.post("/api/questionnaires", json=bad).status_code == 400
    answers = {"size": "M", "colours": ["red", "{{7*7}}"], "comment": "__import__('os')"}
    sent = api.post(
        "/api/questionnaires/style-survey/responses",
        json={"customer_id": cid, "answers": answers, "source": "web-form"},
    )
    assert sent.status_code == 201, sent.text
    assert sorted((p["key"], p["value"]) for p in sent.json()["preferences"]) == [
        ("colour", "red"),
        ("colour", "{{7*7}}"),
        ("size", "M"),
    ]
    refused = api.post(
        "/api/questionnaires/style-survey/responses",
        json={"customer_id": cid, "answers": {"size": "XXL"}, "source": "web"},
    )
    assert refused.status_code == 400
    unknown = api.post(
        "/api/questionnaires/style-survey/responses",
        json={"customer_id": cid, "answers": {"nope": "1"}, "source": "web"},
    )
    assert unknown.status_code == 400
    prefs = api.get(f"/api/customers/{cid}/preferences").json()
    assert {p["origin"] for p in prefs} == {"questionnaire:style-survey (web-form)"}
    three60 = api.get(f"/api/customers/{cid}").json()
    assert {(p["key"], p["value"]) for p in three60["preferences"]} >= {("size", "M")}


def test_consent_and_preference_endpoints(api: TestClient, database_url: str) -> None:
    cid = _customer(database_url)
    body = {"purpose": "marketing", "channel": "email", "status": "granted", "source": "web"}
    assert api.post(f"/api/customers/{cid}/consents", json=body).status_code == 201
    body["status"] = "withdrawn"
    assert api.post(f"/api/customers/{cid}/consents", json=body).status_code == 201
    assert api.get(f"/api/customers/{cid}/consents").json()[0]["status"] == "withdrawn"
    assert len(api.get(f"/api/customers/{cid}/consents?history=true").json()) == 2
    body["status"] = "maybe"
    assert api.post(f"/api/customers/{cid}/consents", json=body).status_code == 400
    pref = {"key": "contact_time", "value": "evenings", "origin": "call-centre:agent7"}
    assert api.post(f"/api/customers/{cid}/preferences", json=pref).status_code == 201
    assert (
        api.get(f"/api/customers/{cid}/preferences?source=declared").json()[0]["value"]
        == "evenings"
    )
    assert api.get(f"/api/customers/{cid}/web-behaviour").status_code == 404
