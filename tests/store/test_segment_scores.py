"""Value scores join the segment language: conditions read each customer's latest score."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from clientbook.store.db import session_scope
from clientbook.store.models.parties import Customer
from clientbook.store.models.value import Score, ScoreRun
from clientbook.store.segments import preview_ids


def _score(run: int, cid: int, day: date, segment: str, clv: float) -> dict[str, object]:
    return {
        "run_id": run,
        "customer_id": cid,
        "as_of": day,
        "model_version": "t",
        "purchases": 1,
        "rfm_segment": segment,
        "clv": clv,
        "revenue_12m": 0.0,
        "margin_12m": 0.0,
        "cost_to_serve_12m": 0.0,
        "current_profitability": 0.0,
        "lifecycle_stage": "repeat",
    }


def test_latest_score_is_used(database_url: str) -> None:
    old, new = date(2026, 1, 1), date(2026, 2, 1)
    with session_scope(database_url) as session:
        session.execute(insert(Customer), [{"id": i, "traits": {}} for i in (1, 2, 3)])
        for rid, day in ((1, old), (2, new)):
            session.execute(
                insert(ScoreRun),
                [
                    {
                        "id": rid,
                        "as_of": day,
                        "model_version": "t",
                        "engine": "duckdb",
                        "customers": 3,
                        "seconds": 1.0,
                        "finished_at": datetime.now(UTC),
                    }
                ],
            )
        session.execute(
            insert(Score),
            [
                _score(1, 1, old, "champions", 900.0),
                _score(2, 1, new, "at_risk", 100.0),
                _score(1, 2, old, "at_risk", 50.0),
                _score(2, 2, new, "champions", 800.0),
            ],
        )
    assert preview_ids(
        database_url, {"field": "rfm_segment", "op": "eq", "value": "champions"}
    ) == [2]
    assert preview_ids(database_url, {"field": "clv", "op": "gte", "value": 500}) == [2]
    assert preview_ids(database_url, {"field": "clv", "op": "is_null"}) == [3]
