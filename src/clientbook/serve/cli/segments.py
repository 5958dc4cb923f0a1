"""`clientbook segment`: segments in the declarative language, their members, exports, refresh."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clientbook.engage.exports import export_segment_csv
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
from clientbook.store.segment_fields import field_registry
from clientbook.store.segment_language import SCHEMA
from clientbook.store.segments import (
    delete_segment,
    get_segment,
    list_segments,
    refresh_due,
    refresh_segment,
    save_segment,
    segment_history,
    segment_members,
)

segment = typer.Typer(help="Segments: define, refresh, list members, export.", no_args_is_help=True)


def _url(db: str | None) -> str:
    url = settings_for(db).database_url
    require_schema(url)
    return url


@segment.command("create")
def create(
    file: Annotated[str, typer.Argument(help="A JSON or YAML definition file, or - for stdin.")],
    replace: Annotated[bool, typer.Option("--replace", help="Replace an existing one.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh/--no-refresh", help="Refresh now.")] = True,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create (or --replace) a segment from its definition, and refresh it."""
    url = _url(db)
    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"No file {file!r}.")
        text = path.read_text(encoding="utf-8")
    saved = save_segment(url, text, replace=replace)
    result = refresh_segment(url, saved.name) if refresh else None
    if as_json:
        print_json({"segment": saved.model_dump(), "refresh": result and result.model_dump()})
        return
    console.print(f"Segment {saved.name} saved.", markup=False)
    if result:
        console.print(f"{result.members} members ({result.entered} entered, {result.left} left).")


@segment.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List segments with their size and last refresh."""
    rows = list_segments(_url(db))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table = Table("name", "members", "refreshed", "every (min)", "description")
    for r in rows:
        table.add_row(
            r.name,
            str(r.member_count),
            str(r.last_refreshed_at or "never"),
            str(r.refresh_minutes or ""),
            r.description or "",
        )
    console.print(table)


@segment.command("show")
def show(name: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show a segment's definition and its latest refreshes."""
    url = _url(db)
    seg = get_segment(url, name)
    refreshes, _ = segment_history(url, name, limit=10)
    if as_json:
        print_json({**seg.model_dump(), "refreshes": [r.model_dump() for r in refreshes]})
        return
    console.print(f"{seg.name}: {seg.description or ''}", markup=False)
    console.print(json.dumps(seg.definition, indent=2), markup=False, highlight=False)
    for r in refreshes:
        console.print(
            f"{r.refreshed_at} {r.trigger}: {r.members} members, +{r.entered} -{r.left}",
            markup=False,
        )


@segment.command("members")
def members(
    name: str,
    at: Annotated[
        datetime | None, typer.Option("--at", help="Members at this time (from the history).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    offset: Annotated[int, typer.Option("--offset")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the members (now, or --at a past time)."""
    total, rows = segment_members(_url(db), name, at=at, limit=limit, offset=offset)
    if as_json:
        print_json({"total": total, "members": [r.model_dump() for r in rows]})
        return
    table = Table("id", "name", "email", "entered")
    for r in rows:
        full = " ".join(x for x in (r.first_name, r.last_name) if x)
        table.add_row(str(r.customer_id), full, r.email or "", str(r.entered_at))
    console.print(table)
    console.print(f"{total} members in all.")


@segment.command("history")
def history(
    name: str,
    customer: Annotated[
        int | None, typer.Option("--customer", help="One customer's stays.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who entered and left, and when."""
    refreshes, stays = segment_history(_url(db), name, customer_id=customer)
    if as_json:
        print_json(
            {
                "refreshes": [r.model_dump() for r in refreshes],
                "stays": [s.model_dump() for s in stays],
            }
        )
        return
    table = Table("customer", "entered", "left")
    for s in stays:
        table.add_row(str(s.customer_id), str(s.entered_at), str(s.left_at or ""))
    console.print(table)


@segment.command("export")
def export(
    name: str,
    channel: Annotated[str, typer.Option("--channel", help="email, direct_mail, phone, sms, ...")],
    purpose: Annotated[str, typer.Option("--purpose")] = "marketing",
    output: Annotated[
        str, typer.Option("--output", "-o", help="CSV file (default: stdout).")
    ] = "-",
    db: DbOption = None,
) -> None:
    """Write a CSV contact list of members who consented to PURPOSE on CHANNEL.

    The counts of members left out (no consent, no address) go to stderr.
    """
    url = _url(db)
    if output == "-":
        report = export_segment_csv(url, name, sys.stdout, channel=channel, purpose=purpose)
    else:
        with open(output, "w", encoding="utf-8", newline="") as out:
            report = export_segment_csv(url, name, out, channel=channel, purpose=purpose)
    err_console.print(
        f"Exported {report.exported} of {report.members} members; left out "
        f"{report.excluded_no_consent} without {purpose} consent on {channel} and "
        f"{report.excluded_no_address} without a {channel} address.",
        markup=False,
    )


@segment.command("refresh")
def refresh(
    name: Annotated[str | None, typer.Argument(help="One segment (default: all due ones).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Refresh every segment.")] = False,
    every: Annotated[
        int | None,
        typer.Option("--every", help="Keep running: every N seconds refresh the due segments."),
    ] = None,
    times: Annotated[int | None, typer.Option("--times", help="Stop after N rounds.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refresh one segment, --all, or (default) those whose refresh_minutes have elapsed."""
    url = _url(db)
    rounds = 0
    while True:
        if name:
            results = [refresh_segment(url, name)]
        elif all_:
            results = [refresh_segment(url, s.name) for s in list_segments(url)]
        else:
            results = refresh_due(url)
        if as_json:
            print_json([r.model_dump() for r in results])
        for r in results if not as_json else []:
            console.print(
                f"{r.segment}: {r.members} members (+{r.entered} -{r.left})", markup=False
            )
        rounds += 1
        if every is None or (times is not None and rounds >= times):
            return
        time.sleep(max(1, every))


@segment.command("delete")
def delete(name: str, db: DbOption = None) -> None:
    """Delete a segment and its history."""
    delete_segment(_url(db), name)
    console.print(f"Segment {name} deleted.", markup=False)


@segment.command("fields")
def fields(as_json: JsonOption = False) -> None:
    """The fields a condition may name (trait.NAME reads a free-form trait)."""
    registry = field_registry()
    if as_json:
        print_json(
            [
                {"name": f.name, "kind": f.kind, "group": f.group, "description": f.description}
                for f in registry.values()
            ]
        )
        return
    table = Table("field", "kind", "group", "description")
    for f in sorted(registry.values(), key=lambda f: (f.group, f.name)):
        table.add_row(f.name, f.kind, f.group, f.description)
    console.print(table)


@segment.command("schema")
def schema() -> None:
    """Print the JSON Schema of a segment definition."""
    print_json(SCHEMA)


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(segment, name="segment")
