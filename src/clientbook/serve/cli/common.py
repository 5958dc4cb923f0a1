"""Options and output helpers shared by every command module."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from clientbook.config import Settings, get_settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: CLIENTBOOK_DATABASE_URL, else sqlite:///./clientbook.db).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

console = Console()
err_console = Console(stderr=True)


def settings_for(db: str | None) -> Settings:
    """The settings, with the database given by ``--db`` if any."""
    return get_settings().with_database(db)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
