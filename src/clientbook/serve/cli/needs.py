"""`clientbook needs`, `clientbook consent`, `clientbook questionnaire`: needs and preferences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from clientbook.analytics.learning import (
    learn_affinities,
    learn_all,
    learn_needs_clusters,
    learn_response_preferences,
    style_report,
    web_behaviour,
)
from clientbook.analytics.preferences import customer_preferences, record_declared_preference
from clientbook.engage.consent import consent_history, grant_consent, withdraw_consent
from clientbook.errors import UsageError
from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.db import require_schema
from clientbook.store.frames import customer_rates, latest_clusters
from clientbook.store.questionnaires import create_questionnaire, submit_answers
from clientbook.store.segments import member_ids

needs = typer.Typer(
    help="Needs clusters, channel and style preference, web behaviour.", no_args_is_help=True
)
consent = typer.Typer(help="The consent ledger: grant, withdraw, show.", no_args_is_help=True)
questionnaire = typer.Typer(help="Questionnaires and their answers.", no_args_is_help=True)


def _url(db: str | None) -> str:
    url = settings_for(db).database_url
    require_schema(url)
    return url


@needs.command("learn")
def learn(
    what: Annotated[str, typer.Argument(help="all, clusters, responses or affinities")] = "all",
    db: DbOption = None,
) -> None:
    """Recompute needs clusters, response rates and preferences, affinities (prints JSON)."""
    url = _url(db)
    steps = {
        "all": learn_all,
        "clusters": learn_needs_clusters,
        "responses": learn_response_preferences,
        "affinities": learn_affinities,
    }
    if what not in steps:
        raise UsageError(f"Unknown step {what!r}.", hint=f"Use one of {', '.join(steps)}.")
    print_json(steps[what](url))


@needs.command("clusters")
def clusters(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The needs clusters of the latest run, in words."""
    rows = latest_clusters(_url(db))
    if as_json:
        print_json(rows)
        return
    for c in rows:
        console.print(f"[{c['cluster']}] {c['label']} — {c['description']}", markup=False)


@needs.command("styles")
def styles(
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only this segment's members.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Response rate per message style (90 % interval) per needs cluster, or for a segment."""
    url = _url(db)
    print_json(style_report(url, member_ids(url, segment) if segment else None))


@needs.command("customer")
def customer(customer_id: int, db: DbOption = None) -> None:
    """One customer's response rates, preferences and web behaviour (JSON)."""
    url = _url(db)
    web = web_behaviour(url, customer_id)
    print_json(
        {
            "response_rates": customer_rates(url, customer_id),
            "preferences": [p.model_dump() for p in customer_preferences(url, customer_id)],
            "web_behaviour": web[0].model_dump() if web else None,
        }
    )


@needs.command("prefer")
def prefer(
    customer_id: int,
    key: str,
    value: str,
    origin: Annotated[str, typer.Option("--origin", help="Where the customer said so.")] = "cli",
    db: DbOption = None,
) -> None:
    """Record a declared preference."""
    p = record_declared_preference(_url(db), customer_id, key, value, origin=origin)
    console.print(f"Recorded {p.key} = {p.value} (declared, {p.origin}).", markup=False)


def _consent(
    granted: bool, customer_id: int, purpose: str, channel: str, source: str, db: str | None
) -> None:
    record = grant_consent if granted else withdraw_consent
    s = record(_url(db), customer_id, purpose, channel, source=source)
    console.print(f"{s.purpose} on {s.channel}: {s.status} ({s.source}).", markup=False)


@consent.command("grant")
def grant(
    customer_id: int,
    purpose: str,
    channel: str = "all",
    source: Annotated[str, typer.Option("--source")] = "cli",
    db: DbOption = None,
) -> None:
    """Append a grant (channel 'all' covers every channel)."""
    _consent(True, customer_id, purpose, channel, source, db)


@consent.command("withdraw")
def withdraw(
    customer_id: int,
    purpose: str,
    channel: str = "all",
    source: Annotated[str, typer.Option("--source")] = "cli",
    db: DbOption = None,
) -> None:
    """Append a withdrawal."""
    _consent(False, customer_id, purpose, channel, source, db)


@consent.command("show")
def show(customer_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The whole ledger of a customer, oldest first."""
    rows = consent_history(_url(db), customer_id)
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table = Table("when", "purpose", "channel", "status", "source")
    for r in rows:
        table.add_row(str(r.since), r.purpose, r.channel, r.status, r.source)
    console.print(table)


@questionnaire.command("create")
def q_create(file: Path, db: DbOption = None) -> None:
    """Define a questionnaire from a JSON or YAML file."""
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    q = create_questionnaire(_url(db), data)
    console.print(f"Questionnaire {q.key} created ({len(q.questions)} questions).", markup=False)


@questionnaire.command("answer")
def q_answer(
    key: str,
    customer_id: int,
    answers: Annotated[str, typer.Argument(help='JSON, e.g. {"size": "M"}')],
    source: Annotated[str, typer.Option("--source")] = "cli",
    db: DbOption = None,
) -> None:
    """Submit a customer's answers."""
    try:
        parsed = json.loads(answers)
    except ValueError as exc:
        raise UsageError("ANSWERS must be a JSON object.") from exc
    if not isinstance(parsed, dict):
        raise UsageError("ANSWERS must be a JSON object.")
    out = submit_answers(_url(db), key, customer_id, parsed, source)
    print_json(out.model_dump())


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(needs, name="needs")
    app.add_typer(consent, name="consent")
    app.add_typer(questionnaire, name="questionnaire")
