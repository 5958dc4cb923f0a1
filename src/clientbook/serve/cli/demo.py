"""`clientbook demo generate`: build (and load) the demo retailer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clientbook.collect.importers import import_file
from clientbook.demo.generator import LOAD_PLAN, generate
from clientbook.serve.cli.common import DbOption, console, settings_for
from clientbook.store.db import migrate

demo = typer.Typer(help="The demo retailer.", no_args_is_help=True)


@demo.command("generate")
def generate_(
    out: Annotated[Path, typer.Option(help="Folder for the CSV files and ground truth.")] = Path(
        "demo-data"
    ),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    people: Annotated[int, typer.Option(help="Number of persons.", min=10)] = 10_000,
    accounts: Annotated[int, typer.Option(help="Number of B2B accounts.", min=2)] = 300,
    load: Annotated[
        bool, typer.Option("--load/--no-load", help="Import the files into the store.")
    ] = True,
    db: DbOption = None,
) -> None:
    """Write a realistic retailer's files (seeded) to OUT and import them."""
    settings = settings_for(db)
    counts = generate(out, seed=seed, people=people, accounts=accounts)
    console.print(f"Wrote {sum(counts.values()):,} rows to {out}/ (ground truth in truth.csv).")
    if not load:
        return
    migrate(settings.database_url)
    table = Table("file", "kind", "added", "already present")
    for stem, kind, source, customer_source in LOAD_PLAN:
        path = out / f"{stem}.csv"
        if not path.exists():
            continue
        result = import_file(
            settings.database_url,
            kind,
            path,
            source=source,
            customer_source=customer_source,
            region=settings.default_region,
        )
        table.add_row(path.name, kind, f"{result.inserted:,}", f"{result.skipped:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(demo, name="demo")
