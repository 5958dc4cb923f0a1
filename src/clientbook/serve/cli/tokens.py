"""`clientbook tokens`: bearer tokens for the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.db import require_schema
from clientbook.store.tokens import create_token, list_tokens, revoke_token

tokens = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)


@tokens.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api",
    db: DbOption = None,
) -> None:
    """Create a token and print it alone on stdout (it is shown only this once)."""
    url = settings_for(db).database_url
    require_schema(url)
    print(create_token(url, name))


@tokens.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List tokens (names and ids, never the tokens)."""
    rows = list_tokens(settings_for(db).database_url)
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table = Table("id", "name", "created", "revoked")
    for r in rows:
        table.add_row(str(r.id), r.name, r.created_at, "yes" if r.revoked else "")
    console.print(table)


@tokens.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Id from `tokens list`.")], db: DbOption = None
) -> None:
    """Revoke a token."""
    revoke_token(settings_for(db).database_url, token_id)
    console.print(f"Token {token_id} revoked.")


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(tokens, name="tokens")
