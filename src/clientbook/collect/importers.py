"""`clientbook import KIND FILE`: validated, all-or-nothing, idempotent loads of bulk files.

Each kind declares its canonical columns; a file is read, renamed (``--map``), validated as a
whole, then written in one transaction. Rows whose natural key (``source`` + the kind's id) is
already stored are skipped, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from clientbook.collect.bulk import bulk_session, reserve_ids, write_frame
from clientbook.collect.files import read_frame
from clientbook.collect.validation import Column, rename, validate
from clientbook.errors import InvalidInput, UsageError
from clientbook.identity.identifiers import normalise_email, normalise_phone
from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import (
    CASE_STATUSES,
    CHANNELS,
    CONSENT_STATUSES,
    DIRECTIONS,
    PREFERENCE_SOURCES,
    Case,
    Consent,
    Interaction,
    Preference,
)
from clientbook.store.models.parties import (
    ACCOUNT_RELATIONSHIP_KINDS,
    Account,
    AccountMember,
    AccountRelationship,
    Customer,
    Identifier,
    SourceRecord,
)

Progress = Callable[[int], None]
GENDERS = ("female", "male", "other", "unknown")
CONSENT_PURPOSES = ("marketing", "personalisation", "profiling")
CUSTOMER_IDENTIFIER_COLUMNS = ("email", "phone", "loyalty_card", "user_id", "anonymous_id")


class ImportResult(BaseModel):
    """What one import did."""

    kind: str
    source: str
    rows: int
    inserted: int
    skipped: int
    customers_created: int = 0


@dataclass
class Context:
    """Per-import state handed to a loader."""

    session: Session
    source: str
    customer_source: str
    region: str
    progress: Progress
    batch: int = 50_000
    customers_created: int = 0
    record_cache: dict[str, int] = field(default_factory=dict)


def _table(model: Any) -> Table:
    """The Core table of a model: Core inserts skip the ORM's per-row bookkeeping."""
    table: Table = model.__table__
    return table


def _email(value: str) -> str | None:
    return normalise_email(value, "")


def _text(name: str, required: bool = False, max_length: int = 200) -> Column:
    return Column(name, required=required, max_length=max_length)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records with ``None`` for every missing cell (timestamps stay ``pd.Timestamp``)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


