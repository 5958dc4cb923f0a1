"""`clientbook users`: people who sign in to the web application, and their roles."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer
from rich.table import Table

from clientbook.errors import UsageError
from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.db import require_schema
from clientbook.store.models.users import ROLES
from clientbook.store.users import (
    DemoCredential,
    create_user,
    ensure_demo_users,
    list_users,
    user_exists,
)

users = typer.Typer(help="Users of the web application (roles: agent, marketer, admin).")


@users.command("create")
def create(
    email: Annotated[str, typer.Option("--email", help="The user's e-mail (the sign-in name).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")] = "admin",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user, or update the role (and password) of an existing one (safe to re-run).

    Without --password-stdin a new user gets a random password, printed once; an existing
    user keeps theirs.
    """
    url = settings_for(db).database_url
    require_schema(url)
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError(
                "No password on stdin.", hint="echo 'PASSWORD' | clientbook users create ..."
            )
    elif not user_exists(url, email):
        password = secrets.token_urlsafe(12)
    generated = password is not None and not password_stdin
    user, created = create_user(url, email, role, password)
    if as_json:
        data = {**user.model_dump(mode="json"), "created": created}
        if generated:
            data["password"] = password or ""
        print_json(data)
        return
    verb = "Created" if created else "Updated"
    console.print(f"{verb} {user.role} {user.email}.", markup=False, highlight=False)
    if generated:
        console.print(f"Password (shown once): {password}", markup=False, highlight=False)


@users.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List users and their roles."""
    rows = list_users(settings_for(db).database_url)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("id", "email", "role", "last sign-in", "status")
    for r in rows:
        table.add_row(
            str(r.id), r.email, r.role, str(r.last_login_at or ""), "disabled" if r.disabled else ""
        )
    console.print(table)


def print_credentials(credentials: list[DemoCredential]) -> None:
    """One line per demo user: role, e-mail, password."""
    for c in credentials:
        console.print(
            f"{c.role:9} {c.email}  password: {c.password}", markup=False, highlight=False
        )


@users.command("demo")
def demo(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create (or reset) the demo admin, marketer and agent and print their credentials."""
    url = settings_for(db).database_url
    require_schema(url)
    credentials = ensure_demo_users(url)
    if as_json:
        print_json([c.model_dump() for c in credentials])
        return
    print_credentials(credentials)


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.add_typer(users, name="users", no_args_is_help=True)
