"""Docs that cannot drift: every setting, CLI command and API route is in the README."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import typer

from clientbook.config import Settings
from clientbook.serve.api.app import create_app
from clientbook.serve.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands(command: click.Command, path: str) -> Iterator[str]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")
    else:
        yield path


def test_every_setting_is_in_the_readme() -> None:
    missing = [
        f"CLIENTBOOK_{name.upper()}"
        for name in Settings.model_fields
        if f"CLIENTBOOK_{name.upper()}" not in README
    ]
    assert not missing, f"settings missing from README.md: {missing}"


def test_every_command_is_in_the_readme() -> None:
    root = typer.main.get_command(main.build())
    missing = [path for path in _commands(root, "clientbook") if path not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_api_route_is_in_the_readme() -> None:
    paths = create_app(Settings(database_url="sqlite:///unused.db")).openapi()["paths"]
    assert paths, "the app documents no route"
    documented = set()
    for line in README.splitlines():
        # rows of the route tables: | `GET` | `/api/customers/{customer_id}` | ...
        for methods, path in re.findall(r"^\| `([A-Z, ]+)` \| `(/[^`]*)`", line):
            documented |= {(m.strip(), path) for m in methods.split(",")}
    missing = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method in operations
        if (method.upper(), path) not in documented
    ]
    assert not missing, f"API routes missing from README.md's route tables: {missing}"
