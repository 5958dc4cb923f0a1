"""`clientbook import KIND FILE`: load customers, accounts, products, orders, contacts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from clientbook.collect.importers import KINDS, import_file
from clientbook.errors import UsageError
from clientbook.serve.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    print_json,
    settings_for,
)
from clientbook.store.db import require_schema


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["src=canonical", ...]`` as a dict; a pair without ``=`` is a usage error."""
    mapping = {}
    for pair in pairs:
        source, sep, canonical = pair.partition("=")
        if not sep or not source or not canonical:
            raise UsageError(f"--map {pair!r} is not SOURCE_COLUMN=CANONICAL_COLUMN.")
        mapping[source] = canonical
    return mapping


def import_(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
    file: Annotated[Path, typer.Argument(help="A .csv, .parquet or .jsonl file.")],
    source: Annotated[
        str | None, typer.Option(help="Where the records come from (default: the file's name).")
    ] = None,
    customer_source: Annotated[
        str | None,
        typer.Option(help="Source whose ids the customer_id column holds (default: --source)."),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Rename a column: SOURCE_COLUMN=CANONICAL_COLUMN (repeat)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate FILE and load it in one go: any bad row loads nothing (exit code 3)."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    with Progress(
        TextColumn(f"importing {kind}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
        transient=True,
    ) as bar:
        task = bar.add_task(kind, total=None)
        result = import_file(
            settings.database_url,
            kind,
            file,
            source=source,
            customer_source=customer_source,
            mapping=parse_mapping(map_ or []),
            region=settings.default_region,
            progress=lambda n: bar.advance(task, n),
            batch_size=settings.import_batch_size,
        )
    if as_json:
        print_json(result.model_dump())
        return
    console.print(
        f"{file.name}: {result.rows:,} rows, {result.inserted:,} {kind} added, "
        f"{result.skipped:,} already present, {result.customers_created:,} new customers "
        f"(source {result.source})."
    )


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.command("import")(import_)
