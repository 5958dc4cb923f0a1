"""Each command loads only its own module: the table of commands, and a lean event processor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clientbook.serve.cli import main
from clientbook.store.db import migrate

HEAVY = ("pandas", "duckdb", "splink", "pyspark", "sklearn", "numpy", "pyarrow")
PROBE = """
import json, sys
sys.argv = ["clientbook", *sys.argv[1:]]
from clientbook.serve.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": [m for m in %r if m in sys.modules]}))
"""


def test_every_command_is_in_the_table_of_commands() -> None:
    app = main.build()
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == set(main.COMMANDS)


def test_the_event_processor_starts_without_the_analytics_stack(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cb.db'}"
    migrate(db)
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), "events", "process", "--json", "--db", db],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    *printed, last = done.stdout.strip().splitlines()
    assert json.loads("\n".join(printed)) == {"processed": 0, "failed": 0}
    assert json.loads(last) == {"code": 0, "loaded": []}
