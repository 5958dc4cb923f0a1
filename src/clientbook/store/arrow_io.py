"""Bulk, columnar reads and writes of the store through Arrow, not row by row through the ORM.

DuckDB 2.0 cannot attach SQLite or PostgreSQL here (no extensions can be downloaded), so:

- PostgreSQL: the ADBC driver hands over Arrow tables directly and writes with COPY.
- SQLite file: the ADBC SQLite driver, in child processes (:mod:`clientbook.store.sqlite_bulk`)
  that stream Arrow IPC back or ingest Arrow IPC files in one transaction. The driver carries a
  second copy of the SQLite library; two copies in one process break each other's POSIX locks
  on the same file and corrupted a WAL database here (measured: "database disk image is
  malformed" after one run), so it never runs in this process. The driver infers each column's
  type from its first rows, so child reads are used only for queries with a ``schema`` whose
  columns are never NULL (COALESCE them).
- SQLite in memory or smaller than ``CHILD_MIN_BYTES`` (a child costs about 0.7 s of CPU to
  start: too much for a dashboard over a small store), and reads without a schema: Python's own
  ``sqlite3`` (the library SQLAlchemy uses), fetched in large batches and assembled column by
  column into Arrow, and written with ``executemany`` in one transaction.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import make_url

from clientbook.errors import StoreUnavailable
from clientbook.store.db import _normalise_url, get_engine

BATCH = 200_000
#: Child readers at once: one per core of the machines this runs on.
READERS = 2
#: SQLite files at least this large are read and written by ADBC child processes.
CHILD_MIN_BYTES = 64 << 20


def dialect(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return "sqlite" if _normalise_url(url).startswith("sqlite") else "postgresql"


@contextmanager
def _postgres(url: str) -> Iterator[Any]:
    import adbc_driver_postgresql.dbapi as driver

    parsed = make_url(_normalise_url(url)).set(drivername="postgresql")
    try:
        connection = driver.connect(parsed.render_as_string(hide_password=False))
    except Exception as exc:  # the driver raises its own error types
        raise StoreUnavailable(
            f"Cannot open the store for bulk access: {exc}.",
            hint="Check CLIENTBOOK_DATABASE_URL (or --db) and that the server is running.",
        ) from exc
    try:
        yield connection
    finally:
        connection.close()


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL large enough for the ADBC children, else None."""
    parsed = make_url(_normalise_url(url))
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).resolve()
    try:
        if path.stat().st_size < CHILD_MIN_BYTES:
            return None
    except OSError:
        return None
    return str(path)


def read_arrow(url: str, query: str, schema: pa.Schema | None = None) -> pa.Table:
    """Run one query and return its result as an Arrow table (cast to ``schema`` if given).

    On a SQLite file, a query with a ``schema`` must give no NULL (see the module's notes).
    """
    return read_arrows(url, [(query, schema)])[0]


def read_arrows(url: str, queries: Sequence[tuple[str, pa.Schema | None]]) -> list[pa.Table]:
    """Several queries' results, read side by side where the store allows it."""
    path = sqlite_file(url)
    if path is None or all(schema is None for _, schema in queries):
        return [_read_one(url, query, schema) for query, schema in queries]
    with ThreadPoolExecutor(READERS) as pool:
        futures = [
            pool.submit(_child_read, path, query, schema)
            if schema is not None
            else pool.submit(_read_one, url, query, schema)
            for query, schema in queries
        ]
        return [future.result() for future in futures]


def _read_one(url: str, query: str, schema: pa.Schema | None) -> pa.Table:
    if dialect(url) == "postgresql":
        with _postgres(url) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            table: pa.Table = cursor.fetch_arrow_table()
            connection.commit()
    else:
        table = _sqlite_read(url, query, schema)
    return table.cast(schema) if schema is not None else table


