"""A small, realistic store for value analytics tests: buyers from a BG/NBD process,
orders with cost, contacts per channel, cases, a merged customer, anonymous visitors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Case, Interaction
from clientbook.store.models.parties import Customer, Identifier

AS_OF = date(2025, 6, 30)
START = date(2023, 7, 1)


def populate(url: str, customers: int = 400, seed: int = 11) -> dict[str, int]:
    """Write the base; returns a few ids worth checking."""
    rng = np.random.default_rng(seed)
    # Gamma-Gamma's own process for spend: each buyer's rate nu ~ Gamma(q=5, rate=48), so that
    # mean spend differs between customers (iid spend leaves q and gamma unidentified).
    spend_rates = np.random.default_rng(seed + 1).gamma(5.0, 1 / 48.0, customers + 1)
    span = (AS_OF - START).days
    people, ids, orders, contacts, cases = [], [], [], [], []
    for cid in range(1, customers + 1):
        anonymous = cid % 10 == 0
        people.append(
            {
                "id": cid,
                "email": None if anonymous else f"person{cid}@example.org",
                "traits": {},
                "created_at": datetime(2023, 7, 1, tzinfo=UTC),
                "updated_at": datetime(2023, 7, 1, tzinfo=UTC),
            }
        )
        ids.append(
            {"customer_id": cid, "type": "anonymous_id", "value": f"anon-{cid}", "source": "web"}
        )
        if anonymous or cid % 10 == 1:
            continue  # visitors and registered people who never bought
        birth = int(rng.integers(0, span - 30))
        rate = rng.gamma(0.8, 1 / 25.0)
        drop = rng.beta(1.0, 3.0)
        day = float(birth)
        n = 0
        while day <= span:
            for _ in range(1 + int(rng.random() < 0.1)):  # sometimes two orders in one day
                revenue = round(float(rng.gamma(4.0, 1 / spend_rates[cid])), 2)
                n += 1
                orders.append(
                    {
                        "source": "shop",
                        "order_id": f"o{cid}-{n}",
                        "customer_id": cid,
                        "ordered_at": datetime.combine(START, datetime.min.time(), UTC)
                        + timedelta(days=int(day), hours=int(rng.integers(8, 20))),
                        "revenue": revenue,
                        "cost": round(revenue * 0.6, 2) if cid % 7 else None,
                        "channel": "web" if rng.random() < 0.7 else "store",
                    }
                )
            if rng.random() < drop:
                break
            day += rng.exponential(1 / rate) + 1
        for k in range(int(rng.poisson(3))):
            contacts.append(
                {
                    "source": "crm",
                    "interaction_id": f"i{cid}-{k}",
                    "customer_id": cid,
                    "channel": str(rng.choice(["email", "call_centre", "web", "phone"])),
                    "direction": "inbound",
                    "occurred_at": datetime.combine(AS_OF, datetime.min.time(), UTC)
                    - timedelta(days=int(rng.integers(0, 500))),
                    "properties": {},
                }
            )
        if cid % 13 == 0:
            cases.append(
                {
                    "source": "crm",
                    "case_id": f"c{cid}",
                    "customer_id": cid,
                    "category": "complaint",
                    "status": "resolved",
                    "opened_at": datetime.combine(AS_OF, datetime.min.time(), UTC)
                    - timedelta(days=40),
                }
            )
    merged = customers + 1  # absorbed into customer 2, with one order of its own
    people.append(
        {
            "id": merged,
            "email": "old@example.org",
            "traits": {},
            "merged_into_id": 2,
            "created_at": datetime(2023, 7, 1, tzinfo=UTC),
            "updated_at": datetime(2023, 7, 1, tzinfo=UTC),
        }
    )
    orders.append(
        {
            "source": "shop",
            "order_id": "merged-1",
            "customer_id": merged,
            "ordered_at": datetime(2025, 6, 1, 12, tzinfo=UTC),
            "revenue": 80.0,
            "cost": 50.0,
            "channel": "web",
        }
    )
    # An order after the as-of date must be ignored.
    orders.append(
        {
            "source": "shop",
            "order_id": "future-1",
            "customer_id": 3,
            "ordered_at": datetime(2025, 7, 15, 12, tzinfo=UTC),
            "revenue": 999.0,
            "cost": 1.0,
            "channel": "web",
        }
    )
    with session_scope(url) as session:
        session.execute(insert(Customer), [p for p in people if "merged_into_id" not in p])
        session.execute(insert(Customer), [p for p in people if "merged_into_id" in p])
        session.execute(insert(Identifier), ids)
        session.execute(insert(Order), orders)
        if contacts:
            session.execute(insert(Interaction), contacts)
        if cases:
            session.execute(insert(Case), cases)
    return {"merged": merged, "survivor": 2, "visitor": 10, "registered": 11}
