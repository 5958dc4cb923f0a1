"""The agent's services: search, sort, filter, log a contact, open and resolve a case."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from tests.serve.web.seed import seed_retailer

from clientbook.errors import Conflict, NotFound, UsageError
from clientbook.store.contacts import (
    CaseIn,
    CustomerQuery,
    InteractionIn,
    lifecycle_stages,
    log_interaction,
    open_case,
    resolve_case,
    search_customers,
)
from clientbook.store.customer360 import customer_360


def test_search_over_names_emails_phones_and_identifiers(database_url: str) -> None:
    ids = seed_retailer(database_url, customers=30)
    ann = ids["ann"]

    def found(q: str, phone: str | None = None) -> list[int]:
        page = search_customers(database_url, CustomerQuery(q=q), phone=phone)
        return [r.id for r in page.rows]

    assert ann in found("Ann Smith")
    assert ann in found("ANN.SMITH0@example")
    assert ann in found("07700", phone="+447700900000")
    hit = search_customers(database_url, CustomerQuery(q="lc-100000")).rows
    assert [h.id for h in hit] == [ann] and hit[0].matched == "loyalty_card: LC-100000"
    assert found("100%_") == []  # LIKE wildcards are literal


def test_sort_filter_and_page(database_url: str) -> None:
    seed_retailer(database_url, customers=30)
    stages = lifecycle_stages(database_url)
    assert stages == ["first_purchase", "inactive", "registered", "repeat"]
    page = search_customers(
        database_url,
        CustomerQuery(stage="repeat", sort="revenue", direction="desc", page_size=5),
        stages=stages,
    )
    assert page.total == 7 and len(page.rows) == 5
    assert all(r.lifecycle_stage == "repeat" for r in page.rows)
    revenues = [r.revenue for r in page.rows]
    assert revenues == sorted(revenues, reverse=True)
    with pytest.raises(UsageError):
        search_customers(database_url, CustomerQuery(stage="vip"), stages=stages)


@pytest.mark.parametrize(
    "params", [{"sort": "password"}, {"direction": "up"}, {"stage": "Robert'); --"}, {"x": 1}]
)
def test_query_allow_lists(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CustomerQuery.model_validate(params)


def test_log_interaction_and_cases(database_url: str) -> None:
    ann = seed_retailer(database_url, customers=5)["ann"]
    logged = log_interaction(
        database_url,
        InteractionIn(
            customer_id=ann, channel="call_centre", type="call", subject="Where is my parcel?"
        ),
    )
    view = customer_360(database_url, ann)
    assert view.interactions[0].id == logged.id  # newest first
    case = open_case(database_url, CaseIn(customer_id=ann, category="error", description="x"))
    assert case.status == "open"
    done = resolve_case(database_url, case.id, "Refunded", customer_id=ann)
    assert done.status == "resolved" and done.resolved_at is not None
    with pytest.raises(Conflict):
        resolve_case(database_url, case.id, "again")
    with pytest.raises(NotFound):
        resolve_case(database_url, 99_999, "x")
    with pytest.raises(ValidationError):
        InteractionIn(customer_id=ann, channel="telepathy")


def test_filter_by_segment(database_url: str) -> None:
    from datetime import UTC, datetime

    from clientbook.store.db import session_scope
    from clientbook.store.models.needs import Segment, SegmentMembership

    ids = seed_retailer(database_url, customers=10)
    with session_scope(database_url) as session:
        segment = Segment(name="vip-ann", definition={"field": "id", "op": "eq", "value": 1})
        session.add(segment)
        session.flush()
        now = datetime.now(UTC)
        session.add(
            SegmentMembership(segment_id=segment.id, customer_id=ids["ann"], entered_at=now)
        )
        session.add(
            SegmentMembership(
                segment_id=segment.id, customer_id=ids["xss"], entered_at=now, left_at=now
            )
        )
    page = search_customers(database_url, CustomerQuery(segment="vip-ann"))
    assert [r.id for r in page.rows] == [ids["ann"]]
    with pytest.raises(UsageError):
        search_customers(database_url, CustomerQuery(segment="nope"))
    with pytest.raises(ValidationError):
        CustomerQuery(segment="Bad Name!")
