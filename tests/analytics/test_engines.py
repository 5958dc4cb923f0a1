"""The same analytics on DuckDB and on Spark agree (one Spark session per test session)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from clientbook.analytics.engine import DuckDBEngine, SparkEngine
from clientbook.analytics.refresh import analyse
from clientbook.config import Settings
from tests.analytics.factory import AS_OF, populate


@pytest.mark.spark
def test_duckdb_and_spark_agree(sqlite_url: str, spark: Any) -> None:
    populate(sqlite_url, customers=150)
    settings = Settings(database_url=sqlite_url)
    duck, duck_rows = analyse(settings, engine=DuckDBEngine(), as_of=AS_OF, store=False)
    sparked, spark_rows = analyse(settings, engine=SparkEngine(spark), as_of=AS_OF, store=False)
    assert sparked.engine == "spark" and duck.engine == "duckdb"
    assert duck.models["purchase"]["params"] == pytest.approx(
        sparked.models["purchase"]["params"], rel=1e-6
    )
    assert duck.stages == sparked.stages and duck.segments == sparked.segments
    left, right = duck_rows.to_pylist(), spark_rows.to_pylist()
    assert len(left) == len(right) == 150
    for a, b in zip(left, right, strict=True):
        for key, value in a.items():
            if isinstance(value, float):
                # the engines sum in different orders; the fitted models carry that through
                assert b[key] == pytest.approx(value, rel=1e-5, abs=1e-4), (key, a, b)
            else:
                assert b[key] == value, key


def test_models_fit_on_a_sample_and_score_everyone(sqlite_url: str) -> None:
    populate(sqlite_url, customers=300, seed=5)
    settings = Settings(database_url=sqlite_url, value_fit_sample=120)
    report, rows = analyse(settings, engine=DuckDBEngine(), as_of=AS_OF, store=False)
    assert report.models["fit_customers"] < report.buyers
    assert rows.num_rows == 300
    assert sum(r["p_alive"] is not None for r in rows.to_pylist()) == report.buyers


@pytest.mark.spark
def test_samples_are_the_same_for_the_same_seed(spark: Any) -> None:
    table = pa.table({"customer_id": pa.array(range(2_000), pa.int64())})
    for engine in (DuckDBEngine(), SparkEngine(spark)):
        engine.register("cb_people", table)
        first = engine.sample("cb_people", "customer_id", 300, seed=1).column(0).to_pylist()
        again = engine.sample("cb_people", "customer_id", 300, seed=1).column(0).to_pylist()
        other = engine.sample("cb_people", "customer_id", 300, seed=2).column(0).to_pylist()
        assert len(first) == len(set(first)) == 300, engine.name
        assert sorted(first) == sorted(again) and set(first) != set(other), engine.name
        assert 700 < sum(first) / len(first) < 1_300, engine.name  # spread over the ids
        every = engine.sample("cb_people", "customer_id", 5_000, seed=1)
        assert every.num_rows == 2_000, engine.name
        engine.close()


@pytest.mark.spark
def test_spark_runs_where_the_settings_say(spark: Any) -> None:
    # the session of the tests was built by spark_session() from the default settings
    assert spark.sparkContext.master == Settings().spark_master == "local[2]"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
