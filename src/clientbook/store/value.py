"""Queries by purpose for value analytics: bulk inputs as Arrow, storing a run, reading scores.

Days are whole UTC calendar days since 1970-01-01 (``day``), computed by the database, so that
the analytics engines do integer arithmetic only and agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from pydantic import BaseModel
from sqlalchemy import delete, select, update

from clientbook.store.arrow_io import bulk_writer, dialect, read_arrow, read_arrows
from clientbook.store.db import session_scope
from clientbook.store.models.value import LifecycleChange, Score, ScoreRun


def _day(column: str, sql_dialect: str) -> str:
    if sql_dialect == "sqlite":
        # SQLite holds UTC instants as text ('YYYY-MM-DD HH:MM:SS' or ISO 'T'): the date is the
        # first ten characters, turned into a day number by Arrow (see _days), 40 % cheaper
        # than SQLite's own julianday(date(...)) over 10,000,000 rows.
        return f"substr({column}, 1, 10)"
    return f"(({column} AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"


def _as_read(schema: pa.Schema, sql_dialect: str) -> pa.Schema:
    """``schema`` as the store returns it: SQLite gives the ``day`` column as ISO text."""
    if sql_dialect != "sqlite" or "day" not in schema.names:
        return schema
    return schema.set(schema.get_field_index("day"), pa.field("day", pa.string()))


def _days(table: pa.Table) -> pa.Table:
    """The ``day`` column as days since 1970-01-01 (int32), whichever way it was read."""
    index = table.schema.get_field_index("day")
    column = table["day"]
    if pa.types.is_string(column.type):
        column = column.cast(pa.date32()).cast(pa.int32())
    return table.set_column(index, "day", column.cast(pa.int32()))


def _real(column: str, sql_dialect: str) -> str:
    return f"CAST({column} AS {'REAL' if sql_dialect == 'sqlite' else 'DOUBLE PRECISION'})"


CUSTOMERS = pa.schema(
    [
        ("id", pa.int64()),
        ("merged_into_id", pa.int64()),
        ("stage", pa.string()),
        ("known", pa.int32()),
    ]
)
ORDERS = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("day", pa.int32()),
        ("revenue", pa.float64()),
        ("cost", pa.float64()),
        ("costed", pa.int32()),
    ]
)
CONTACTS = pa.schema([("customer_id", pa.int64()), ("day", pa.int32()), ("channel", pa.string())])
CASES = pa.schema([("customer_id", pa.int64()), ("day", pa.int32())])


@dataclass(frozen=True)
class ValueInputs:
    """What the value analytics read from the store, as Arrow tables.

    customers: id, merged_into_id (0 when surviving), stage (current, '' if none), known
    (1 when registered: an identifier other than a cookie, an e-mail or a phone);
    orders: customer_id, day, revenue, cost (0 when unknown), costed (1 when the cost is known);
    interactions: customer_id, day, channel; cases: customer_id, day.
    """

    customers: pa.Table
    orders: pa.Table
    interactions: pa.Table
    cases: pa.Table


def load_value_inputs(url: str, as_of: date) -> ValueInputs:
    """Everything up to and including ``as_of``, read in bulk through Arrow.

    The orders, the largest input, are read in two halves by row id side by side (on SQLite,
    two child processes: see :mod:`clientbook.store.arrow_io`); every column is non-NULL.
    """
    d = dialect(url)
    # A date object rendered by isoformat() is not user text: it cannot carry SQL.
    before = f"'{(as_of + timedelta(days=1)).isoformat()}'"
    bounds = read_arrow(url, "SELECT MIN(id) AS low, MAX(id) AS high FROM orders").to_pylist()[0]
    low, high = int(bounds["low"] or 0), int(bounds["high"] or 0)
    middle = (low + high) // 2
    orders_query = (
        f"SELECT customer_id, {_day('ordered_at', d)} AS day, "  # noqa: S608
        f"{_real('revenue', d)} AS revenue, COALESCE({_real('cost', d)}, 0.0) AS cost, "
        "CASE WHEN cost IS NULL THEN 0 ELSE 1 END AS costed "
        f"FROM orders WHERE ordered_at < {before} AND id "
    )
    customers, orders_low, orders_high, interactions, cases = read_arrows(
        url,
        [
            (
                "SELECT c.id AS id, COALESCE(c.merged_into_id, 0) AS merged_into_id, "
                "COALESCE(c.lifecycle_stage, '') AS stage, "
                "CASE WHEN c.email IS NOT NULL OR c.phone IS NOT NULL OR c.id IN (SELECT "
                "i.customer_id FROM identifiers i WHERE i.type <> 'anonymous_id') "
                "THEN 1 ELSE 0 END AS known FROM customers c",
                CUSTOMERS,
            ),
            (f"{orders_query} <= {middle}", _as_read(ORDERS, d)),
            (f"{orders_query} > {middle}", _as_read(ORDERS, d)),
            (
                f"SELECT customer_id, {_day('occurred_at', d)} AS day, channel "  # noqa: S608
                f"FROM interactions WHERE occurred_at < {before}",
                _as_read(CONTACTS, d),
            ),
            (
                f"SELECT customer_id, {_day('opened_at', d)} AS day "  # noqa: S608
                f"FROM cases WHERE opened_at < {before}",
                _as_read(CASES, d),
            ),
        ],
    )
    orders = _days(pa.concat_tables([orders_low, orders_high]))
    return ValueInputs(customers, orders, _days(interactions), _days(cases))


def save_run(
    url: str,
    *,
    as_of: date,
    model_version: str,
    engine: str,
    models: dict[str, Any],
    settings: dict[str, Any],
    seconds: float,
    scores: pa.Table,
    changes: pa.Table,
) -> int:
    """Store one run: its scores, the lifecycle changes, and each customer's current stage.

    ``scores`` has the columns of the ``scores`` table except id, run_id, as_of and
    model_version; ``changes`` has customer_id, from_stage, to_stage. The run becomes visible
    to readers (``finished_at``) only once everything is stored. Returns the run id.
    """
    with session_scope(url) as session:
        run = ScoreRun(
            as_of=as_of,
            model_version=model_version,
            engine=engine,
            customers=scores.num_rows,
            models=models,
            settings=settings,
            seconds=seconds,
        )
        session.add(run)
        session.flush()
        run_id = run.id
    now = datetime.now(UTC)
    m = changes.num_rows
    try:
        with bulk_writer(url) as writer:
            writer.insert("scores", _with_run(scores, run_id, as_of, model_version))
            writer.insert(
                "lifecycle_changes",
                pa.table(
                    {
                        "customer_id": changes["customer_id"],
                        "from_stage": changes["from_stage"],
                        "to_stage": changes["to_stage"],
                        "changed_on": pa.array([as_of] * m, pa.date32()),
                        "run_id": pa.array([run_id] * m, pa.int32()),
                        "recorded_at": pa.array([now] * m, pa.timestamp("us", "UTC")),
                    }
                ),
            )
            stages = pa.table({"customer_id": changes["customer_id"], "stage": changes["to_stage"]})
            writer.temporary("cb_stage_updates", stages)
            writer.execute(
                "UPDATE customers SET lifecycle_stage = u.stage FROM cb_stage_updates u "
                "WHERE customers.id = u.customer_id"
            )
            writer.execute("DROP TABLE cb_stage_updates")
    except BaseException:
        with session_scope(url) as session:
            session.execute(delete(ScoreRun).where(ScoreRun.id == run_id))
        raise
    with session_scope(url) as session:
        session.execute(update(ScoreRun).where(ScoreRun.id == run_id).values(finished_at=now))
    return run_id


def _with_run(scores: pa.Table, run_id: int, as_of: date, model_version: str) -> pa.Table:
    n = scores.num_rows
    out = scores
    out = out.append_column("run_id", pa.array([run_id] * n, pa.int32()))
    out = out.append_column("as_of", pa.array([as_of] * n, pa.date32()))
    return out.append_column("model_version", pa.array([model_version] * n, pa.string()))


class RunOut(BaseModel):
    """A finished scoring run."""

    id: int
    as_of: date
    model_version: str
    engine: str
    customers: int
    models: dict[str, Any]
    seconds: float
    computed_at: datetime


def latest_run(url: str) -> RunOut | None:
    """The newest finished run, or None before the first `clientbook analyse`."""
    with session_scope(url, write=False) as session:
        run = session.scalars(
            select(ScoreRun)
            .where(ScoreRun.finished_at.is_not(None))
            .order_by(ScoreRun.id.desc())
            .limit(1)
        ).first()
        return RunOut.model_validate(run, from_attributes=True) if run else None


def latest_scores(url: str) -> tuple[RunOut | None, pa.Table]:
    """The newest finished run and its scores, as Arrow (empty table before any run)."""
    run = latest_run(url)
    if run is None:
        return None, pa.table({})
    # run.id is an integer from the database, not user text.
    table = read_arrow(url, f"SELECT * FROM scores WHERE run_id = {int(run.id)}")  # noqa: S608
    return run, table


def lifecycle_movements(url: str, since: date) -> pa.Table:
    """Counts of stage changes (from_stage, to_stage, customers) on or after ``since``."""
    return read_arrow(
        url,
        "SELECT COALESCE(from_stage, '') AS from_stage, to_stage, COUNT(*) AS customers "  # noqa: S608
        f"FROM lifecycle_changes WHERE changed_on >= '{since.isoformat()}' "
        "GROUP BY from_stage, to_stage ORDER BY customers DESC",
    )


class ScorePoint(BaseModel):
    """One run's P(alive) and CLV for a customer."""

    as_of: date
    p_alive: float | None
    clv: float | None


