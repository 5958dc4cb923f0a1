"""`clientbook users`: create (idempotent), list, demo; errors and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from clientbook.serve.cli.main import app
from clientbook.store.users import authenticate

runner = CliRunner()


def test_users_create_list_and_demo(sqlite_url: str) -> None:
    made = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "ann@shop.example",
            "--role",
            "admin",
            "--json",
            "--db",
            sqlite_url,
        ],
    )
    assert made.exit_code == 0, made.output
    password = json.loads(made.output)["password"]
    assert authenticate(sqlite_url, "ann@shop.example", password).role == "admin"
    again = runner.invoke(
        app,
        ["users", "create", "--email", "ann@shop.example", "--role", "agent", "--db", sqlite_url],
    )
    assert again.exit_code == 0 and "Updated agent ann@shop.example" in again.output
    assert authenticate(sqlite_url, "ann@shop.example", password).role == "agent"
    piped = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "ben@shop.example",
            "--role",
            "marketer",
            "--password-stdin",
            "--db",
            sqlite_url,
        ],
        input="a long pass phrase\n",
    )
    assert piped.exit_code == 0 and "Password" not in piped.output
    assert authenticate(sqlite_url, "ben@shop.example", "a long pass phrase").role == "marketer"
    demo = runner.invoke(app, ["users", "demo", "--json", "--db", sqlite_url])
    assert {u["role"] for u in json.loads(demo.output)} == {"admin", "marketer", "agent"}
    listed = runner.invoke(app, ["users", "list", "--json", "--db", sqlite_url])
    assert len(json.loads(listed.output)) == 5