def _chunks(items: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(session: Session, column: Any, source_column: Any, source: str) -> set[str]:
    return set(session.scalars(select(column).where(source_column == source)))


def _stored_records(ctx: Context, wanted: list[str]) -> Iterable[tuple[str, int]]:
    """(record id, customer id) of the ``wanted`` records the customer source already has."""
    records = select(SourceRecord.source_record_id, SourceRecord.customer_id).where(
        SourceRecord.source == ctx.customer_source
    )
    stored = ctx.session.scalar(
        select(func.count()).where(SourceRecord.source == ctx.customer_source)
    )
    if (stored or 0) <= 2 * len(wanted):  # reading the whole source is cheaper than lookups
        yield from ((r, c) for r, c in ctx.session.execute(records))
        return
    for chunk in _chunks(wanted, 20_000):
        found = ctx.session.execute(records.where(SourceRecord.source_record_id.in_(chunk)))
        yield from ((r, c) for r, c in found)


def customer_ids(ctx: Context, refs: Iterable[str]) -> dict[str, int]:
    """Customer ids of the records ``refs`` of the customer source; unknown ones are created."""
    wanted = sorted(set(refs) - set(ctx.record_cache))
    if not wanted:
        return ctx.record_cache
    ctx.record_cache.update(_stored_records(ctx, wanted))
    missing = [r for r in wanted if r not in ctx.record_cache]
    if missing:
        created = _create_customers(
            ctx, pd.DataFrame({"customer_id": missing}, dtype=object), ctx.customer_source
        )
        ctx.record_cache.update(zip(missing, created.tolist(), strict=True))
    return ctx.record_cache


def customer_column(ctx: Context, refs: pd.Series) -> np.ndarray:
    """The customer id of each record in ``refs`` (unknown records become customers)."""
    codes, uniques = pd.factorize(refs)
    known = customer_ids(ctx, uniques)
    return np.fromiter((known[r] for r in uniques), dtype=np.int64, count=len(uniques))[codes]


CUSTOMER_FIELDS: tuple[str, ...] = ("first_name", "last_name", "email", "phone", "birth_date")
CUSTOMER_FIELDS += ("gender", "street", "city", "postcode", "country")


def _attributes(rows: pd.DataFrame) -> list[str]:
    """Each row's present cells as a JSON object of strings, built column by column."""
    parts = []
    for name in rows.columns:
        column = rows[name]
        present = column.notna().to_numpy()
        part = np.full(len(rows), "", dtype=object)
        key = json.dumps(name)
        part[present] = [f"{key}: {json.dumps(str(v))}" for v in column.to_numpy()[present]]
        parts.append(part)
    return ["{" + ", ".join(p for p in row if p) + "}" for row in zip(*parts, strict=True)]


def _create_customers(ctx: Context, rows: pd.DataFrame, source: str) -> np.ndarray:
    """Insert one customer per record row, with its source record and identifiers."""
    ids = reserve_ids(ctx.session, _table(Customer), len(rows))
    fields = [f for f in CUSTOMER_FIELDS if f in rows.columns]
    write_frame(ctx.session, _table(Customer), rows[fields].assign(id=ids), batch=ctx.batch)
    attributes = _attributes(rows.drop(columns=["account_role"], errors="ignore"))
    records = pd.DataFrame(
        {
            "source": source,
            "source_record_id": rows["customer_id"].to_numpy(),
            "customer_id": ids,
            "attributes": attributes,
        }
    )
    write_frame(ctx.session, _table(SourceRecord), records, batch=ctx.batch)
    identifiers = [
        pd.DataFrame(
            {
                "type": "source_record",
                "value": (source + ":" + rows["customer_id"].astype(str)).to_numpy(),
                "customer_id": ids,
            }
        )
    ]
    for kind in CUSTOMER_IDENTIFIER_COLUMNS:
        if kind in rows.columns:
            present = rows[kind].notna().to_numpy()
            values = rows[kind].to_numpy()[present]
            identifiers.append(
                pd.DataFrame({"type": kind, "value": values, "customer_id": ids[present]})
            )
    write_frame(
        ctx.session,
        _table(Identifier),
        pd.concat(identifiers, ignore_index=True).assign(source=source),
        batch=ctx.batch,
    )
    ctx.customers_created += len(ids)
    return ids


# --- loaders: each returns (inserted, skipped) ------------------------------------------------


def load_customers(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """New source records become new customers; identity resolution merges them later."""
    _no_duplicates(frame, "customer_id")
    existing = _existing(
        ctx.session, SourceRecord.source_record_id, SourceRecord.source, ctx.source
    )
    new = frame[~frame["customer_id"].isin(existing)]
    ids = _create_customers(ctx, new, ctx.source)
    ctx.progress(len(frame))
    members = [
        (r, cid) for r, cid in zip(_rows(new), ids.tolist(), strict=True) if r.get("account_id")
    ]
    if members:
        accounts = {
            account: pk
            for account, pk in ctx.session.execute(
                select(Account.source_account_id, Account.id).where(Account.source == ctx.source)
            )
        }
        unknown = sorted({r["account_id"] for r, _ in members} - set(accounts))
        if unknown:
            raise InvalidInput(
                f"account_id {', '.join(unknown[:5])} not found in source {ctx.source!r}.",
                hint="Import the accounts file with the same --source first.",
            )
        ctx.session.execute(
            insert(_table(AccountMember)),
            [
                {
                    "customer_id": cid,
                    "account_id": accounts[r["account_id"]],
                    "role": r.get("account_role"),
                }
                for r, cid in members
            ],
        )
    return len(new), len(frame) - len(new)


def load_accounts(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Organisations, and their relationships to other accounts of the same source."""
    _no_duplicates(frame, "account_id")
    existing = _existing(ctx.session, Account.source_account_id, Account.source, ctx.source)
    new = _rows(frame[~frame["account_id"].isin(existing)])
    names: tuple[str, ...] = ("name", "industry", "employees", "domain", "registration_number")
    names += ("street", "city", "postcode", "country")
    if new:
        ctx.session.execute(
            insert(_table(Account)),
            [
                {"source": ctx.source, "source_account_id": r["account_id"], "traits": {}}
                | {n: r.get(n) for n in names}
                for r in new
            ],
        )
    ids = dict(
        ctx.session.execute(
            select(Account.source_account_id, Account.id).where(Account.source == ctx.source)
        ).all()
    )
    links = [r for r in new if r.get("related_account_id")]
    unknown = sorted({r["related_account_id"] for r in links} - set(ids))
    if unknown:
        raise InvalidInput(
            f"related_account_id {', '.join(unknown[:5])} is not an account of {ctx.source!r}.",
            hint="List the related account in the same file or import it first.",
        )
    if links:
        ctx.session.execute(
            insert(_table(AccountRelationship)),
            [
                {
                    "account_id": ids[r["account_id"]],
                    "related_account_id": ids[r["related_account_id"]],
                    "kind": r.get("relationship") or "customer_of",
                }
                for r in links
            ],
        )
    ctx.progress(len(frame))
    return len(new), len(frame) - len(new)


def load_products(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Catalogue entries by SKU."""
    _no_duplicates(frame, "product_id")
    existing = set(ctx.session.scalars(select(Product.sku)))
    new = _rows(frame[~frame["product_id"].isin(existing)])
    if new:
        ctx.session.execute(
            insert(_table(Product)),
            [
                {"sku": r["product_id"]}
                | {k: r.get(k) for k in ("name", "category", "brand", "price")}
                for r in new
            ],
        )
    ctx.progress(len(frame))
    return len(new), len(frame) - len(new)


def _check_order_headers(frame: pd.DataFrame) -> None:
    """Lines of one order must agree on who bought, when, where and in which currency."""
    if frame["order_id"].is_unique:
        return
    header = ["customer_id", "ordered_at", "currency", "channel", "location"]
    conflicting = frame.groupby("order_id", sort=False)[header].nunique(dropna=False).max(axis=1)
    if (conflicting > 1).any():
        bad = conflicting[conflicting > 1].index[:5]
        raise InvalidInput(
            f"Order(s) {', '.join(map(str, bad))} have lines that disagree on customer or time.",
            hint="Lines of one order must share customer_id, ordered_at, currency, channel.",
        )


def _order_headers(lines: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per order, the order of each line (as a row number) and each line's number."""
    if lines["order_id"].is_unique:  # one line per order: nothing to group
        orders = lines.reset_index(drop=True)
        return orders, np.arange(len(lines)), np.ones(len(lines), dtype=np.int64)
    grouped = lines.groupby("order_id", sort=False)
    orders = grouped.agg(
        customer_id=("customer_id", "first"),
        ordered_at=("ordered_at", "first"),
        revenue=("revenue", "sum"),
        cost=("cost", "sum"),
        costed=("cost", "count"),
        lines=("revenue", "size"),
        currency=("currency", "first"),
        channel=("channel", "first"),
        location=("location", "first"),
        brand=("brand", "first"),
        brands=("brand", "nunique"),
    ).reset_index()
    # An order's cost is known only when every line has one; its brand only when they agree.
    orders["cost"] = orders["cost"].where(orders["costed"] == orders["lines"])
    orders["brand"] = orders["brand"].where(orders["brands"] <= 1)
    return orders, grouped.ngroup().to_numpy(), grouped.cumcount().to_numpy() + 1


def load_orders(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Rows sharing an order_id are the lines of one order; stored orders are skipped."""
    _check_order_headers(frame)
    existing = _existing(ctx.session, Order.order_id, Order.source, ctx.source)
    new = frame[~frame["order_id"].isin(existing)] if existing else frame
    if new.empty:
        return 0, len(frame)
    orders, group, line_no = _order_headers(new)
    orders["customer_id"] = customer_column(ctx, orders["customer_id"])
    orders["currency"] = orders["currency"].fillna("EUR")
    # Keys follow (customer, time): the customer index and key lookups then grow in order.
    by_customer = np.lexsort(
        (orders["ordered_at"].to_numpy("datetime64[ns]"), orders["customer_id"].to_numpy())
    )
    pks = np.empty(len(orders), dtype=np.int64)
    pks[by_customer] = reserve_ids(ctx.session, _table(Order), len(orders))
    columns = ["order_id", "customer_id", "ordered_at", "revenue", "cost", "currency", "channel"]
    header = orders[[*columns, "location", "brand"]].assign(id=pks, source=ctx.source)
    write_frame(ctx.session, _table(Order), header.iloc[by_customer], batch=ctx.batch)
    lines = pd.DataFrame(
        {
            "order_pk": pks[group],
            "line_no": line_no,
            "sku": new["product_id"].to_numpy(),
            "quantity": new["quantity"].fillna(1).to_numpy(),
            "revenue": new["revenue"].to_numpy(),
            "cost": new["cost"].to_numpy(),
            "brand": new["brand"].to_numpy(),
        }
    )
    lines = lines.sort_values("order_pk", kind="stable")
    write_frame(ctx.session, _table(OrderLine), lines, ctx.progress, ctx.batch)
    return len(orders), len(frame) - len(new)


def _load_contacts(
    ctx: Context,
    frame: pd.DataFrame,
    model: Any,
    key: str,
    build: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[int, int]:
    _no_duplicates(frame, key)
    existing = _existing(ctx.session, getattr(model, key), model.source, ctx.source)
    new = frame[~frame[key].isin(existing)]
    customers = customer_ids(ctx, new["customer_id"].unique())
    rows = []
    for r in _rows(new):
        row = build(r) | {
            "source": ctx.source,
            key: r[key],
            "customer_id": customers[r["customer_id"]],
        }
        rows.append(
            {k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        )
    for chunk in _chunks(rows, 20_000):
        ctx.session.execute(insert(_table(model)), list(chunk))
        ctx.progress(len(chunk))
    return len(rows), len(frame) - len(rows)


def _interaction(r: dict[str, Any]) -> dict[str, Any]:
    properties = dict(r["properties"] or {})
    for extra in ("campaign", "style"):
        if r.get(extra):
            properties[extra] = r[extra]
    fields = ("channel", "occurred_at", "type", "outcome", "agent", "location", "subject", "notes")
    return {f: r.get(f) for f in fields} | {
        "direction": r.get("direction") or "inbound",
        "duration_seconds": r.get("duration_seconds"),
        "properties": properties,
    }


def load_interactions(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Contacts in any channel."""
    return _load_contacts(ctx, frame, Interaction, "interaction_id", _interaction)


def load_cases(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Complaints and errors."""
    fields = ("category", "channel", "opened_at", "resolved_at", "resolution", "description")
    return _load_contacts(
        ctx,
        frame,
        Case,
        "case_id",
        lambda r: {f: r.get(f) for f in fields} | {"status": r.get("status") or "open"},
    )


def _load_ledger(
    ctx: Context,
    frame: pd.DataFrame,
    model: Any,
    key: tuple[str, ...],
    build: Callable[[dict[str, Any], int], dict[str, Any]],
) -> tuple[int, int]:
    """Append-only rows (consents, preferences) deduplicated on their full content."""
    customers = customer_ids(ctx, frame["customer_id"].unique())
    ids = sorted(set(customers[c] for c in frame["customer_id"].unique()))
    stored: set[tuple[Any, ...]] = set()
    for chunk in _chunks(ids):
        for found in ctx.session.execute(
            select(*(getattr(model, k) for k in key)).where(model.customer_id.in_(chunk))
        ):
            stored.add(tuple(_key_value(v) for v in found))
    rows: list[dict[str, Any]] = []
    for r in _rows(frame):
        built = build(r, customers[r["customer_id"]])
        signature = tuple(_key_value(built[k]) for k in key)
        if signature not in stored:
            stored.add(signature)
            rows.append(built)
    if rows:
        ctx.session.execute(insert(_table(model)), rows)
    ctx.progress(len(frame))
    return len(rows), len(frame) - len(rows)


def _key_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return value.replace(tzinfo=None).isoformat() if hasattr(value, "isoformat") else value


def load_consents(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Entries of the consent ledger."""
    return _load_ledger(
        ctx,
        frame,
        Consent,
        ("customer_id", "purpose", "channel", "status", "recorded_at"),
        lambda r, cid: {
            "customer_id": cid,
            "purpose": r["purpose"],
            "channel": r["channel"],
            "status": r["status"],
            "recorded_at": r["recorded_at"].to_pydatetime(),
            "source": ctx.source,
        },
    )


def load_preferences(ctx: Context, frame: pd.DataFrame) -> tuple[int, int]:
    """Observed or declared preferences."""
    return _load_ledger(
        ctx,
        frame,
        Preference,
        ("customer_id", "key", "value", "source"),
        lambda r, cid: {
            "customer_id": cid,
            "key": r["key"],
            "value": r["value"],
            "source": r["source"] or "declared",
            "origin": r.get("origin") or f"import:{ctx.source}",
            "confidence": r.get("confidence"),
            "evidence_count": r.get("evidence_count"),
            "learned_at": r["learned_at"].to_pydatetime(),
        },
    )


def _no_duplicates(frame: pd.DataFrame, key: str) -> None:
    dupes = frame[key][frame[key].duplicated()].unique()
    if len(dupes):
        raise InvalidInput(
            f"{key} {', '.join(map(str, dupes[:5]))} appears more than once in the file.",
            hint=f"Each row needs its own {key}.",
        )


def _phone_checker(region: str) -> Callable[[str], str | None]:
    return lambda v: normalise_phone(v, region)


def _json_object(value: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _gender(value: str) -> str | None:
    aliases = {"f": "female", "w": "female", "woman": "female", "m": "male", "man": "male"}
    aliases |= {"x": "other", "d": "other", "diverse": "other", "u": "unknown"}
    value = value.lower()
    value = aliases.get(value, value)
    return value if value in GENDERS else None


@dataclass(frozen=True)
class Kind:
    """An importable kind: its columns and its loader."""

    columns: Callable[[str], list[Column]]
    load: Callable[[Context, pd.DataFrame], tuple[int, int]]


def _customer_columns(region: str) -> list[Column]:
    names = ("first_name", "last_name", "street", "city", "postcode", "account_id", "account_role")
    return [
        _text("customer_id", required=True),
        *(_text(n) for n in names),
        Column("email", check=_email, max_length=320),
        Column("phone", check=_phone_checker(region)),
        Column("birth_date", "date"),
        Column("gender", check=_gender),
        Column("country", max_length=2),
        _text("loyalty_card"),
        _text("user_id"),
        _text("anonymous_id"),
    ]


KINDS: dict[str, Kind] = {
    "customers": Kind(_customer_columns, load_customers),
    "accounts": Kind(
        lambda _r: [
            _text("account_id", required=True),
            _text("name", required=True),
            *(_text(n) for n in ("industry", "domain", "registration_number", "street", "city")),
            _text("postcode"),
            Column("country", max_length=2),
            Column("employees", "int", minimum=0),
            _text("related_account_id"),
            Column("relationship", choices=ACCOUNT_RELATIONSHIP_KINDS),
        ],
        load_accounts,
    ),
    "products": Kind(
        lambda _r: [
            _text("product_id", required=True),
            *(_text(n) for n in ("name", "category", "brand")),
            Column("price", "float", minimum=0),
        ],
        load_products,
    ),
    "orders": Kind(
        lambda _r: [
            _text("order_id", required=True),
            _text("customer_id", required=True),
            Column("ordered_at", "datetime", required=True),
            Column("revenue", "float", required=True),
            Column("cost", "float", minimum=0),
            Column("quantity", "int", minimum=1),
            Column("currency", max_length=3),
            Column("channel", choices=CHANNELS),
            *(_text(n) for n in ("location", "brand", "product_id")),
        ],
        load_orders,
    ),
    "interactions": Kind(
        lambda _r: [
            _text("interaction_id", required=True),
            _text("customer_id", required=True),
            Column("occurred_at", "datetime", required=True),
            Column("channel", choices=CHANNELS, required=True),
            Column("direction", choices=DIRECTIONS),
            Column("duration_seconds", "int", minimum=0),
            *(_text(n) for n in ("type", "outcome", "agent", "location", "subject", "campaign")),
            Column("style", choices=("rational", "emotional")),
            Column("notes", max_length=10_000),
            Column("properties", check=_json_object, max_length=100_000),
        ],
        load_interactions,
    ),
    "cases": Kind(
        lambda _r: [
            _text("case_id", required=True),
            _text("customer_id", required=True),
            _text("category", required=True),
            Column("status", choices=CASE_STATUSES),
            Column("channel", choices=CHANNELS),
            Column("opened_at", "datetime", required=True),
            Column("resolved_at", "datetime"),
            Column("resolution", max_length=10_000),
            Column("description", max_length=10_000),
        ],
        load_cases,
    ),
    "consents": Kind(
        lambda _r: [
            _text("customer_id", required=True),
            Column("purpose", choices=CONSENT_PURPOSES, required=True),
            Column("channel", choices=CHANNELS, required=True),
            Column("status", choices=CONSENT_STATUSES, required=True),
            Column("recorded_at", "datetime", required=True),
        ],
        load_consents,
    ),
    "preferences": Kind(
        lambda _r: [
            _text("customer_id", required=True),
            _text("key", required=True),
            _text("value", required=True),
            Column("source", choices=PREFERENCE_SOURCES),
            _text("origin"),
            Column("confidence", "float", minimum=0),
            Column("evidence_count", "int", minimum=0),
            Column("learned_at", "datetime", required=True),
        ],
        load_preferences,
    ),
}


def import_file(
    url: str,
    kind: str,
    path: Path,
    *,
    source: str | None = None,
    customer_source: str | None = None,
    mapping: dict[str, str] | None = None,
    region: str = "GB",
    progress: Progress | None = None,
    batch_size: int = 50_000,
) -> ImportResult:
    """Validate ``path`` as ``kind`` and load it in one transaction (nothing on any bad row).

    ``source`` names where the records come from (default: the file's name without suffix);
    ``customer_source`` is the source whose ids the file's ``customer_id`` column holds
    (default: ``source``).
    """
    if kind not in KINDS:
        raise UsageError(f"Unknown kind {kind!r}.", hint=f"Use one of: {', '.join(KINDS)}.")
    spec = KINDS[kind]
    source = source or path.stem
    columns = spec.columns(region)
    frame, first_line = read_frame(path)
    frame = rename(frame, mapping or {}, columns)
    typed = validate(frame, columns, first_line, path.name)
    with session_scope(url) as session:
        ctx = Context(
            session,
            source,
            customer_source or source,
            region,
            progress or (lambda _n: None),
            batch_size,
        )
        with bulk_session(session):
            inserted, skipped = spec.load(ctx, typed)
    return ImportResult(
        kind=kind,
        source=source,
        rows=len(frame),
        inserted=inserted,
        skipped=skipped,
        customers_created=ctx.customers_created,
    )
