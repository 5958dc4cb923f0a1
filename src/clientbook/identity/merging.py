"""Merging two customers (or two accounts) and undoing it.

A merge moves every row that points at the absorbed party to the survivor, in every table that
has a ``customer_id`` (or ``account_id``) column — found in ``Base.metadata``, so tables added by
other parts of Clientbook are moved too — and records each moved row (table, key) in the merge log.
Rows that would clash with a twin the survivor already has (the same e-mail identifier, the same
account membership) are deleted and kept whole in the log. :func:`unmerge` puts everything back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import Column, Select, Table, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from clientbook.errors import Conflict, NotFound
from clientbook.store.models import Base
from clientbook.store.models.base import utcnow
from clientbook.store.models.identity import (
    IdentityMerge,
    IdentityMergeDrop,
    IdentityMergeMove,
    IdentityReview,
)
from clientbook.store.models.parties import Account, Customer

log = logging.getLogger(__name__)

#: Per kind: the party table, and the columns that point at a party in other tables.
PARTY_TABLES: dict[str, Table] = {
    "customer": cast(Table, Customer.__table__),
    "account": cast(Table, Account.__table__),
}
REFERENCE_COLUMNS = {"customer": ("customer_id",), "account": ("account_id", "related_account_id")}
#: Columns of the survivor that a merge fills in from the absorbed party when empty.
FILLABLE = {
    "customer": (
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "gender",
        "street",
        "city",
        "postcode",
        "country",
    ),
    "account": (
        "industry",
        "employees",
        "domain",
        "registration_number",
        "street",
        "city",
        "postcode",
        "country",
    ),
}


@dataclass(frozen=True)
class MovableColumn:
    """A column pointing at a party, in a table whose rows follow the party through merges."""

    table: Table
    column: str
    key: str
    #: For each unique constraint that includes ``column``: its other columns.
    uniques: tuple[tuple[str, ...], ...]


@cache
def movable_columns(kind: str) -> tuple[MovableColumn, ...]:
    """Every (table, column) that refers to a party of ``kind``, from ``Base.metadata``."""
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name.startswith("identity_") or table is PARTY_TABLES[kind]:
            continue
        for name in REFERENCE_COLUMNS[kind]:
            if name not in table.c:
                continue
            keys = list(table.primary_key.columns)
            if len(keys) != 1:
                log.warning("%s has no single-column key: merges leave it alone", table.name)
                continue
            uniques = []
            for cols in _unique_sets(table):
                if name in cols:
                    uniques.append(tuple(c for c in cols if c != name))
            found.append(MovableColumn(table, name, keys[0].name, tuple(uniques)))
    return tuple(found)


def _unique_sets(table: Table) -> list[tuple[str, ...]]:
    sets = [
        tuple(c.name for c in cast(Any, con).columns)
        for con in table.constraints
        if _is_unique(con)
    ]
    sets += [tuple(c.name for c in ix.columns) for ix in table.indexes if ix.unique]
    return sets


def _is_unique(constraint: Any) -> bool:
    return type(constraint).__name__ == "UniqueConstraint"


def merge_parties(
    session: Session,
    survivor_id: int,
    absorbed_id: int,
    *,
    kind: str = "customer",
    rule: str,
    reason: str,
    source: str | None = None,
    run_id: int | None = None,
) -> int:
    """Merge ``absorbed_id`` into ``survivor_id``; return the merge's id.

    The caller holds the locks on both parties (see :mod:`clientbook.identity.locks`).
    """
    parties = PARTY_TABLES[kind]
    merge_id = session.execute(
        insert(IdentityMerge).returning(IdentityMerge.id),
        [
            {
                "kind": kind,
                "survivor_id": survivor_id,
                "absorbed_id": absorbed_id,
                "rule": rule,
                "reason": reason,
                "source": source,
                "run_id": run_id,
                "filled": {},
                "created_at": utcnow(),
            }
        ],
    ).scalar_one()
    for movable in movable_columns(kind):
        _move(session, movable, absorbed_id, survivor_id, merge_id)
    rows = session.execute(
        select(parties).where(parties.c.id.in_((survivor_id, absorbed_id)))
    ).mappings()
    by_id = {r["id"]: r for r in rows}
    survivor, absorbed = by_id[survivor_id], by_id[absorbed_id]
    filled = {
        c: _encode(absorbed[c])
        for c in FILLABLE[kind]
        if survivor[c] in (None, "") and absorbed[c] not in (None, "")
    }
    values: dict[str, Any] = {c: absorbed[c] for c in filled}
    if kind == "customer":
        values["updated_at"] = utcnow()
    session.execute(update(parties).where(parties.c.id == survivor_id).values(**values))
    session.execute(
        update(parties).where(parties.c.id == absorbed_id).values(merged_into_id=survivor_id)
    )
    if filled:
        session.execute(
            update(IdentityMerge).where(IdentityMerge.id == merge_id).values(filled=filled)
        )
    return merge_id


def _move(session: Session, m: MovableColumn, src: int, dst: int, merge_id: int) -> None:
    t, col, key = m.table, m.table.c[m.column], m.table.c[m.key]
    for others in m.uniques:
        twin = t.alias("twin")
        clash = (
            select(t)
            .where(col == src)
            .where(
                select(twin.c[m.key])
                .where(twin.c[m.column] == dst, *[twin.c[o] == t.c[o] for o in others])
                .exists()
            )
        )
        dropped = session.execute(clash).mappings().all()
        if dropped:
            session.execute(
                insert(IdentityMergeDrop),
                [
                    {"merge_id": merge_id, "table_name": t.name, "row": _encode_row(r)}
                    for r in dropped
                ],
            )
            session.execute(delete(t).where(key.in_([r[m.key] for r in dropped])))
    keys = session.scalars(select(key).where(col == src)).all()
    if keys:
        session.execute(
            insert(IdentityMergeMove),
            [{"merge_id": merge_id, "table_name": t.name, "row_key": str(k)} for k in keys],
        )
        session.execute(update(t).where(col == src).values({m.column: dst}))


@dataclass(frozen=True)
class UnmergeResult:
    """What an unmerge restored."""

    merge_id: int
    kind: str
    survivor_id: int
    restored_id: int
    rows_moved_back: int
    rows_recreated: int


def survivor_chain(session: Session, party_id: int, kind: str = "customer") -> list[int]:
    """``party_id`` followed by every party it was merged into, the current survivor last."""
    parties = PARTY_TABLES[kind]
    chain = [party_id]
    while True:
        nxt = session.scalar(select(parties.c.merged_into_id).where(parties.c.id == chain[-1]))
        if nxt is None or nxt in chain:
            return chain
        chain.append(nxt)


def unmerge(session: Session, merge_id: int, *, decided_by: str = "unmerge") -> UnmergeResult:
    """Undo one merge: the absorbed party lives again with its rows, identifiers and traits.

    Rows that reached the survivor after the merge stay with it. The pair is then marked
    ``kept_apart`` so that resolution does not merge the two again.
    """
    merge = session.get(IdentityMerge, merge_id, with_for_update=True)
    if merge is None:
        raise NotFound(f"No merge with id {merge_id}.", hint="List them with `identity merges`.")
    if merge.undone_at is not None:
        raise Conflict(f"Merge {merge_id} was already undone at {merge.undone_at:%Y-%m-%d %H:%M}.")
    kind, parties = merge.kind, PARTY_TABLES[merge.kind]
    holders = survivor_chain(session, merge.survivor_id, kind)
    moved_back = 0
    for m in movable_columns(kind):
        t = m.table
        keys = session.scalars(
            select(IdentityMergeMove.row_key).where(
                IdentityMergeMove.merge_id == merge_id, IdentityMergeMove.table_name == t.name
            )
        ).all()
        python_type = t.c[m.key].type.python_type
        for chunk in _chunks([python_type(k) for k in keys], 500):
            result = session.execute(
                update(t)
                .where(t.c[m.key].in_(chunk), t.c[m.column].in_(holders))
                .values({m.column: merge.absorbed_id})
            )
            moved_back += result.rowcount or 0  # type: ignore[attr-defined]
    recreated = 0
    drops = session.scalars(
        select(IdentityMergeDrop).where(IdentityMergeDrop.merge_id == merge_id)
    ).all()
    tables = {m.table.name: m.table for m in movable_columns(kind)}
    for drop in drops:
        found = tables.get(drop.table_name)
        if found is None:
            continue
        t = found
        row = _decode_row(t, drop.row)
        pk = next(iter(t.primary_key.columns))
        if session.execute(select(pk).where(pk == row.get(pk.name))).first() is None:
            session.execute(insert(t).values(**row))
            recreated += 1
    survivor = session.execute(select(parties).where(parties.c.id == merge.survivor_id)).mappings()
    current = survivor.one()
    reset = {c: None for c, v in (merge.filled or {}).items() if _encode(current[c]) == v}
    if reset:
        session.execute(update(parties).where(parties.c.id == merge.survivor_id).values(**reset))
    session.execute(
        update(parties).where(parties.c.id == merge.absorbed_id).values(merged_into_id=None)
    )
    merge.undone_at = utcnow()
    keep_apart(session, kind, merge.survivor_id, merge.absorbed_id, decided_by=decided_by)
    session.flush()
    return UnmergeResult(
        merge_id, kind, merge.survivor_id, merge.absorbed_id, moved_back, recreated
    )


def keep_apart(
    session: Session, kind: str, a: int, b: int, *, decided_by: str, reason: str = "unmerged"
) -> None:
    """Record that ``a`` and ``b`` are different parties: no rule merges them again."""
    left, right = min(a, b), max(a, b)
    review = session.scalar(
        select(IdentityReview).where(
            IdentityReview.kind == kind,
            IdentityReview.left_id == left,
            IdentityReview.right_id == right,
        )
    )
    if review is None:
        review = IdentityReview(kind=kind, left_id=left, right_id=right, rule="manual")
        review.reason = reason
        session.add(review)
    review.status = "kept_apart"
    review.decided_at = utcnow()
    review.decided_by = decided_by
    session.flush()


def kept_apart_pairs(session: Session, kind: str, ids: Sequence[int]) -> set[tuple[int, int]]:
    """The pairs among ``ids`` that were decided to be different parties."""
    if len(ids) < 2:
        return set()
    rows = session.execute(
        select(IdentityReview.left_id, IdentityReview.right_id).where(
            IdentityReview.kind == kind,
            IdentityReview.status == "kept_apart",
            IdentityReview.left_id.in_(ids),
            IdentityReview.right_id.in_(ids),
        )
    ).all()
    return {(a, b) for a, b in rows}


#: Past this many ids, reading every row and filtering in Python beats ``IN`` lists (SQLAlchemy
#: binds and renders each id; at a million customers that cost more than the queries).
SCAN_ABOVE = 50_000


def rows_with_ids(
    session: Session, statement: Select[*tuple[Any, ...]], ids: Iterable[int], *columns: Any
) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` whose value in one of ``columns`` is among ``ids``."""
    wanted = set(ids)
    if not wanted:
        return []
    width = len(statement.selected_columns)
    if len(wanted) > SCAN_ABOVE:
        rows = session.execute(statement.add_columns(*columns))
        return [tuple(r[:width]) for r in rows if any(v in wanted for v in r[width:])]
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(wanted), 10_000):
        rows = session.execute(statement.where(or_(*[c.in_(chunk) for c in columns])))
        out += [tuple(r) for r in rows]
    return out


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _encode_row(row: Any) -> dict[str, Any]:
    return {k: _encode(v) for k, v in dict(row).items()}


def _decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        if name not in table.c:
            continue
        out[name] = _decode(table.c[name], value)
    return out


def _decode(column: Column[Any], value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    return value
