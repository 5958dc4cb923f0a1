"""Entry point of the ``clientbook`` command: collects the command groups, maps errors."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable

import typer
from typer._click import exceptions as click_errors

from clientbook.errors import ClientbookError, InvalidInput
from clientbook.serve import cli
from clientbook.serve.cli.common import err_console

#: Each top-level command and the module that adds it: a command imports only its own module
#: (the event processor, started by `clientbook serve`, need not load pandas, DuckDB or Spark).
COMMANDS = {
    "analyse": "value",
    "clv": "value",
    "consent": "needs",
    "customer": "customers",
    "demo": "demo",
    "events": "keys",
    "identity": "identity",
    "import": "imports",
    "init": "database",
    "keys": "keys",
    "needs": "needs",
    "questionnaire": "needs",
    "segment": "segments",
    "serve": "server",
    "status": "database",
    "tokens": "tokens",
    "users": "users",
}


def build(modules: Iterable[str] | None = None) -> typer.Typer:
    """The CLI with the commands of these modules (all of them when None)."""
    cli_app = typer.Typer(
        name="clientbook",
        help="Clientbook: know every customer, learn with every interaction, act on it.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # a group even when one module adds a single command: `clientbook serve` stays `serve`
    cli_app.callback()(_root)
    if modules is None:
        modules = [m.name for m in pkgutil.iter_modules(cli.__path__)]
    for name in modules:
        if name not in ("main", "common"):
            importlib.import_module(f"{cli.__name__}.{name}").register(cli_app)
    return cli_app


def _root() -> None:
    """Clientbook: know every customer, learn with every interaction, act on it."""


def __getattr__(name: str) -> typer.Typer:
    # `app`, every command registered, is built when first asked for (tests, documentation)
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)


def main() -> None:
    """Run the CLI; a ClientbookError becomes one line on stderr and its exit code."""
    command = sys.argv[1] if len(sys.argv) > 1 else None
    cli_app = build([COMMANDS[command]]) if command in COMMANDS else build()
    try:
        code = cli_app(standalone_mode=False)
    except ClientbookError as exc:
        if isinstance(exc, InvalidInput):
            for problem in exc.problems:
                err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("Aborted.")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
