"""`clientbook demo generate|setup`: build (and load) the demo retailer, or the whole demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clientbook.demo.generator import generate
from clientbook.demo.setup import load_demo, setup_demo
from clientbook.serve.cli.common import DbOption, console, settings_for
from clientbook.serve.cli.users import print_credentials

demo = typer.Typer(help="The demo retailer.", no_args_is_help=True)

OutOption = Annotated[
    Path, typer.Option("--out", help="Folder for the CSV files and ground truth.")
]
SeedOption = Annotated[int, typer.Option(help="Random seed (same seed, same data).")]
PeopleOption = Annotated[int, typer.Option(help="Number of persons.", min=10)]
AccountsOption = Annotated[int, typer.Option(help="Number of B2B accounts.", min=2)]


@demo.command("generate")
def generate_(
    out: OutOption = Path("demo-data"),
    seed: SeedOption = 7,
    people: PeopleOption = 10_000,
    accounts: AccountsOption = 300,
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
    table = Table("file", "kind", "added", "already present")
    for f in load_demo(settings, out):
        table.add_row(f.path.name, f.kind, f"{f.result.inserted:,}", f"{f.result.skipped:,}")
    console.print(table)


@demo.command("setup")
def setup(
    out: OutOption = Path("demo-data"),
    seed: SeedOption = 7,
    people: PeopleOption = 10_000,
    accounts: AccountsOption = 300,
    db: DbOption = None,
) -> None:
    """What `make demo` runs: generate and load the retailer into an empty store, resolve
    identities, run the value and needs analytics, create the demo users (steps already done
    are skipped)."""
    settings = settings_for(db)
    credentials = setup_demo(
        settings,
        out,
        seed=seed,
        people=people,
        accounts=accounts,
        say=lambda line: console.print(line, markup=False, highlight=False),
    )
    print_credentials(credentials)


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(demo, name="demo")
