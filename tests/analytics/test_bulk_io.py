"""Bulk Arrow reads and writes of the store (SQLite through the ADBC child processes)."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from clientbook.analytics.refresh import analyse
from clientbook.config import Settings
from clientbook.errors import StoreUnavailable
from clientbook.store import arrow_io
from clientbook.store.arrow_io import bulk_writer, read_arrow, read_arrows, sqlite_file
from clientbook.store.db import session_scope
from clientbook.store.models.value import Score
from tests.analytics.factory import AS_OF, populate

TABLE = pa.table(
    {
        "key": pa.array(["a", "b", "c"]),
        "value": pa.array([1.5, 2.5, 3.5]),
    }
)


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ADBC child processes for every SQLite file, however small."""
    monkeypatch.setattr(arrow_io, "CHILD_MIN_BYTES", 0)


def _path(url: str) -> str:
    path = sqlite_file(url)
    assert path is not None
    return path


def test_small_files_stay_in_process(sqlite_url: str) -> None:
    assert sqlite_file(sqlite_url) is None
    assert sqlite_file("sqlite://") is None


@pytest.mark.usefixtures("children")
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


@pytest.mark.usefixtures("children")
def test_a_failing_step_keeps_nothing(sqlite_url: str) -> None:
    with sqlite3.connect(_path(sqlite_url)) as con:
        con.execute("CREATE TABLE bulk_probe (key TEXT NOT NULL, value REAL)")
    with pytest.raises(StoreUnavailable, match="bulk_probe_missing"), bulk_writer(sqlite_url) as w:
        w.insert("bulk_probe", TABLE)
        w.execute("UPDATE bulk_probe_missing SET value = 0")
    with sqlite3.connect(_path(sqlite_url)) as con:
        assert con.execute("SELECT COUNT(*) FROM bulk_probe").fetchone() == (0,)


@pytest.mark.usefixtures("children")
def test_a_bad_query_is_a_store_error(sqlite_url: str) -> None:
    with pytest.raises(StoreUnavailable, match="no such table"):
        read_arrow(sqlite_url, "SELECT x FROM nowhere", pa.schema([("x", pa.int64())]))


def test_analyse_gives_the_same_scores_through_the_children(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(sqlite_url, customers=200)
    settings = Settings(database_url=sqlite_url)
    _, in_process = analyse(settings, as_of=AS_OF, store=False)
    monkeypatch.setattr(arrow_io, "CHILD_MIN_BYTES", 0)
    report, children = analyse(settings, as_of=AS_OF)
    assert children.column_names == in_process.column_names
    for name in in_process.column_names:
        ours, theirs = children[name].to_pylist(), in_process[name].to_pylist()
        if pa.types.is_floating(in_process.schema.field(name).type):
            # Same values read; DuckDB may add them in another order for other Arrow chunks.
            assert [v is None for v in ours] == [v is None for v in theirs], name
            pairs = [(a, b) for a, b in zip(ours, theirs, strict=True) if b is not None]
            assert [a for a, _ in pairs] == pytest.approx([b for _, b in pairs], rel=1e-12), name
        else:
            assert ours == theirs, name
    with session_scope(sqlite_url) as session:
        stored = session.scalar(select(func.count()).where(Score.run_id == report.run_id))
    assert stored == report.customers == 200
