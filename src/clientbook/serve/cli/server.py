"""`clientbook serve`: the API, the collector and the web application over HTTP."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from clientbook.config import get_settings
from clientbook.serve.cli.common import DbOption, console, settings_for
from clientbook.store.db import require_schema


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
