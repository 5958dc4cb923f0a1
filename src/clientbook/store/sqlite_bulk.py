"""A child process that moves Arrow data in and out of a SQLite store with the ADBC driver.

Run only by :mod:`clientbook.store.arrow_io`, never imported by the application. The ADBC SQLite
driver is C code (no Python object per value, 10 x to 30 x less CPU than ``sqlite3`` rows) but
carries its own copy of the SQLite library; two copies in one process break each other's POSIX
locks on the same file (closing one copy's descriptor drops the other's locks) and corrupted a
WAL database here. In a process of its own the driver's copy is just another SQLite client,
locking like any other.

    python -m clientbook.store.sqlite_bulk read PATH QUERY     # Arrow IPC stream on stdout
    python -m clientbook.store.sqlite_bulk write PATH PLAN     # PLAN: JSON list of steps

A write plan runs in one transaction: ``["insert", table, ipc_file]``, ``["temporary", table,
ipc_file]`` (create a temporary table from the file) or ``["execute", sql]``. Errors go to
stderr, one line, with exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import adbc_driver_manager as adbc
import adbc_driver_sqlite
import pyarrow as pa

#: Rows per Arrow batch; the driver infers each column's type from the first batch.
BATCH_ROWS = 65_536
BUSY_MS = 60_000
CACHE_KIB = 262_144


# The low-level ADBC API, not adbc_driver_sqlite.dbapi: the DB-API module imports
# pyarrow.dataset and with it pandas, 3.5 s of CPU per child here.
def _connect(path: str, read_only: bool) -> tuple[Any, Any]:
    database = adbc_driver_sqlite.connect(f"file:{path}?mode=ro" if read_only else f"file:{path}")
    connection = adbc.AdbcConnection(database)
    with _query(connection, f"PRAGMA busy_timeout = {BUSY_MS}") as reader:
        reader.read_all()
    return database, connection


@contextmanager
def _query(connection: Any, sql: str, **options: str) -> Iterator[pa.RecordBatchReader]:
    statement = adbc.AdbcStatement(connection)
    try:
        if options:
            statement.set_options(**options)
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        with pa.RecordBatchReader.from_stream(stream) as reader:
            yield reader
    finally:
        statement.close()


def _update(connection: Any, table: pa.Table | None, sql: str = "", **options: str) -> None:
    statement = adbc.AdbcStatement(connection)
    try:
        if options:
            statement.set_options(**options)
        if table is not None:
            statement.bind_stream(table.__arrow_c_stream__())
        else:
            statement.set_sql_query(sql)
        statement.execute_update()
    finally:
        statement.close()


def read(path: str, query: str) -> None:
    """Run ``query`` and stream its result to stdout as Arrow IPC."""
    database, connection = _connect(path, read_only=True)
    try:
        options = {"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)}
        with (
            _query(connection, query, **options) as reader,
            pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out,
        ):
            for batch in reader:
                out.write_batch(batch)
    finally:
        connection.close()
        database.close()


def write(path: str, plan: list[list[str]]) -> None:
    """Run the steps of ``plan`` in one transaction; nothing is kept if one fails."""
    database, connection = _connect(path, read_only=False)
    try:
        # As the application's own connections (clientbook.store.db); and the indexes of a large
        # table take inserts all over their pages: keep them in memory.
        for pragma in ("foreign_keys = ON", "synchronous = NORMAL", f"cache_size = -{CACHE_KIB}"):
            with _query(connection, f"PRAGMA {pragma}") as reader:
                reader.read_all()
        connection.set_autocommit(False)
        try:
            for step in plan:
                if step[0] == "execute":
                    _update(connection, None, step[1])
                    continue
                with pa.memory_map(step[2]) as source:
                    table = pa.ipc.open_file(source).read_all()
                mode = "append" if step[0] == "insert" else "create"
                options = {
                    adbc.INGEST_OPTION_TARGET_TABLE: step[1],
                    adbc.INGEST_OPTION_MODE: f"adbc.ingest.mode.{mode}",
                }
                if step[0] == "temporary":
                    options["adbc.ingest.temporary"] = "true"
                _update(connection, table, **options)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
    finally:
        connection.close()
        database.close()


def main(argv: list[str]) -> int:
    try:
        if argv[0] == "read":
            read(argv[1], argv[2])
        else:
            write(argv[1], json.loads(Path(argv[2]).read_text()))
    except Exception as exc:  # reported to the parent, which raises its own error
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
