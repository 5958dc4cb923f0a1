"""Options and output helpers shared by every command module."""

from __future__ import annotations

import ctypes
import json
import signal
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from clientbook.config import Settings, get_settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: CLIENTBOOK_DATABASE_URL, else sqlite:///./clientbook.db).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

console = Console()
err_console = Console(stderr=True)


def settings_for(db: str | None) -> Settings:
    """The settings, with the database given by ``--db`` if any."""
    return get_settings().with_database(db)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


#: prctl option: the signal this process gets when its parent ends.
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """Be killed when the parent process ends (Linux; elsewhere nothing happens).

    SIGKILL, not SIGTERM: a process whose server was killed need not finish anything, since each
    event is claimed in the transaction that applies it. Also safe between fork and exec.
    """
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
