"""`clientbook identity`: resolve, review, unmerge, export, shared values, the merge log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clientbook.errors import UsageError
from clientbook.identity.policy import Policy
from clientbook.identity.resolver import resolve_new
from clientbook.identity.service import (
    Decision,
    PartySummary,
    decide_review,
    evaluate,
    export_records,
    list_merges,
    list_reviews,
    shared_values,
    unmerge,
)
from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.db import require_schema

identity = typer.Typer(
    help="Identity resolution: who is who across every source.", no_args_is_help=True
)


@identity.command("resolve")
def resolve_cmd(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would merge; change nothing.")
    ] = False,
    no_probabilistic: Annotated[
        bool, typer.Option("--no-probabilistic", help="Only shared identifiers, no Splink.")
    ] = False,
    show: Annotated[int, typer.Option("--show", help="Merges to list (largest first).")] = 20,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Where Splink runs: duckdb or spark (default: CLIENTBOOK_ANALYTICS_ENGINE).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve what is new since the last run: shared identifiers, then Splink matching."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    report = resolve_new(
        settings, dry_run=dry_run, probabilistic=not no_probabilistic, show=show, engine=engine
    )
    if as_json:
        print_json(report.to_dict())
        return
    verb = "would merge" if dry_run else "merged"
    console.print(
        f"{report.new_identifiers} new identifiers, {report.new_records} new records: "
        f"{verb} {report.deterministic_merges} customers on shared identifiers, "
        f"{report.probabilistic_merges} on match probability, {report.account_merges} accounts; "
        f"{report.review_pairs} pairs to review. Customers: {report.customers_before} -> "
        f"{report.customers_after}.",
        highlight=False,
    )
    if report.merges:
        table = Table("survivor", "absorbs", "because of")
        for m in report.merges:
            table.add_row(str(m.survivor_id), str(m.absorbed), "; ".join(m.reasons))
        console.print(table)
    for value in report.over_shared[:20]:
        console.print(
            f"over-shared, not linking: {value['type']}:{value['value']} "
            f"({value['customers']} customers)",
            highlight=False,
        )
    if dry_run:
        console.print("Dry run: nothing was changed.")


@identity.command("review")
def review_cmd(
    merge: Annotated[
        int | None, typer.Option("--merge", help="Merge the pair with this id.")
    ] = None,
    keep_apart: Annotated[
        int | None, typer.Option("--keep-apart", help="Keep the pair with this id apart.")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="pending, merged or kept_apart.")
    ] = "pending",
    limit: Annotated[int, typer.Option("--limit")] = 50,
    by: Annotated[str, typer.Option("--by", help="Who decides (recorded).")] = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the pairs that may be one person; decide one with --merge ID or --keep-apart ID."""
    url = settings_for(db).database_url
    require_schema(url)
    if merge is not None and keep_apart is not None:
        raise UsageError("Give --merge or --keep-apart, not both.")
    if merge is not None or keep_apart is not None:
        decision: Decision = "merge" if merge is not None else "keep_apart"
        review_id = merge if merge is not None else keep_apart
        assert review_id is not None
        decided = decide_review(url, review_id, decision, by=by)
        if as_json:
            print_json(decided.model_dump())
        else:
            console.print(f"Pair {decided.id}: {decided.status}.")
        return
    reviews = list_reviews(url, status=status, limit=limit)
    if as_json:
        print_json([r.model_dump() for r in reviews])
        return
    table = Table("id", "p", "left", "right", "why")
    for r in reviews:
        p = f"{r.probability:.3f}" if r.probability is not None else "-"
        table.add_row(str(r.id), p, _party(r.left), _party(r.right), r.reason)
    console.print(table)
    console.print(f"{len(reviews)} {status} pairs.")


def _party(p: PartySummary) -> str:
    bits = [f"#{p.id}", p.name, p.birth_date, p.email, p.phone, p.postcode]
    return " ".join(b for b in bits if b)


@identity.command("unmerge")
def unmerge_cmd(
    merge_id: Annotated[int | None, typer.Argument(help="Merge id from `identity merges`.")] = None,
    customer: Annotated[
        int | None, typer.Option("--customer", help="Undo the merge that absorbed this customer.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo a merge: both customers as they were, with their history; they stay apart."""
    if (merge_id is None) == (customer is None):
        raise UsageError("Give a MERGE_ID or --customer ID.")
    url = settings_for(db).database_url
    require_schema(url)
    result = unmerge(url, merge_id=merge_id, absorbed_id=customer)
    if as_json:
        print_json(result.__dict__)
        return
    console.print(
        f"Merge {result.merge_id} undone: {result.kind} {result.restored_id} is separate from "
        f"{result.survivor_id} again ({result.rows_moved_back} rows moved back, "
        f"{result.rows_recreated} re-created).",
        highlight=False,
    )


@identity.command("merges")
def merges_cmd(
    customer: Annotated[int | None, typer.Option("--customer", help="Only this party.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The merge log, newest first."""
    url = settings_for(db).database_url
    rows = list_merges(url, party_id=customer, limit=limit)
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table = Table("id", "kind", "survivor", "absorbed", "rule", "reason", "when", "undone")
    for m in rows:
        table.add_row(
            str(m.id),
            m.kind,
            str(m.survivor_id),
            str(m.absorbed_id),
            m.rule,
            m.reason,
            f"{m.created_at:%Y-%m-%d %H:%M}",
            "yes" if m.undone_at else "",
        )
    console.print(table)


@identity.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    db: DbOption = None,
) -> None:
    """Write source, source_record_id, customer_id for every record (to check a ground truth)."""
    url = settings_for(db).database_url
    require_schema(url)
    count = export_records(url, out)
    console.print(f"{count} records written to {out}.", highlight=False)


@identity.command("evaluate")
def evaluate_cmd(
    truth: Annotated[
        Path, typer.Option("--truth", help="CSV: source, source_record_id, person_id.")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pairwise precision and recall of the resolved customers against a ground truth."""
    url = settings_for(db).database_url
    require_schema(url)
    quality, linkable = evaluate(url, truth)
    if as_json:
        print_json(
            {
                **quality.__dict__,
                "f1": quality.f1,
                "linkable_pairs": linkable.true_pairs,
                "linkable_recall": linkable.recall,
            }
        )
        return
    console.print(
        f"{quality.records} records: precision {quality.precision:.4f}, recall "
        f"{quality.recall:.4f} (pairs: {quality.correct_pairs} correct of "
        f"{quality.predicted_pairs} predicted, {quality.true_pairs} true).\n"
        f"Linkable pairs (records sharing an e-mail, phone, birth date, postcode or street, "
        f"directly or through the person's other records): {linkable.true_pairs}, recall "
        f"{linkable.recall:.4f}.",
        highlight=False,
    )


@identity.command("shared")
def shared_cmd(
    limit: Annotated[int, typer.Option("--limit")] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Over-shared values (a family e-mail, a shop's phone): they no longer link anyone."""
    settings = settings_for(db)
    rows = shared_values(settings.database_url, Policy.from_settings(settings), limit=limit)
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table = Table("type", "value", "customers")
    for r in rows:
        table.add_row(r.type, r.value, str(r.customers))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(identity, name="identity")
