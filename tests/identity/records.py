"""Helpers that load records as the importers do: one customer per source record, no merging."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientbook.identity.identifiers import normalise
from clientbook.store.models.parties import Customer, Identifier, SourceRecord

KEYS = ("email", "phone", "loyalty_card", "account_code", "user_id", "anonymous_id")


def add_record(session: Session, source: str, record_id: str, **attributes: Any) -> int:
    """Create the record's own customer, its source record and its identifiers."""
    customer = Customer(
        first_name=attributes.get("first_name"),
        last_name=attributes.get("last_name"),
        email=attributes.get("email"),
        traits={},
    )
    session.add(customer)
    session.flush()
    session.add(
        SourceRecord(
            source=source,
            source_record_id=record_id,
            customer_id=customer.id,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
    )
    ids = [("source_record", f"{source}:{record_id}")]
    ids += [(k, attributes[k]) for k in KEYS if attributes.get(k)]
    seen = set()
    for type_, raw in ids:
        value = normalise(type_, raw, "GB")
        if value and (type_, value) not in seen:
            seen.add((type_, value))
            session.add(Identifier(customer_id=customer.id, type=type_, value=value, source=source))
    session.flush()
    return customer.id


def bulk_records(session: Session, source: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Many records at once, as the importer writes them (one customer each, no merging)."""
    from sqlalchemy import func, insert, select

    start = (session.scalar(select(func.max(Customer.id))) or 0) + 1
    session.execute(
        insert(Customer),
        [
            {"id": start + i, "first_name": a.get("first_name"), "last_name": a.get("last_name")}
            | {"traits": {}}
            for i, (_, a) in enumerate(rows)
        ],
    )
    session.execute(
        insert(SourceRecord),
        [
            {"source": source, "source_record_id": rid, "customer_id": start + i}
            | {"attributes": a}
            for i, (rid, a) in enumerate(rows)
        ],
    )
    session.execute(
        insert(Identifier),
        [
            {"customer_id": start + i, "type": "source_record", "value": f"{source}:{rid}"}
            | {"source": source}
            for i, (rid, _) in enumerate(rows)
        ],
    )
