"""`clientbook customer show|find`: the customer 360 on the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from clientbook.errors import NotFound, UsageError
from clientbook.identity.identifiers import normalise
from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.customer360 import Customer360, customer_360, find_customer_ids
from clientbook.store.db import require_schema

customer = typer.Typer(help="Look at one customer.", no_args_is_help=True)


def _show(c: Customer360) -> None:
    name = " ".join(p for p in (c.first_name, c.last_name) if p) or "(no name)"
    console.print(f"[bold]{name}[/bold]  customer {c.id}", highlight=False)
    for label, value in (
        ("e-mail", c.email),
        ("phone", c.phone),
        ("born", c.birth_date),
        ("address", ", ".join(p for p in (c.street, c.postcode, c.city, c.country) if p)),
        ("stage", c.lifecycle_stage),
    ):
        if value:
            console.print(f"  {label}: {value}", markup=False, highlight=False)
    o = c.orders
    console.print(
        f"  orders: {o.orders}, revenue {o.revenue:,.2f}"
        + (f", margin {o.margin:,.2f}" if o.margin is not None else "")
        + (f", last {o.last_order_at:%Y-%m-%d}" if o.last_order_at else ""),
        highlight=False,
    )
    ids = Table("identifier", "value", "source", title="Identifiers", title_justify="left")
    for i in c.identifiers:
        ids.add_row(i.type, i.value, i.source)
    console.print(ids)
    contacts = Table(
        "when",
        "channel",
        "type",
        "outcome",
        "notes",
        title="Latest interactions",
        title_justify="left",
    )
    for x in c.interactions:
        contacts.add_row(
            f"{x.occurred_at:%Y-%m-%d %H:%M}",
            x.channel,
            x.type or "",
            x.outcome or "",
            (x.notes or "")[:60],
        )
    console.print(contacts)
    for case in c.open_cases:
        console.print(
            f"  open case {case.case_id}: {case.category} since {case.opened_at:%Y-%m-%d}",
            markup=False,
        )
    for consent in c.consents:
        console.print(
            f"  consent {consent.purpose}/{consent.channel}: {consent.status}", markup=False
        )


@customer.command("show")
def show(
    customer_id: Annotated[int, typer.Argument(help="Clientbook customer id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything known about one customer."""
    url = settings_for(db).database_url
    require_schema(url)
    c = customer_360(url, customer_id)
    if as_json:
        print_json(c.model_dump(mode="json"))
    else:
        _show(c)


@customer.command("find")
def find(
    identifier: Annotated[str, typer.Argument(help="TYPE:VALUE, e.g. email:ann@example.com")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find customers by any identifier."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    type_, sep, value = identifier.partition(":")
    if not sep or not value:
        raise UsageError("The identifier must be TYPE:VALUE, e.g. email:ann@example.com.")
    normalised = normalise(type_, value, settings.default_region)
    ids = find_customer_ids(settings.database_url, type_, normalised) if normalised else []
    if not ids:
        raise NotFound(f"No customer has the identifier {identifier}.")
    if as_json:
        print_json(ids)
    else:
        for i in ids:
            console.print(str(i))


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(customer, name="customer")
