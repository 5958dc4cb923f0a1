"""Splink on Spark resolves as it does on DuckDB: same pairs, same customers (local Spark)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from clientbook.config import Settings
from clientbook.identity.quality import pairwise_quality, read_labels
from clientbook.identity.resolver import resolve_new
from clientbook.identity.service import export_records
from clientbook.store.db import session_scope
from tests.conftest import new_database
from tests.identity.records import bulk_records
from tests.identity.test_quality import febrl3


def _clusters(labels: dict[tuple[str, str], str]) -> set[frozenset[tuple[str, str]]]:
    members: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for record, customer in labels.items():
        members[customer].add(record)
    return {frozenset(m) for m in members.values()}


@pytest.mark.spark
def test_spark_engine_resolves_as_duckdb(tmp_path: Path, spark: Any) -> None:
    rows, truth = febrl3()
    # every record of 120 FEBRL people (~300 records), in the file's (random) order
    people = set(sorted(set(truth.values()))[:120])
    sample = [(r, a) for r, a in rows if truth[("febrl", r)] in people]
    labels = {}
    for engine in ("duckdb", "spark"):
        folder = tmp_path / engine
        folder.mkdir()
        with new_database("sqlite", folder) as url:
            # two runs: the second scores its records against the first's (predict_between)
            # and each other (predict_within), with the model the first run stored
            with session_scope(url) as session:
                bulk_records(session, "febrl", sample[:200])
            first = resolve_new(Settings(database_url=url), engine=engine)
            with session_scope(url) as session:
                bulk_records(session, "febrl", sample[200:])
            second = resolve_new(Settings(database_url=url), engine=engine)
            assert first.engine == second.engine == engine
            assert second.new_records == len(sample) - 200 and second.probabilistic_merges
            export_records(url, folder / "export.csv")
            labels[engine] = read_labels(folder / "export.csv", "customer_id")
    duck, sparked = (pairwise_quality(labels[e], truth) for e in ("duckdb", "spark"))
    print(
        f"FEBRL3 sample of {duck.records}: duckdb precision {duck.precision:.4f} recall "
        f"{duck.recall:.4f}; spark precision {sparked.precision:.4f} recall {sparked.recall:.4f}"
    )
    assert duck.precision >= 0.99 and duck.recall >= 0.9
    assert _clusters(labels["spark"]) == _clusters(labels["duckdb"])
