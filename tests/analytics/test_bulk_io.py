"""Bulk Arrow reads and writes of the store (SQLite through the ADBC child process)."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest

from clientbook.errors import StoreUnavailable
from clientbook.store.arrow_io import bulk_writer, read_arrow, read_arrows, sqlite_file

TABLE = pa.table(
    {
        "key": pa.array(["a", "b", "c"]),
        "value": pa.array([1.5, 2.5, 3.5]),
    }
)


def _path(url: str) -> str:
    path = sqlite_file(url)
    assert path is not None
    return path


def test_written_in_one_transaction_and_read_back(database_url: str) -> None:
    with bulk_writer(database_url) as writer:
        writer.execute("CREATE TABLE bulk_probe (key VARCHAR(8), value DOUBLE PRECISION)")
        writer.insert("bulk_probe", TABLE)
        writer.temporary("bulk_probe_delta", pa.table({"key": ["b"], "value": [20.0]}))
        writer.execute(
            "UPDATE bulk_probe SET value = d.value FROM bulk_probe_delta d "
            "WHERE bulk_probe.key = d.key"
        )
    schema = pa.schema([("key", pa.string()), ("value", pa.float64())])
    sql = "SELECT key, value FROM bulk_probe ORDER BY key"
    one, two = read_arrows(database_url, [(sql, schema), (f"{sql} DESC", schema)])
    assert one.to_pydict() == {"key": ["a", "b", "c"], "value": [1.5, 20.0, 3.5]}
    assert two["key"].to_pylist() == ["c", "b", "a"]
    assert read_arrow(database_url, f"{sql} LIMIT 0", schema).schema == schema


def test_a_failing_step_keeps_nothing(sqlite_url: str) -> None:
    with sqlite3.connect(_path(sqlite_url)) as con:
        con.execute("CREATE TABLE bulk_probe (key TEXT NOT NULL, value REAL)")
    with pytest.raises(StoreUnavailable, match="bulk_probe_missing"), bulk_writer(sqlite_url) as w:
        w.insert("bulk_probe", TABLE)
        w.execute("UPDATE bulk_probe_missing SET value = 0")
    with sqlite3.connect(_path(sqlite_url)) as con:
        assert con.execute("SELECT COUNT(*) FROM bulk_probe").fetchone() == (0,)


def test_a_bad_query_is_a_store_error(sqlite_url: str) -> None:
    with pytest.raises(StoreUnavailable, match="no such table"):
        read_arrow(sqlite_url, "SELECT x FROM nowhere", pa.schema([("x", pa.int64())]))
