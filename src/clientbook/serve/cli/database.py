"""`clientbook init` and `clientbook status`: create or migrate the schema, show what is stored."""

from __future__ import annotations

import typer
from rich.table import Table

from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.db import migrate
from clientbook.store.status import store_status


def init(db: DbOption = None) -> None:
    """Create the database schema, or migrate it to this version of Clientbook."""
    settings = settings_for(db)
    heads = migrate(settings.database_url)
    console.print(f"Schema ready at revision {', '.join(heads)}.")


def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the database URL, the schema version and the row count of each entity."""
    report = store_status(settings_for(db).database_url)
    if as_json:
        print_json(report.model_dump())
        return
    console.print(f"database: {report.database_url}")
    console.print(
        f"schema:   {', '.join(report.schema_revisions) or '(none: run clientbook init)'}"
    )
    table = Table("entity", "rows")
    for name, count in report.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.command("init")(init)
    app.command("status")(status)