class StageChange(BaseModel):
    from_stage: str | None
    to_stage: str
    changed_on: date


class CustomerValue(BaseModel):
    """The value section of the customer 360 (from the latest finished run)."""

    as_of: date
    model_version: str
    recency_days: int | None
    frequency: int | None
    monetary: float | None
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm_score: str | None
    rfm_segment: str | None
    clv: float | None
    p_alive: float | None
    expected_transactions: float | None
    current_profitability: float
    revenue_12m: float
    cost_to_serve_12m: float
    lifecycle_stage: str
    history: list[ScorePoint]
    stage_changes: list[StageChange]


def customer_value(session: Any, customer_id: int) -> CustomerValue | None:
    """The customer's latest scores with their P(alive)/CLV history, or None if never scored."""
    rows = session.execute(
        select(Score, ScoreRun.id)
        .join(ScoreRun, ScoreRun.id == Score.run_id)
        .where(Score.customer_id == customer_id, ScoreRun.finished_at.is_not(None))
        .order_by(Score.as_of, ScoreRun.id)
    ).all()
    if not rows:
        return None
    latest: Score = rows[-1][0]
    changes = session.scalars(
        select(LifecycleChange)
        .where(LifecycleChange.customer_id == customer_id)
        .order_by(LifecycleChange.changed_on, LifecycleChange.id)
    ).all()
    return CustomerValue(
        as_of=latest.as_of,
        model_version=latest.model_version,
        recency_days=latest.recency_days,
        frequency=latest.frequency,
        monetary=latest.monetary,
        r_score=latest.r_score,
        f_score=latest.f_score,
        m_score=latest.m_score,
        rfm_score=latest.rfm_score,
        rfm_segment=latest.rfm_segment,
        clv=latest.clv,
        p_alive=latest.p_alive,
        expected_transactions=latest.expected_transactions,
        current_profitability=latest.current_profitability,
        revenue_12m=latest.revenue_12m,
        cost_to_serve_12m=latest.cost_to_serve_12m,
        lifecycle_stage=latest.lifecycle_stage,
        history=[ScorePoint(as_of=s.as_of, p_alive=s.p_alive, clv=s.clv) for s, _ in rows],
        stage_changes=[
            StageChange(from_stage=c.from_stage, to_stage=c.to_stage, changed_on=c.changed_on)
            for c in changes
        ],
    )


