"""A generated population for the needs tests: customers, orders, contacts, preferences, consents.

Written straight into the store and returned as pandas frames, so a test can compute the expected
answer independently of the SQL under test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import insert

from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import Consent, Interaction, Preference
from clientbook.store.models.parties import Account, AccountMember, Customer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CITIES = ["Leeds", "York", "Bath", "Hull", "Ely"]
CATEGORIES = ["Books", "Music", "Garden", "Kitchen"]
BRANDS = ["Acme", "Borealis", "Cobalt"]
INDUSTRIES = ["retail", "software", "farming"]
INJECTION = "script::Runtime.getRuntime().exec('id')"


@dataclass
class Population:
    customers: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    interactions: pd.DataFrame
    preferences: pd.DataFrame
    consents: pd.DataFrame
    accounts: pd.DataFrame


def build(url: str, n: int = 240, seed: int = 7) -> Population:
    """Write ``n`` customers with a realistic spread of data; return what was written."""
    rng = random.Random(seed)
    customers, orders, lines, contacts, prefs, consents, members = [], [], [], [], [], [], []
    products = [
        {
            "sku": f"SKU{i:03d}",
            "name": f"Item {i}",
            "category": CATEGORIES[i % 4],
            "brand": BRANDS[i % 3],
            "price": float(5 + 7 * i),
        }
        for i in range(12)
    ]
    for cid in range(1, n + 1):
        born = None
        if rng.random() < 0.9:
            born = NOW.date() - timedelta(days=rng.randint(17 * 365, 80 * 365))
        first = INJECTION if cid == 5 else rng.choice(["Ann", "Bob", "Cy", "Dee", "Eve"])
        customers.append(
            {
                "id": cid,
                "first_name": first,
                "last_name": f"Surname{cid}",
                "email": f"c{cid}@example.com" if rng.random() < 0.85 else None,
                "phone": f"+4477009{cid:05d}" if rng.random() < 0.7 else None,
                "street": f"{cid} High St" if rng.random() < 0.8 else None,
                "postcode": "LS1 1AA",
                "city": rng.choice(CITIES),
                "country": "GB",
                "gender": rng.choice(["female", "male", None]),
                "birth_date": born,
                "traits": {"tier": rng.choice(["gold", "silver"])},
                "lifecycle_stage": rng.choice(["registered", "first_purchase", "repeat_buyer"]),
                "merged_into_id": None,
            }
        )
        for k in range(rng.choice([0, 0, 1, 2, 3, 5])):
            oid = len(orders) + 1
            when = NOW - timedelta(days=rng.randint(1, 700), hours=rng.randint(0, 23))
            chosen = rng.sample(products, rng.randint(1, 3))
            revenue = 0.0
            for no, p in enumerate(chosen, 1):
                revenue += p["price"]
                lines.append(
                    {
                        "order_pk": oid,
                        "line_no": no,
                        "sku": p["sku"],
                        "quantity": 1,
                        "revenue": p["price"],
                        "cost": None,
                        "brand": p["brand"],
                    }
                )
            orders.append(
                {
                    "id": oid,
                    "source": "test",
                    "order_id": f"o{oid}",
                    "customer_id": cid,
                    "ordered_at": when,
                    "revenue": revenue,
                    "cost": None,
                    "currency": "EUR",
                    "channel": rng.choice(["web", "store", "phone"]),
                    "location": None,
                    "brand": None,
                }
            )
            del k
        for _ in range(rng.randint(0, 6)):
            contacts.append(
                {
                    "source": "test",
                    "interaction_id": f"i{len(contacts) + 1}",
                    "customer_id": cid,
                    "channel": rng.choice(["web", "email", "call_centre", "store"]),
                    "direction": rng.choice(["inbound", "outbound"]),
                    "occurred_at": NOW
                    - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 600)),
                    "type": rng.choice(["page", "Products Searched", "call"]),
                    "outcome": None,
                    "properties": {},
                }
            )
        if rng.random() < 0.5:
            prefs.append(
                {
                    "customer_id": cid,
                    "key": "brand",
                    "value": rng.choice(BRANDS),
                    "source": rng.choice(["observed", "declared"]),
                    "origin": "test",
                    "confidence": round(rng.random(), 2),
                    "evidence_count": 3,
                    "learned_at": NOW - timedelta(days=3),
                }
            )
        t = NOW - timedelta(days=400)
        for step in range(rng.choice([0, 1, 1, 2, 3])):
            consents.append(
                {
                    "customer_id": cid,
                    "purpose": "marketing",
                    "channel": rng.choice(["all", "email", "direct_mail"]),
                    "status": rng.choice(["granted", "granted", "withdrawn"]),
                    "recorded_at": t + timedelta(days=10 * step),
                    "source": "test",
                }
            )
        if rng.random() < 0.3:
            members.append({"customer_id": cid, "account_id": rng.randint(1, 3), "role": "buyer"})
    accounts = [
        {
            "id": i + 1,
            "source": "test",
            "source_account_id": f"a{i + 1}",
            "name": f"Org {i + 1}",
            "industry": INDUSTRIES[i],
            "employees": [12, 250, 4000][i],
            "traits": {},
        }
        for i in range(3)
    ]
    # One merged-away duplicate, never a member of anything.
    customers.append({**customers[0], "id": n + 1, "merged_into_id": 1})
    with session_scope(url) as session:
        session.execute(insert(Customer), customers)
        session.execute(insert(Account), accounts)
        session.execute(insert(Product), products)
        if members:
            session.execute(insert(AccountMember), members)
        if orders:
            session.execute(insert(Order), orders)
            session.execute(insert(OrderLine), lines)
        if contacts:
            session.execute(insert(Interaction), contacts)
        if prefs:
            session.execute(insert(Preference), prefs)
        if consents:
            session.execute(insert(Consent), consents)
    _fix_sequences(url)
    product_frame = pd.DataFrame(products)
    line_frame = pd.DataFrame(lines).merge(product_frame[["sku", "category"]], on="sku", how="left")
    return Population(
        customers=pd.DataFrame(customers),
        orders=pd.DataFrame(orders),
        lines=line_frame,
        interactions=pd.DataFrame(contacts),
        preferences=pd.DataFrame(prefs),
        consents=pd.DataFrame(consents),
        accounts=pd.DataFrame(members).merge(
            pd.DataFrame(accounts).rename(columns={"id": "account_id"}), on="account_id"
        ),
    )


def _fix_sequences(url: str) -> None:
    """Explicit ids leave PostgreSQL sequences behind: move them past the inserted ids."""
    if not url.startswith("postgres"):
        return
    from sqlalchemy import text

    statements = (
        "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT MAX(id) FROM customers))",
        "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT MAX(id) FROM accounts))",
        "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT MAX(id) FROM orders))",
    )
    with session_scope(url) as session:
        for statement in statements:
            session.execute(text(statement))


def age_on(born: date | None, today: date) -> int | None:
    """Whole years between ``born`` and ``today``."""
    if born is None or pd.isna(born):
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


__all__ = ["NOW", "Population", "build", "age_on"]
