"""`clientbook serve`: the API, the collector and the web application over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
import uvicorn

from clientbook.config import Settings, get_settings
from clientbook.serve.cli.common import DbOption, console, die_with_parent, settings_for
from clientbook.store.db import require_schema

#: How much lower the event processor's CPU priority is than the server's.
PROCESSOR_NICENESS = 10


@contextmanager
def event_processor(settings: Settings) -> Iterator[subprocess.Popen[bytes] | None]:
    """Run `clientbook events process --follow` beside the server, at a lower CPU priority.

    It is a process of its own, so that applying events never holds the collector's interpreter
    lock; it stops with the server, and is killed with it if the server is killed. Off when
    CLIENTBOOK_COLLECT_PROCESS_INTERVAL is 0: then run it elsewhere.
    """
    if settings.collect_process_interval <= 0:
        yield None
        return
    command = [sys.executable, "-m", "clientbook.serve.cli.main", "events", "process"]
    command += ["--follow", "--nice", str(PROCESSOR_NICENESS), "--exit-with", str(os.getpid())]
    # killed with the server from the start, before its imports (it sets this again itself)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve Clientbook on HTTP (default http://127.0.0.1:8000)."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    host = host or settings.host
    port = port or settings.port
    # Workers rebuild the settings from the environment: hand the chosen database on.
    os.environ["CLIENTBOOK_DATABASE_URL"] = settings.database_url
    get_settings.cache_clear()  # a single worker runs in this process: let it read the above
    console.print(f"Clientbook is serving on http://{host}:{port}/  (Ctrl+C to stop)")
    with event_processor(settings):
        uvicorn.run(
            "clientbook.serve.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            # a worker busy importing on a loaded machine is not hung: uvicorn's default of 5 s
            # killed and restarted workers in a loop before they could serve
            timeout_worker_healthcheck=60,
        )


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.command("serve")(serve)