def _child(args: list[str]) -> bytes:
    """Run :mod:`clientbook.store.sqlite_bulk` with ``args``; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "clientbook.store.sqlite_bulk", *args],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise StoreUnavailable(
            f"Bulk transfer with the SQLite store failed: {message[-1] if message else '?'}.",
            hint="Check that the database file is readable and writable and not corrupt.",
        )
    return done.stdout


def _child_read(path: str, query: str, schema: pa.Schema) -> pa.Table:
    out = _child(["read", path, query])
    table = pa.ipc.open_stream(pa.py_buffer(out)).read_all()
    if table.num_rows == 0:
        return schema.empty_table()
    return table.cast(schema)


def _sqlite_read(url: str, query: str, schema: pa.Schema | None) -> pa.Table:
    raw = get_engine(url).raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(query)
        names = [d[0] for d in cursor.description]
        types = {f.name: f.type for f in schema} if schema is not None else {}
        chunks = []
        while rows := cursor.fetchmany(BATCH):
            columns = list(zip(*rows, strict=True))
            chunks.append(
                pa.table(
                    {n: pa.array(c, type=types.get(n)) for n, c in zip(names, columns, strict=True)}
                )
            )
        cursor.close()
    finally:
        raw.close()
    if not chunks:
        if schema is not None:
            return schema.empty_table()
        return pa.table({n: pa.array([], pa.null()) for n in names})
    return pa.concat_tables(chunks, promote_options="permissive")


def for_sqlite(table: pa.Table) -> pa.Table:
    """Dates and instants as the text SQLAlchemy writes to SQLite, so both sort alike."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            # Arrow's %S carries the microseconds of a microsecond timestamp.
            column = pc.strftime(column.cast(pa.timestamp("us", "UTC")), format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_date(field.type):
            column = pc.strftime(column, format="%Y-%m-%d")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class BulkWriter(Protocol):
    """Appends Arrow tables and runs statements inside one transaction."""

    def insert(self, name: str, table: pa.Table) -> None: ...

    def temporary(self, name: str, table: pa.Table) -> None: ...

    def execute(self, statement: str) -> None: ...


class _SqliteWriter:
    """Writes through Python's ``sqlite3`` in this process (in-memory stores)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def insert(self, name: str, table: pa.Table) -> None:
        data = for_sqlite(table)
        columns = ", ".join(data.column_names)
        marks = ", ".join("?" * data.num_columns)
        statement = f"INSERT INTO {name} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
        for batch in data.to_batches(BATCH):
            rows = zip(*(c.to_pylist() for c in batch.columns), strict=True)
            self._cursor.executemany(statement, rows)

    def temporary(self, name: str, table: pa.Table) -> None:
        self._cursor.execute(f"CREATE TEMP TABLE {name} ({', '.join(table.column_names)})")
        self.insert(name, table)

    def execute(self, statement: str) -> None:
        self._cursor.execute(statement)


class _PlanWriter:
    """Collects the steps (tables as Arrow IPC files) that a child process runs at the end."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.plan: list[list[str]] = []

    def _file(self, table: pa.Table) -> str:
        path = self._folder / f"{len(self.plan)}.arrow"
        data = for_sqlite(table)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, data.schema) as out:
            out.write_table(data)
        return str(path)

    def insert(self, name: str, table: pa.Table) -> None:
        self.plan.append(["insert", name, self._file(table)])

    def temporary(self, name: str, table: pa.Table) -> None:
        self.plan.append(["temporary", name, self._file(table)])

    def execute(self, statement: str) -> None:
        self.plan.append(["execute", statement])


class _PostgresWriter:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def insert(self, name: str, table: pa.Table) -> None:
        self._cursor.adbc_ingest(name, table, mode="append")

    def temporary(self, name: str, table: pa.Table) -> None:
        self._cursor.adbc_ingest(name, table, mode="create", temporary=True)

    def execute(self, statement: str) -> None:
        self._cursor.execute(statement)


@contextmanager
def bulk_writer(url: str) -> Iterator[BulkWriter]:
    """One transaction for bulk writes: committed when the block ends, rolled back on error."""
    if dialect(url) == "postgresql":
        with _postgres(url) as connection, connection.cursor() as cursor:
            try:
                yield _PostgresWriter(cursor)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        return
    path = sqlite_file(url)
    if path is not None:
        with tempfile.TemporaryDirectory(prefix="clientbook-bulk-") as folder:
            writer = _PlanWriter(Path(folder))
            yield writer
            plan = Path(folder) / "plan.json"
            plan.write_text(json.dumps(writer.plan))
            _child(["write", path, str(plan)])
        return
    raw = get_engine(url).raw_connection()
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        yield _SqliteWriter(cursor)
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()
        raw.close()
