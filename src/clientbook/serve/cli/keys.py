"""`clientbook keys` (collector write keys) and `clientbook events` (the raw event log)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer
from rich.table import Table

from clientbook.collect.processor import process_all, run
from clientbook.serve.cli.common import (
    DbOption,
    JsonOption,
    console,
    die_with_parent,
    print_json,
    settings_for,
)
from clientbook.store.db import require_schema
from clientbook.store.events import (
    create_write_key,
    event_counts,
    list_write_keys,
    revoke_write_key,
)

keys = typer.Typer(help="Write keys for the event collector (/v1/*).", no_args_is_help=True)
events = typer.Typer(help="The raw events received by the collector.", no_args_is_help=True)


@keys.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What sends with this key (e.g. website).")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="Source name recorded on its events (default: the name)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a write key and print it alone on stdout (only its digest is stored)."""
    url = settings_for(db).database_url
    require_schema(url)
    print(create_write_key(url, name, source))


@keys.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List write keys (name, source, first characters; never the key)."""
    rows = list_write_keys(settings_for(db).database_url)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("id", "name", "source", "key", "created", "revoked")
    for r in rows:
        table.add_row(
            str(r.id), r.name, r.source, r.hint, str(r.created_at)[:19], "yes" if r.revoked else ""
        )
    console.print(table)


@keys.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="Id from `keys list`.")], db: DbOption = None
) -> None:
    """Revoke a write key: the collector refuses it from the next request on."""
    revoke_write_key(settings_for(db).database_url, key_id)
    console.print(f"Write key {key_id} revoked.")


@events.command("process")
def process(
    db: DbOption = None,
    as_json: JsonOption = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep running and apply events as they arrive, until stopped (Ctrl+C or "
            "SIGTERM). `clientbook serve` runs this by itself.",
        ),
    ] = False,
    niceness: Annotated[
        int, typer.Option("--nice", help="Lower this process's CPU priority by this much.")
    ] = 0,
    exit_with: Annotated[int | None, typer.Option("--exit-with", hidden=True)] = None,
) -> None:
    """Apply every pending event to the customer record (the server does this by itself)."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    if niceness:
        os.nice(niceness)
    if exit_with is not None:
        _exit_with(exit_with)
    if follow:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
        report = run(settings, stop, parent=exit_with)
    else:
        report = process_all(settings)
    if as_json:
        print_json({"processed": report.processed, "failed": report.failed})
        return
    console.print(f"{report.processed} events processed, {report.failed} failed.")


def _exit_with(parent: int) -> None:
    """Be killed when the parent process ends (Linux), and end now if it already has."""
    die_with_parent()
    if os.getppid() != parent:
        raise typer.Exit(0)


@events.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """How many events are stored, pending and failed."""
    counts = event_counts(settings_for(db).database_url)
    if as_json:
        print_json(counts)
        return
    console.print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(keys, name="keys")
    app.add_typer(events, name="events")
