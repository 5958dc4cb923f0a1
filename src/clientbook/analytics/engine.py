"""The analytics engine: DuckDB in-process (the default) or Apache Spark, behind one interface.

Analytics are written once, as SQL that both engines accept (integer day arithmetic, window
functions, CASE, COALESCE) plus Arrow batch functions, and never ask which engine runs them.
The engine is chosen once, at construction (:func:`get_engine`).
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from clientbook.config import get_settings
from clientbook.errors import UsageError

BatchFunction = Callable[[pa.RecordBatch], pa.RecordBatch]
ENGINES = ("duckdb", "spark")


class Engine(ABC):
    """Tables by name, SQL over them, Arrow in and out, batch functions applied in parallel."""

    name: str

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name``."""

    @abstractmethod
    def create(self, name: str, query: str) -> None:
        """Materialise the result of ``query`` as the table ``name``."""

    @abstractmethod
    def fetch(self, query: str) -> pa.Table:
        """Run ``query`` and return its result as Arrow."""

    def sample(self, name: str, key: str, rows: int, seed: int) -> pa.Table:
        """A random sample of ``rows`` rows of ``name`` (all of it when smaller), the same for
        the same seed: the rows whose ``key`` hashes lowest with the seed. (DuckDB's own
        ``REPEATABLE`` samples differ from run to run on several threads.)"""
        if self.count(name) <= rows:
            return self.fetch(f"SELECT * FROM {name}")
        return self.fetch(
            f"SELECT * FROM {name} ORDER BY hash({key}, {int(seed)}), {key} LIMIT {int(rows)}"
        )

    @abstractmethod
    def map_batches(
        self, source: str, target: str, function: BatchFunction, schema: pa.Schema
    ) -> None:
        """``target`` = ``function`` applied to every Arrow batch of ``source``."""

    def count(self, name: str) -> int:
        """Rows of the table ``name``."""
        return int(self.fetch(f"SELECT COUNT(*) AS n FROM {name}").column(0)[0].as_py())

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the engine holds."""


#: Rows per batch of :meth:`DuckDBEngine.map_batches`.
BATCH_ROWS = 1_048_576


class DuckDBEngine(Engine):
    """DuckDB in-process; extensions are never downloaded."""

    name = "duckdb"

    def __init__(self, threads: int | None = None) -> None:
        import duckdb

        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # a GROUP BY on integers spanning under 2**22 values (customer ids) indexes an array
            # instead of hashing; DuckDB's default stops at 2**12
            "perfect_ht_threshold": 22,
        }
        if threads:
            config["threads"] = threads
        self._con = duckdb.connect(":memory:", config=config)

    def register(self, name: str, table: pa.Table) -> None:
        # Copied into a table of DuckDB's own: it keeps each column's minimum and maximum, with
        # which a GROUP BY on dense integer ids (customers) indexes an array instead of hashing.
        self._con.register("cb_arrow_input", table)
        try:
            self._con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM cb_arrow_input"
            )
        finally:
            self._con.unregister("cb_arrow_input")

    def create(self, name: str, query: str) -> None:
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")

    def fetch(self, query: str) -> pa.Table:
        return self._con.sql(query).to_arrow_table()

    def map_batches(
        self, source: str, target: str, function: BatchFunction, schema: pa.Schema
    ) -> None:
        # DuckDB hands out vectors of ~120,000 rows whatever batch size is asked; the value
        # scores compute once per distinct history in a batch, so they are regrouped into
        # batches of BATCH_ROWS (one for 1,000,000 buyers).
        table = self._con.sql(f"SELECT * FROM {source}").to_arrow_table().combine_chunks()
        batches = [function(batch) for batch in table.to_batches(max_chunksize=BATCH_ROWS)]
        self.register(target, pa.Table.from_batches(batches, schema=schema))

    def close(self) -> None:
        self._con.close()


_SPARK_TYPES = {
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.string(): "string",
    pa.large_string(): "string",
    pa.bool_(): "boolean",
}


class SparkEngine(Engine):
    """Apache Spark (pyspark): local mode by default, or any session handed in."""

    name = "spark"

    def __init__(self, session: Any | None = None) -> None:
        self._spark = session or spark_session()
        self._frames: dict[str, Any] = {}

    def register(self, name: str, table: pa.Table) -> None:
        frame = self._spark.createDataFrame(table) if table.num_rows else self._empty(table)
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame

    def _empty(self, table: pa.Table) -> Any:
        return self._spark.createDataFrame([], _ddl(table.schema))

    def create(self, name: str, query: str) -> None:
        frame = self._spark.sql(query).cache()
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame

    def fetch(self, query: str) -> pa.Table:
        table: pa.Table = self._spark.sql(query).toArrow()
        return table

    def map_batches(
        self, source: str, target: str, function: BatchFunction, schema: pa.Schema
    ) -> None:
        def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                yield function(batch)

        frame = self._spark.table(source).mapInArrow(apply, _ddl(schema)).cache()
        frame.createOrReplaceTempView(target)
        self._frames[target] = frame

    def close(self) -> None:
        for frame in self._frames.values():
            frame.unpersist()
        self._frames.clear()


def _ddl(schema: pa.Schema) -> str:
    parts = []
    for field in schema:
        if field.type not in _SPARK_TYPES:
            raise TypeError(f"No Spark type for {field.type} ({field.name}).")
        parts.append(f"{field.name} {_SPARK_TYPES[field.type]}")
    return ", ".join(parts)


def spark_session() -> Any:
    """The process's Spark session (Arrow transfer on), created on first use: local mode, or
    the cluster of ``spark_master``, with ``spark_conf`` over the defaults below."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UsageError(
            "The Spark engine needs pyspark.",
            hint="Install it with `pip install 'clientbook[spark]'` (and Java 17).",
        ) from exc
    # Workers must run this interpreter (the one that has clientbook installed).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Splink's similarity functions (jaro_winkler, ...) for identity matching: the jar that
    # Splink ships for this Spark version, on the class path from the start
    from splink.backends.spark import similarity_jar_location

    settings = get_settings()
    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName("clientbook")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in settings.spark_conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def get_engine(name: str) -> Engine:
    """The engine called ``name`` (duckdb or spark)."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine()
    raise UsageError(f"Unknown analytics engine {name!r}.", hint="Use duckdb or spark.")