def value_breakdowns(url: str, as_of: date) -> dict[str, Any]:
    """Revenue by order channel, contacts by channel (last 12 months) and monthly cohorts."""
    d = dialect(url)
    start = f"'{(as_of - timedelta(days=365)).isoformat()}'"
    end = f"'{(as_of + timedelta(days=1)).isoformat()}'"
    revenue = read_arrow(
        url,
        f"SELECT COALESCE(channel, 'unknown') AS channel, {_real('SUM(revenue)', d)} AS revenue, "  # noqa: S608
        f"COUNT(*) AS orders FROM orders WHERE ordered_at >= {start} AND ordered_at < {end} "
        "GROUP BY COALESCE(channel, 'unknown') ORDER BY revenue DESC",
    )
    contacts = read_arrow(
        url,
        "SELECT channel, COUNT(*) AS interactions FROM interactions "  # noqa: S608
        f"WHERE occurred_at >= {start} AND occurred_at < {end} GROUP BY channel",
    )
    orders = read_arrow(
        url,
        f"SELECT customer_id, {_day('ordered_at', d)} AS day FROM orders "  # noqa: S608
        f"WHERE ordered_at < {end}",
        _as_read(pa.schema([("customer_id", pa.int64()), ("day", pa.int32())]), d),
    )
    orders = _days(orders)
    return {
        "revenue": revenue.to_pylist(),
        "contacts": contacts.to_pylist(),
        "cohorts": _cohorts(orders),
    }


def _cohorts(orders: pa.Table, months: int = 6, cohorts: int = 12) -> list[dict[str, Any]]:
    """Share of each first-purchase month's customers who buy again k months later."""
    import numpy as np

    if orders.num_rows == 0:
        return []
    cid = orders["customer_id"].to_numpy()
    month = (
        orders["day"].to_numpy().astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    )
    order = np.lexsort((month, cid))
    cid, month = cid[order], month[order]
    first_idx = np.r_[0, np.flatnonzero(np.diff(cid)) + 1]
    counts = np.diff(np.r_[first_idx, len(cid)])
    first = np.repeat(month[first_idx], counts)
    offset = month - first
    out = []
    for cohort in np.unique(month[first_idx])[-cohorts:]:
        size = int(np.sum(month[first_idx] == cohort))
        in_cohort = first == cohort
        retention = []
        for k in range(1, months + 1):
            active = np.unique(cid[in_cohort & (offset == k)]).size
            retention.append(round(active / size, 4) if size else 0.0)
        label = str(np.datetime64(int(cohort), "M"))
        out.append({"cohort": label, "customers": size, "retention": retention})
    return out
