"""The CLI end to end: documented exit codes, one-line errors, JSON output, the demo load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "clientbook.serve.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_demo_load_status_show_and_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cb.db'}"
    unready = run("status", "--db", db)
    assert unready.returncode == 5
    assert unready.stderr.strip() == (
        "error: The database has no Clientbook schema. Run `clientbook init` first."
    )
    loaded = run(
        "demo",
        "generate",
        "--out",
        str(tmp_path / "demo"),
        "--people",
        "150",
        "--accounts",
        "10",
        "--db",
        db,
    )
    assert loaded.returncode == 0, loaded.stderr
    status = json.loads(run("status", "--json", "--db", db).stdout)
    assert status["counts"]["customers"] > 150 and status["counts"]["orders"] > 100
    shown = run("customer", "show", "1", "--json", "--db", db)
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == 1
    missing = run("customer", "show", "999999", "--db", db)
    assert missing.returncode == 4 and "No customer with id 999999" in missing.stderr
    assert "Traceback" not in missing.stderr

    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id,ordered_at,revenue\n1,c,2026-01-01,abc\n")
    refused = run("import", "orders", str(bad), "--db", db)
    assert refused.returncode == 3
    assert "orders.csv: line 2, column revenue: not a number" in refused.stderr
    token = run("tokens", "create", "--name", "script", "--db", db)
    assert token.returncode == 0 and token.stdout.strip().startswith("cbt_")
    assert len(token.stdout.strip().splitlines()) == 1
    unknown_kind = run("import", "widgets", str(bad), "--db", db)
    assert unknown_kind.returncode == 2 and "Unknown kind 'widgets'" in unknown_kind.stderr
