"""``/api/segments``: injection payloads stay plain text or are refused; exports honour consent."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.needs_population import INJECTION, Population, build

SQL = "' OR 1=1 --"
TEMPLATE = "{{7*7}}"


@pytest.fixture
def population(api: TestClient, database_url: str) -> Population:
    return build(database_url)


def _create(api: TestClient, name: str, where: Any) -> Any:
    return api.post("/api/segments", json={"name": name, "where": where})


def test_payloads_in_values_are_compared_as_plain_text(
    api: TestClient, population: Population, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    python = f"__import__('pathlib').Path('{marker}').touch()"
    cases = {
        "unomi": (INJECTION, [5]),  # customer 5 is literally called that
        "template": (TEMPLATE, []),
        "python": (python, []),
        "mro": ("().__class__.__mro__[1].__subclasses__()", []),
        "sql": (SQL, []),
    }
    for name, (payload, members) in cases.items():
        created = _create(api, name, {"field": "first_name", "op": "eq", "value": payload})
        assert created.status_code == 201, created.text
        assert created.json()["refresh"]["members"] == len(members)
        page = api.get(f"/api/segments/{name}/members").json()
        assert [m["customer_id"] for m in page["members"]] == members
        stored = api.get(f"/api/segments/{name}").json()["definition"]
        assert stored["value"] == payload  # kept verbatim, never evaluated or rendered
    like = _create(api, "like", {"field": "city", "op": "contains", "value": "%"})
    assert like.json()["refresh"]["members"] == 0  # wildcards are escaped
    assert not marker.exists()
    total = len(population.customers) - 1
    everyone = _create(api, "everyone", {"field": "id", "op": "gte", "value": 0})
    assert everyone.json()["refresh"]["members"] == total  # no table was harmed


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "where": {"field": "__import__('os').system('id')", "op": "eq", "value": 1}},
        {"name": "x", "where": {"field": "__class__.__mro__", "op": "eq", "value": 1}},
        {"name": "x", "where": {"field": "trait.__class__", "op": "eq", "value": "a"}},
        {"name": "x", "where": {"field": "city; DROP TABLE customers", "op": "eq", "value": "a"}},
        {"name": "x", "where": {"field": "nosuchfield", "op": "eq", "value": "a"}},
        {"name": "x", "where": {"field": "city", "op": "eq' OR 1=1 --", "value": "a"}},
        {"name": "x", "where": {"field": "city", "op": "eq", "value": {"script": INJECTION}}},
        {"name": "x", "where": {"script": INJECTION}},
        {"name": "x", "where": {"mvel": "Runtime.getRuntime().exec('id')"}},
        {"name": "../../etc/passwd", "where": {"field": "city", "op": "eq", "value": "a"}},
        {"name": "x", "where": {"field": "orders", "op": "gte", "value": "1 OR 1=1"}},
        {"name": "x", "where": {"field": "age_band", "op": "eq", "value": TEMPLATE}},
        {"name": "x", "where": {"consent": {"purpose": SQL, "channel": "email"}}},
        {"name": "x", "where": {"field": "city", "op": "eq", "value": "a"}, "eval": "id"},
    ],
)
def test_code_and_sql_in_structure_are_refused(api: TestClient, body: dict[str, Any]) -> None:
    response = api.post("/api/segments", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["ok"] is False
    assert api.get("/api/segments").json() == []


def test_yaml_object_tags_are_refused(api: TestClient) -> None:
    body = "name: x\nwhere: !!python/object/apply:os.system ['id']\n"
    response = api.post("/api/segments", content=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 400
    ok = "name: leeds\nwhere: {field: city, op: eq, value: Leeds}\n"
    response = api.post("/api/segments", content=ok, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 201


def test_export_leaves_out_customers_without_consent(
    api: TestClient, population: Population
) -> None:
    where = {"field": "orders", "op": "gte", "value": 1}
    assert _create(api, "buyers", where).status_code == 201
    response = api.get("/api/segments/buyers/export", params={"channel": "email"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    exported = {int(r["customer_id"]) for r in rows}

    buyers = set(population.orders.customer_id.astype(int))
    c = population.consents.reset_index().rename(columns={"index": "seq"})
    c = c[(c.purpose == "marketing") & c.channel.isin(["email", "all"])]
    latest = c.sort_values(["recorded_at", "seq"]).groupby("customer_id").tail(1)
    consented = set(latest[latest.status == "granted"].customer_id.astype(int))
    customers = population.customers.set_index("id")
    with_email = {int(i) for i in customers[customers.email.notna()].index}
    assert exported == buyers & consented & with_email
    assert int(response.headers["X-Clientbook-Members"]) == len(buyers)
    assert int(response.headers["X-Clientbook-Excluded-No-Consent"]) == len(buyers - consented)
    assert int(response.headers["X-Clientbook-Excluded-No-Address"]) == len(
        (buyers & consented) - with_email
    )
    assert 0 < len(exported) < len(buyers)
    assert (
        api.get("/api/segments/buyers/export", params={"channel": "carrier_pigeon"}).status_code
        == 400
    )


def test_members_history_and_refresh_endpoints(api: TestClient, population: Population) -> None:
    assert _create(api, "leeds", {"field": "city", "op": "eq", "value": "Leeds"}).status_code == 201
    assert _create(api, "leeds", {"field": "city", "op": "eq", "value": "Leeds"}).status_code == 409
    put = api.put(
        "/api/segments/leeds", json={"where": {"field": "city", "op": "eq", "value": "Bath"}}
    )
    assert put.status_code == 200 and put.json()["refresh"]["left"] > 0
    history = api.get("/api/segments/leeds/history").json()
    assert len(history["refreshes"]) == 2 and history["stays"]
    assert api.post("/api/segments/leeds/refresh").json()["entered"] == 0
    assert api.get("/api/segments/nosuch").status_code == 404
    assert api.delete("/api/segments/leeds").status_code == 204
    assert api.get("/api/segments/schema").json()["title"] == "Clientbook segment"
