"""Probabilistic matching of person records with Splink, incrementally.

The backend is DuckDB in-process (the default) or Apache Spark (``engine="spark"``, Splink's
``SparkAPI`` on the project's Spark session): the same comparisons, model and thresholds on both.

Records with no shared key are compared on name, birth date, address, phone and e-mail
(Fellegi-Sunter model; Splink estimates u by random sampling and m by expectation maximisation).
Incremental: only pairs that involve a *new* record are scored — new against existing
(``predict_between``) and new against new (``predict_within``) — so the existing base is never
re-clustered, and the trained model is kept (JSON) and reused by later runs.

References: Fellegi & Sunter (1969), "A theory for record linkage", JASA 64(328);
Splink, https://moj-analytical-services.github.io/splink.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from clientbook.errors import UsageError
from clientbook.identity.folding import (
    fold,
    fold_date,
    fold_email,
    fold_phone,
    fold_postcode,
)

log = logging.getLogger(__name__)

#: The columns the model compares, prepared by :func:`prepare_records`.
COLUMNS = ("first_name", "last_name", "birth_date", "email", "phone", "street", "city", "postcode")
#: Below this many records, training is unreliable: the default model is used instead.
MIN_TRAINING_RECORDS = 500
#: Below this m of a comparison's "all other" level, a disagreement on it tells two people apart.
CONTRADICTION_M = 0.03
#: m of a level that EM never saw among matches: rare for one person, not impossible
UNSEEN_M = 1e-3


_FOLDERS = {
    "first_name": fold,
    "last_name": fold,
    "birth_date": fold_date,
    "email": fold_email,
    "phone": fold_phone,
    "street": fold,
    "city": fold,
    "postcode": fold_postcode,
}


def prepare_records(records: Iterable[tuple[int, Mapping[str, Any]]]) -> pd.DataFrame:
    """A frame of (unique_id, folded columns) from (record id, raw attributes)."""
    rows = [
        {"unique_id": record_id, **{c: attributes.get(c) for c in COLUMNS}}
        for record_id, attributes in records
    ]
    return prepare_frame(pd.DataFrame(rows, columns=["unique_id", *COLUMNS]))


def prepare_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Fold a frame of (unique_id, raw columns) for matching, each distinct value once."""
    out = pd.DataFrame({"unique_id": raw["unique_id"].to_numpy()})
    for column, folder in _FOLDERS.items():
        values = raw[column] if column in raw else pd.Series([None] * len(raw), dtype=object)
        distinct = pd.unique(values.dropna())
        folded = values.map({v: folder(v) for v in distinct})
        out[column] = folded.to_numpy()
    return out.astype({c: "string" for c in COLUMNS})


def _settings(dialect: str = "duckdb") -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return (
        SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            probability_two_random_records_match=1e-5,
            blocking_rules_to_generate_predictions=[
                block_on("birth_date", "postcode"),
                block_on("last_name", "birth_date"),
                block_on("first_name", "birth_date"),
                block_on("first_name", "last_name"),
                block_on("last_name", "postcode"),
                block_on("first_name", "postcode"),
                block_on("street", "city"),
                block_on("email"),
                block_on("phone"),
            ],
            comparisons=[
                cl.JaroWinklerAtThresholds("first_name", [0.92, 0.88, 0.7]),
                cl.JaroWinklerAtThresholds("last_name", [0.92, 0.88, 0.7]),
                cl.DateOfBirthComparison("birth_date", input_is_string=True),
                cl.ExactMatch("email"),
                cl.ExactMatch("phone"),
                cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
                cl.JaroWinklerAtThresholds("city", [0.9]),
                cl.LevenshteinAtThresholds("postcode", [1, 2]),
            ],
            retain_intermediate_calculation_columns=False,
            retain_matching_columns=False,
        )
        .get_settings(dialect)
        .as_dict()
    )


def default_model() -> dict[str, Any]:
    """The model trained on FEBRL 3 (``scripts/identity-default-model.py``), for small stores."""
    model: dict[str, Any] = json.loads((Path(__file__).parent / "default_model.json").read_text())
    return model


