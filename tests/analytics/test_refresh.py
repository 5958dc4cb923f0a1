"""`analyse` end to end on the store (SQLite and PostgreSQL): scores, stages, changes."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
import pytest
from sqlalchemy import select

from clientbook.analytics.refresh import analyse
from clientbook.config import Settings
from clientbook.store.db import session_scope
from clientbook.store.models.parties import Customer
from clientbook.store.models.value import LifecycleChange, Score
from clientbook.store.segments import preview_ids
from clientbook.store.value import latest_run
from tests.analytics.factory import AS_OF, populate


def test_analyse_scores_every_surviving_customer(database_url: str) -> None:
    ids = populate(database_url, customers=200)
    settings = Settings(database_url=database_url)
    report, table = analyse(settings, as_of=AS_OF)
    assert report.customers == 200 and report.run_id is not None
    assert report.models["purchase"]["model"] == "BGNBD"
    rows = {r["customer_id"]: r for r in table.to_pylist()}
    assert ids["merged"] not in rows  # merged away: its order counts for the survivor
    assert rows[ids["visitor"]]["lifecycle_stage"] == "anonymous_visitor"
    assert rows[ids["registered"]]["lifecycle_stage"] == "registered"
    assert rows[ids["registered"]]["clv"] is None
    buyer = rows[ids["survivor"]]
    assert buyer["purchases"] > 0 and 0 <= buyer["p_alive"] <= 1
    assert buyer["rfm_segment"] and len(buyer["rfm_score"]) == 3
    assert buyer["current_profitability"] == pytest.approx(
        buyer["margin_12m"] - buyer["cost_to_serve_12m"]
    )
    assert rows[3]["monetary"] < 999  # the order after the as-of date is ignored
    stages = set(pc.unique(table["lifecycle_stage"]).to_pylist())
    assert {"first_purchase", "inactive", "loyal"} <= stages
    run = latest_run(database_url)
    assert run is not None and run.id == report.run_id and run.as_of == AS_OF
    with session_scope(database_url, write=False) as session:
        assert len(session.scalars(select(Score)).all()) == 200
        stage = session.get(Customer, ids["survivor"]).lifecycle_stage
        assert stage == buyer["lifecycle_stage"]
        assert len(session.scalars(select(LifecycleChange)).all()) == 200


def test_a_later_run_records_only_the_changes(database_url: str) -> None:
    populate(database_url, customers=120)
    settings = Settings(database_url=database_url)
    analyse(settings, as_of=AS_OF)
    report, table = analyse(settings, as_of=date(2026, 6, 30))  # a year without purchases
    assert 0 < report.changes < 120
    with session_scope(database_url, write=False) as session:
        later = session.scalars(
            select(LifecycleChange).where(LifecycleChange.changed_on == date(2026, 6, 30))
        ).all()
    assert len(later) == report.changes
    assert all(c.from_stage != c.to_stage for c in later)
    assert {c.to_stage for c in later} <= {"lapsing", "inactive"}


def test_segments_ask_who_changed_stage_and_when(database_url: str) -> None:
    populate(database_url, customers=120)
    settings = Settings(database_url=database_url)
    analyse(settings, as_of=AS_OF)
    later = date(2026, 6, 30)
    analyse(settings, as_of=later)
    with session_scope(database_url, write=False) as session:
        changes = session.scalars(
            select(LifecycleChange).where(LifecycleChange.changed_on == later)
        ).all()
        lapsed = {c.customer_id for c in changes if c.to_stage == "inactive"}
        from_loyal = {c.customer_id for c in changes if c.from_stage == "loyal"}
    assert lapsed and from_loyal
    became_inactive = {
        "all": [
            {"field": "lifecycle_stage", "op": "eq", "value": "inactive"},
            {"field": "lifecycle_stage_since", "op": "gte", "value": later.isoformat()},
        ]
    }
    assert set(preview_ids(database_url, became_inactive)) == lapsed
    since_a_week = {"field": "lifecycle_stage_since", "op": "gte", "value": "2026-06-23"}
    assert set(preview_ids(database_url, since_a_week)) == {c.customer_id for c in changes}
    was_loyal = {"field": "previous_lifecycle_stage", "op": "eq", "value": "loyal"}
    assert set(preview_ids(database_url, was_loyal)) == from_loyal
