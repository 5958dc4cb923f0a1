"""The `clientbook identity` commands and `/api/identity`, end to end on a small store."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clientbook.serve.cli.main import app
from clientbook.store.db import session_scope
from tests.identity.records import add_record

runner = CliRunner()


def load(url: str) -> None:
    with session_scope(url) as session:
        add_record(session, "crm", "1", first_name="Ann", email="ann@example.com", user_id="a")
        add_record(session, "shop", "9", first_name="Ann", email="ann@example.com")
        add_record(session, "web", "m", user_id="mum", email="fam@example.com")
        add_record(session, "web", "s", user_id="son", email="fam@example.com")


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_resolve_dry_run_review_unmerge_export(database_url: str, tmp_path: Path) -> None:
    load(database_url)
    db = ("--db", database_url)
    dry = json.loads(cli("identity", "resolve", "--dry-run", "--no-probabilistic", "--json", *db))
    assert dry["dry_run"] and dry["deterministic_merges"] == 1
    assert "would merge 1 customers" in cli("identity", "resolve", "--dry-run", *db)
    done = json.loads(cli("identity", "resolve", "--json", *db))
    assert done["deterministic_merges"] == 1 and done["review_pairs"] == 1
    pairs = json.loads(cli("identity", "review", "--json", *db))
    assert len(pairs) == 1 and pairs[0]["left"]["identifiers"]
    assert "kept_apart" in cli("identity", "review", "--keep-apart", str(pairs[0]["id"]), *db)
    assert json.loads(cli("identity", "review", "--json", *db)) == []
    merges = json.loads(cli("identity", "merges", "--json", *db))
    assert [m["rule"] for m in merges] == ["deterministic"]
    assert "undone" in cli("identity", "unmerge", str(merges[0]["id"]), *db)
    out = tmp_path / "ids.csv"
    cli("identity", "export", "--out", str(out), *db)
    lines = out.read_text().splitlines()
    assert lines[0] == "source,source_record_id,customer_id" and len(lines) == 5
    assert len({line.rsplit(",", 1)[1] for line in lines[1:]}) == 4
    cli("identity", "shared", *db)


def test_cli_unmerge_needs_an_id(sqlite_url: str) -> None:
    result = runner.invoke(app, ["identity", "unmerge", "--db", sqlite_url])
    assert result.exit_code != 0


def test_api_review_and_unmerge(api: TestClient, settings) -> None:  # noqa: ANN001
    load(settings.database_url)
    cli("identity", "resolve", "--no-probabilistic", "--db", settings.database_url)
    pairs = api.get("/api/identity/review").json()
    assert len(pairs) == 1 and pairs[0]["status"] == "pending"
    decided = api.post(f"/api/identity/review/{pairs[0]['id']}", json={"decision": "merge"})
    assert decided.status_code == 200 and decided.json()["status"] == "merged"
    again = api.post(f"/api/identity/review/{pairs[0]['id']}", json={"decision": "merge"})
    assert again.status_code == 409 and again.json()["ok"] is False
    assert api.post("/api/identity/review/999", json={"decision": "merge"}).status_code == 404
    bad = api.post(f"/api/identity/review/{pairs[0]['id']}", json={"decision": "maybe"})
    assert bad.status_code == 400
    merges = api.get("/api/identity/merges").json()
    assert [m["rule"] for m in merges] == ["review", "deterministic"]
    undone = api.post(f"/api/identity/merges/{merges[0]['id']}/unmerge")
    assert undone.status_code == 200 and undone.json()["rows_moved_back"] > 0
    assert api.get("/api/identity/review", params={"status": "kept_apart"}).json()
    assert TestClient(api.app).get("/api/identity/review").status_code == 401