def _db_api(engine: str = "duckdb") -> Any:
    """Splink's database API for ``engine``: a new in-memory DuckDB, or the Spark session."""
    if engine == "spark":
        from splink import SparkAPI

        from clientbook.analytics.engine import spark_session

        # intermediate tables cached in memory: the default (parquet) needs a checkpoint folder
        return SparkAPI(spark_session=spark_session(), break_lineage_method="persist")
    if engine != "duckdb":
        raise UsageError(f"Unknown matching engine {engine!r}.", hint="Use duckdb or spark.")
    import duckdb
    from splink import DuckDBAPI

    connection = duckdb.connect(config={"autoinstall_known_extensions": False})
    return DuckDBAPI(connection=connection)


def _table_name(stem: str) -> str:
    """A name of its own for an input table: a Spark session is shared by every run in it."""
    return f"{stem}_{uuid.uuid4().hex[:12]}"


def _drop_tables(db: Any, inputs: Iterable[Any]) -> None:
    """On Spark, drop the input tables and every table Splink made (and the frames it cached).

    They would outlive the run in the session: Splink's own drops do nothing on Spark outside
    Databricks. A DuckDB connection takes its tables with it.
    """
    if db.sql_dialect.sql_dialect_str != "spark":
        return
    made = {t.physical_name for t in db._intermediate_table_cache.executed_queries}
    for name in sorted(made | {t.physical_name for t in inputs}):
        db.delete_table_from_database(name)


def in_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """``model`` with its SQL in ``dialect`` (duckdb or spark), its parameters unchanged.

    A saved model holds the SQL of the backend that trained it (DuckDB's ``try_strptime`` and
    double-quoted names mean nothing, or something else, to Spark): the comparisons and blocking
    rules are rebuilt from :func:`_settings` in the other dialect, and each level takes the m and
    u that the model has for the level of the same label.
    """
    if model.get("sql_dialect", "duckdb") == dialect:
        return model
    out = _settings(dialect)
    levels = {
        (c["output_column_name"], level.get("label_for_charts")): level
        for c in model["comparisons"]
        for level in c["comparison_levels"]
    }
    for c in out["comparisons"]:
        for level in c["comparison_levels"]:
            key = (c["output_column_name"], level.get("label_for_charts"))
            if key not in levels:
                raise ValueError(f"The model has no level {key}: it cannot run on {dialect}.")
            for name in (
                "m_probability",
                "u_probability",
                "fix_m_probability",
                "fix_u_probability",
            ):
                if name in levels[key]:
                    level[name] = levels[key][name]
    rebuilt = {"comparisons", "blocking_rules_to_generate_predictions", "sql_dialect"}
    out.update({k: v for k, v in model.items() if k not in rebuilt})
    return out


@dataclass
class MatchResult:
    """Scored pairs (``left``, ``right`` record ids, ``probability``) and the model used."""

    pairs: pd.DataFrame
    model: dict[str, Any]
    trained: bool


def train(frame: pd.DataFrame, seed: int = 42, engine: str = "duckdb") -> dict[str, Any]:
    """Estimate the model on these records; return Splink's settings JSON (a dict)."""
    from splink import Linker, block_on

    db = _db_api(engine)
    records = db.register(frame, table_name=_table_name("cb_training_records"))
    used = [(db, records)]
    try:
        linker = Linker(records, _settings(engine), log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "last_name", "birth_date")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
        model: dict[str, Any] = linker.misc.save_model_to_json()
        sessions = 0
        for rule in (block_on("birth_date", "city"), block_on("last_name", "first_name")):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, fix_u_probabilities=True
                )
                model = linker.misc.save_model_to_json()
                sessions += 1
            except ValueError as exc:  # a level never seen among matches: m underflows to 0
                log.warning("EM on %s skipped: %s", rule, exc)
                # a failed session leaves the linker without the comparisons it had set aside
                # for its blocking rule: go on from the last complete model
                db = _db_api(engine)
                records = db.register(frame, table_name=_table_name("cb_training_records"))
                used.append((db, records))
                linker = Linker(records, model, log_level=logging.WARNING)
    finally:
        for db, records in used:
            _drop_tables(db, [records])
    if not sessions:
        log.warning("EM failed: the default model's m, with u estimated on these records")
        return with_u_of(default_model(), model)
    return with_unseen_m(model)


