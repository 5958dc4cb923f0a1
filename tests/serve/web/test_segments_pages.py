"""The segment builder, a segment's page and its export; the identity review queue."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.serve.web.conftest import sign_in


def test_build_preview_save_and_export_a_segment(web: TestClient) -> None:
    csrf = sign_in(web, "marketer")
    form = {
        "csrf_token": csrf,
        "name": "leeds-repeaters",
        "description": "Bought at least twice, live in Leeds",
        "join": "all",
        "field_0": "orders",
        "op_0": "gte",
        "value_0": "2",
        "field_1": "city",
        "op_1": "eq",
        "value_1": "Leeds",
    }
    preview = web.post("/segments/preview", data=form, headers={"HX-Request": "true"})
    assert preview.status_code == 200
    size = int(re.search(r"<strong>(\d+)</strong>", preview.text).group(1))
    assert size > 0
    saved = web.post("/segments", data=form)
    assert saved.status_code == 200 and "Segment leeds-repeaters" in saved.text
    assert f'id="segment-members">{size}<' in saved.text
    assert web.get("/segments").text.count("leeds-repeaters") >= 1
    listed = web.get("/customers", params={"segment": "leeds-repeaters"})
    assert f"{size} customer" in listed.text
    exported = web.post(
        "/segments/leeds-repeaters/export",
        data={"csrf_token": csrf, "channel": "email", "purpose": "marketing"},
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0].startswith("customer_id,first_name,last_name")


def test_segment_definition_errors_are_400(web: TestClient) -> None:
    csrf = sign_in(web, "marketer")
    bad_field = {
        "csrf_token": csrf,
        "name": "x",
        "field_0": "password_hash",
        "op_0": "eq",
        "value_0": "1",
    }
    assert web.post("/segments/preview", data=bad_field).status_code == 400
    bad_yaml = {"csrf_token": csrf, "definition": "name: x\nwhere: !!python/object:os.system {}"}
    assert web.post("/segments", data=bad_yaml).status_code == 400
    assert web.get("/segments/Bad Name").status_code in (400, 404)
    assert web.get("/segments/no-such-segment").status_code == 404


def test_agent_cannot_open_segments(web: TestClient) -> None:
    sign_in(web, "agent")
    assert web.get("/segments").status_code == 403
