"""Entry point of the ``clientbook`` command: collects the command groups, maps errors."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from typer._click import exceptions as click_errors

from clientbook.errors import ClientbookError, InvalidInput
from clientbook.serve import cli
from clientbook.serve.cli.common import err_console

app = typer.Typer(
    name="clientbook",
    help="Clientbook: know every customer, learn with every interaction, act on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in pkgutil.iter_modules(cli.__path__):
    if _module.name not in ("main", "common"):
        importlib.import_module(f"{cli.__name__}.{_module.name}").register(app)


def main() -> None:
    """Run the CLI; a ClientbookError becomes one line on stderr and its exit code."""
    try:
        code = app(standalone_mode=False)
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
