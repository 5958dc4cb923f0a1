"""Bulk writes of typed frames: plain `executemany` on SQLite, `COPY` on PostgreSQL.

The importers build whole columns with pandas and numpy; this module turns each column into the
values the driver stores (text timestamps in SQLAlchemy's SQLite format, JSON text, ``None`` for
missing) and writes them inside the caller's transaction, so a load stays all-or-nothing.
Primary keys are reserved up front (``reserve_ids``) so that no ``RETURNING`` round trip is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from psycopg import sql
from sqlalchemy import JSON, Date, DateTime, Float, Integer, Numeric, Table, func, insert, select
from sqlalchemy.orm import Session

#: Page cache of the importing SQLite connection (KiB): index B-trees of a large load stay hot.
SQLITE_IMPORT_CACHE_KIB = 262_144


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


@contextmanager
def bulk_session(session: Session) -> Iterator[None]:
    """Give a SQLite connection a large page cache for the duration of a load."""
    if not _is_sqlite(session):
        yield
        return
    # On the driver's connection: the pragma must not depend on the state of the unit of work.
    dbapi: Any = session.connection().connection.driver_connection
    previous = dbapi.execute("PRAGMA cache_size").fetchone()[0]
    dbapi.execute(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        dbapi.execute(f"PRAGMA cache_size={int(previous)}")


def reserve_ids(session: Session, table: Table, count: int) -> np.ndarray:
    """``count`` unused primary keys of ``table`` for this transaction."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    if _is_sqlite(session):
        # BEGIN IMMEDIATE holds the write lock: nobody else can take these ids meanwhile.
        start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
        return np.arange(start + 1, start + 1 + count, dtype=np.int64)
    sequence = session.scalar(
        select(func.pg_get_serial_sequence(table.name, "id")),
    )
    ids = session.scalars(
        select(func.nextval(sequence)).select_from(func.generate_series(1, count))
    ).all()
    return np.asarray(ids, dtype=np.int64)


def _present(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def _with_none(values: np.ndarray, present: np.ndarray) -> list[Any]:
    out = values.astype(object)
    out[~present] = None
    return out.tolist()  # type: ignore[no-any-return]


def _timestamps(series: pd.Series, sqlite: bool) -> list[Any]:
    stamps = pd.to_datetime(series, utc=True)
    present = _present(stamps)
    naive = stamps.dt.tz_localize(None).to_numpy("datetime64[us]")
    if not sqlite:
        return _with_none(np.datetime_as_string(naive, unit="us", timezone="UTC"), present)
    # SQLAlchemy's SQLite DATETIME text: "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, no zone).
    iso = np.datetime_as_string(naive, unit="us")
    chars = iso.view(np.uint32).reshape(len(iso), -1).copy()
    chars[:, 10] = ord(" ")
    return _with_none(chars.view(iso.dtype).ravel(), present)


def _json(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else json.dumps(value)


def column_values(series: pd.Series, sql_type: Any, sqlite: bool) -> list[Any]:
    """``series`` as the Python values the driver stores for a column of ``sql_type``."""
    if isinstance(sql_type, DateTime):
        return _timestamps(series, sqlite)
    present = _present(series)
    if isinstance(sql_type, Date):
        dates = pd.to_datetime(series).to_numpy("datetime64[D]")
        return _with_none(np.datetime_as_string(dates, unit="D"), present)
    if isinstance(sql_type, Integer):
        return _with_none(series.to_numpy(dtype=np.int64, na_value=0), present)
    if isinstance(sql_type, Numeric | Float):
        return _with_none(series.to_numpy(dtype=np.float64, na_value=np.nan), present)
    if isinstance(sql_type, JSON):
        return [_json(v) for v in _with_none(series.to_numpy(dtype=object), present)]
    return _with_none(series.to_numpy(dtype=object), present)


def _default(column: Any, rows: int, sqlite: bool) -> list[Any]:
    """The Python-side default of ``column`` (``created_at``, ``traits``...), for every row."""
    default = column.default
    value = None
    if default is not None and getattr(default, "is_scalar", False):
        value = default.arg
    elif default is not None and getattr(default, "is_callable", False):
        value = default.arg(None)
    one = column_values(pd.Series([value], dtype=object), column.type, sqlite)[0]
    return [one] * rows


def write_frame(
    session: Session,
    table: Table,
    frame: pd.DataFrame,
    progress: Callable[[int], None] | None = None,
    batch: int = 50_000,
) -> None:
    """Insert every row of ``frame`` (columns named as ``table``'s) into ``table``, in batches.

    Columns the frame lacks get their Python-side default; a missing ``id`` is left to the
    database.
    """
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {sorted(unknown)}")
    rows = len(frame)
    if rows == 0:
        return
    sqlite = _is_sqlite(session)
    columns = [c for c in table.columns if c.name in frame.columns or c.name != "id"]
    names = [c.name for c in columns]
    values = {
        c.name: column_values(frame[c.name], c.type, sqlite)
        if c.name in frame.columns
        else _default(c, rows, sqlite)
        for c in columns
    }
    connection = session.connection()
    dbapi: Any = connection.connection.driver_connection
    statement = insert(table).compile(dialect=connection.dialect, column_keys=names)
    order = list(statement.positiontup or ()) if sqlite else names
    for start in range(0, rows, batch):
        chunk = zip(*(values[n][start : start + batch] for n in order), strict=True)
        if sqlite:
            dbapi.executemany(str(statement), chunk)
        else:
            _copy(dbapi, table.name, names, chunk)
        if progress is not None:
            progress(min(batch, rows - start))


def _copy(dbapi: Any, table: str, names: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
