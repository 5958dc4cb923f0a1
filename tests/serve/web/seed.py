"""A small, realistic retailer for the web tests: customers, identifiers, orders, contacts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Case, Consent, Interaction, Preference
from clientbook.store.models.parties import Customer, Identifier

FIRST = ["Ann", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Isla", "Jonas", "Kai"]
LAST = ["Smith", "Jones", "Patel", "Novak", "Garcia", "Okafor", "Larsen", "Rossi", "Kowalski"]
CITIES = ["Leeds", "Bristol", "York", "Bath", "Derby"]
STAGES = ["registered", "first_purchase", "repeat", "inactive"]
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_URL = "javascript:alert(1)"


def seed_retailer(url: str, customers: int = 60, seed: int = 7) -> dict[str, int]:
    """Fill the store; returns ids of notable customers (``ann``, ``xss``)."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with session_scope(url) as session:
        rows = []
        for i in range(customers):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            if i == 0:
                first, last = "Ann", "Smith"
            email = f"{first.lower()}.{last.lower()}{i}@example.com"
            phone = f"+4477009{i:05d}"
            c = Customer(
                first_name=first,
                last_name=last,
                email=email,
                phone=phone,
                city=rng.choice(CITIES),
                country="GB",
                lifecycle_stage=STAGES[i % len(STAGES)],
                traits={},
            )
            session.add(c)
            rows.append(c)
        xss = Customer(
            first_name=XSS_NAME,
            last_name=XSS_URL,
            email="mallory@example.com",
            lifecycle_stage="registered",
            traits={"website": XSS_URL},
        )
        session.add(xss)
        session.flush()
        for i, c in enumerate(rows):
            session.add(Identifier(customer_id=c.id, type="email", value=c.email, source="crm"))
            session.add(Identifier(customer_id=c.id, type="phone", value=c.phone, source="crm"))
            session.add(
                Identifier(
                    customer_id=c.id, type="loyalty_card", value=f"LC-{100000 + i}", source="pos"
                )
            )
            for k in range(rng.randint(0, 6)):
                when = start + timedelta(days=rng.randint(0, 300), hours=k)
                revenue = round(rng.uniform(15, 240), 2)
                session.add(
                    Order(
                        source="shop",
                        order_id=f"O-{c.id}-{k}",
                        customer_id=c.id,
                        ordered_at=when,
                        revenue=revenue,
                        cost=round(revenue * 0.6, 2),
                        channel=rng.choice(["web", "store", "app"]),
                    )
                )
            for k in range(rng.randint(0, 3)):
                session.add(
                    Interaction(
                        source="callcentre",
                        interaction_id=f"I-{c.id}-{k}",
                        customer_id=c.id,
                        channel=rng.choice(["call_centre", "email", "store"]),
                        direction="inbound",
                        occurred_at=start + timedelta(days=rng.randint(0, 300)),
                        subject=rng.choice(["Delivery question", "Size exchange", "Invoice copy"]),
                        properties={},
                    )
                )
        session.add(
            Interaction(
                source="web",
                interaction_id="page-xss",
                customer_id=xss.id,
                channel="web",
                occurred_at=start,
                type="page",
                subject=XSS_URL,
                notes=XSS_NAME,
                properties={"url": XSS_URL},
            )
        )
        ann = rows[0]
        session.add(
            Case(
                source="callcentre",
                case_id="C-1",
                customer_id=ann.id,
                category="complaint",
                status="open",
                opened_at=start + timedelta(days=200),
                description="Parcel arrived damaged",
            )
        )
        session.add(
            Preference(customer_id=ann.id, key="size", value="M", source="declared", confidence=1.0)
        )
        session.add(
            Consent(
                customer_id=ann.id,
                purpose="marketing",
                channel="email",
                status="granted",
                source="web",
            )
        )
        return {"ann": ann.id, "xss": xss.id}


def score(url: str) -> None:
    """Run the value analytics twice (two months apart), so that P(alive) has a history."""
    from datetime import date

    from clientbook.analytics.refresh import analyse
    from clientbook.config import Settings

    for as_of in (date(2025, 9, 1), date(2025, 11, 1)):
        analyse(Settings(database_url=url), as_of=as_of)
