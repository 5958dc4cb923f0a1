"""Bulk, columnar reads and writes of the store through Arrow, not row by row through the ORM.

DuckDB 2.0 cannot attach SQLite or PostgreSQL here (no extensions can be downloaded), so:

- PostgreSQL: the ADBC driver hands over Arrow tables directly and writes with COPY.
- SQLite: Python's own ``sqlite3`` (the library SQLAlchemy uses), fetched in large batches and
  assembled column by column into Arrow, and written with ``executemany`` in one transaction.
  The ADBC SQLite driver carries a second copy of the SQLite library; two copies in one process
  break each other's POSIX locks on the same file and corrupted a WAL database here (measured:
  "database disk image is malformed" after one run), so it is not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import make_url

from clientbook.errors import StoreUnavailable
from clientbook.store.db import _normalise_url, get_engine

BATCH = 200_000


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


def read_arrow(url: str, query: str, schema: pa.Schema | None = None) -> pa.Table:
    """Run one query and return its result as an Arrow table (cast to ``schema`` if given)."""
    if dialect(url) == "postgresql":
        with _postgres(url) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            table: pa.Table = cursor.fetch_arrow_table()
            connection.commit()
    else:
        table = _sqlite_read(url, query, schema)
    return table.cast(schema) if schema is not None else table


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
