"""The value commands and the customer 360's value section."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clientbook.serve.cli.main import app
from tests.analytics.factory import populate


def test_analyse_and_clv_fit_commands(sqlite_url: str) -> None:
    populate(sqlite_url, customers=150)
    runner = CliRunner()
    out = runner.invoke(app, ["analyse", "--db", sqlite_url, "--as-of", "2025-06-30", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["customers"] == 150 and report["engine"] == "duckdb"
    out = runner.invoke(
        app,
        [
            "clv",
            "fit",
            "--db",
            sqlite_url,
            "--model",
            "pareto-nbd",
            "--calibration-end",
            "2025-01-31",
            "--holdout-end",
            "2025-06-30",
            "--time-unit",
            "day",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    fitted = json.loads(out.output)
    assert set(fitted["params"]) == {"r", "alpha", "s", "beta"}
    assert fitted["holdout"]["actual_total"] > 0
    out = runner.invoke(app, ["analyse", "--db", sqlite_url, "--as-of", "30/06/2025"])
    assert out.exit_code != 0


def test_customer_360_shows_value(api: TestClient, settings: object) -> None:
    url = settings.database_url  # type: ignore[attr-defined]
    ids = populate(url, customers=60)
    runner = CliRunner()
    assert runner.invoke(app, ["analyse", "--db", url, "--as-of", "2025-06-30"]).exit_code == 0
    body = api.get(f"/api/customers/{ids['survivor']}").json()
    value = body["value"]
    assert value["as_of"] == "2025-06-30"
    assert value["lifecycle_stage"] == body["lifecycle_stage"]
    assert value["rfm_segment"] and value["clv"] is not None
    assert len(value["history"]) == 1 and value["stage_changes"][0]["from_stage"] is None
    assert api.get(f"/api/customers/{ids['visitor']}").json()["value"]["clv"] is None


def test_analytics_summary(api: TestClient, settings: object) -> None:
    url = settings.database_url  # type: ignore[attr-defined]
    assert api.get("/api/analytics/summary").json() == {"run": None}
    populate(url, customers=80)
    assert CliRunner().invoke(app, ["analyse", "--db", url, "--as-of", "2025-06-30"]).exit_code == 0
    body = api.get("/api/analytics/summary").json()
    assert body["customers"] == 80
    assert 0 < body["clv"]["top_10_percent_share"] <= body["clv"]["top_20_percent_share"] <= 1
    assert sum(c["customers"] for c in body["rfm_grid"]) == sum(body["rfm_segments"].values())
    assert [s["stage"] for s in body["lifecycle_funnel"]][0] == "anonymous_visitor"
    assert body["cohort_retention"] and body["revenue_by_channel"]
    assert body["cost_to_serve_by_channel"] and len(body["top_customers"]) == 10