def rarely_contradicted(model: dict[str, Any], columns: Iterable[str]) -> set[str]:
    """The columns on which one person's records almost never disagree, by the model's m.

    Where the store's sources type a birth date or first name faithfully (m of the "all other"
    level under :data:`CONTRADICTION_M`), two of them that disagree are two people, and a chain of
    pairwise matches must not join them; where values are often replaced or misheard (FEBRL),
    a disagreement proves nothing.
    """
    out = set()
    for c in model["comparisons"]:
        levels = [level for level in c["comparison_levels"] if not level.get("is_null_level")]
        if c["output_column_name"] in columns and levels:
            m = levels[-1].get("m_probability")
            if m is not None and m < CONTRADICTION_M:
                out.add(c["output_column_name"])
    return out


def with_unseen_m(model: dict[str, Any]) -> dict[str, Any]:
    """``model`` with a small m (:data:`UNSEEN_M`) where EM saw no match at a level.

    Splink leaves m None there and gives the level no weight at all, so that a first name far
    from the other counted for nothing instead of against: two people of one household matched
    on their address alone. Never seen among one person's records means rare, not neutral.
    """
    out = json.loads(json.dumps(model))
    for c in out["comparisons"]:
        for level in c["comparison_levels"]:
            if not level.get("is_null_level") and level.get("m_probability") is None:
                level["m_probability"] = UNSEEN_M
    return out


def with_u_of(model: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """``model`` with the u probabilities that ``other`` estimated (level by level).

    u (how often two different people agree by chance) depends on the store's own values — a
    city shared by one customer in eight, names drawn from a short list — and random sampling
    estimates it well on any store. m (how often one person's records agree) is about typing
    errors and changes of address, which carry over from the labelled data the default model
    learned; EM cannot estimate it when the sources share too few fields.
    """
    estimated = {
        (c["output_column_name"], level.get("label_for_charts")): level.get("u_probability")
        for c in other["comparisons"]
        for level in c["comparison_levels"]
    }
    out = json.loads(json.dumps(model))
    for c in out["comparisons"]:
        for level in c["comparison_levels"]:
            u = estimated.get((c["output_column_name"], level.get("label_for_charts")))
            if u and not level.get("is_null_level"):
                level["u_probability"] = u
    return out


def score_new(
    existing: pd.DataFrame,
    new: pd.DataFrame,
    *,
    model: dict[str, Any] | None,
    threshold: float,
    engine: str = "duckdb",
) -> MatchResult:
    """Pairs with a new record (new-existing and new-new) at or above ``threshold``.

    ``model`` is a model from an earlier run; None trains one on all the records. ``engine`` is
    where Splink runs: duckdb or spark.
    """
    from splink import Linker

    trained = False
    if model is None:
        everything = pd.concat([existing, new], ignore_index=True)
        if len(everything) >= MIN_TRAINING_RECORDS:
            model = train(everything, engine=engine)
            trained = True
        else:
            model = default_model()
    empty = pd.DataFrame({"left": [], "right": [], "probability": []})
    if new.empty:
        return MatchResult(empty, model, trained)
    db = _db_api(engine)
    model = in_dialect(model, engine)
    new_df = db.register(new, table_name=_table_name("cb_new_records"))
    registered = [new_df]
    try:
        linker = Linker(new_df, model, log_level=logging.WARNING)
        frames = [
            linker.inference.predict_within(
                new_df, threshold_match_probability=threshold, warning_mode="never"
            ).as_pandas_dataframe()
        ]
        if not existing.empty:
            old_df = db.register(existing, table_name=_table_name("cb_existing_records"))
            registered.append(old_df)
            frames.append(
                linker.inference.predict_between(
                    old_df, new_df, threshold_match_probability=threshold, warning_mode="never"
                ).as_pandas_dataframe()
            )
    finally:
        _drop_tables(db, registered)
    scored = pd.concat(frames, ignore_index=True)
    if scored.empty:
        return MatchResult(empty, model, trained)
    pairs = pd.DataFrame(
        {
            "left": scored["unique_id_l"].astype("int64"),
            "right": scored["unique_id_r"].astype("int64"),
            "probability": scored["match_probability"].astype("float64"),
        }
    )
    return MatchResult(pairs, model, trained)
