"""Set-based merging for the batch resolver: many merges in a few statements per table.

:func:`apply_merges` does what :func:`clientbook.identity.merging.merge_parties` does for one
pair, for thousands at once, and records the same merge log, so that ``identity unmerge`` undoes
a batch merge exactly like an online one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from clientbook.identity.locks import is_postgres
from clientbook.identity.merging import (
    FILLABLE,
    PARTY_TABLES,
    _chunks,
    _encode,
    _encode_row,
    movable_columns,
    rows_with_ids,
)
from clientbook.store.models.base import utcnow
from clientbook.store.models.identity import IdentityMerge, IdentityMergeDrop, IdentityMergeMove

_MAP = Table(
    "cb_merge_map",
    MetaData(),
    Column("absorbed_id", Integer, primary_key=True),
    Column("survivor_id", Integer, nullable=False),
    Column("merge_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


def cast_table(model: type) -> Table:
    """The Core table of a model: bulk statements skip the ORM's per-row work."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def lock_for_merge(session: Session, ids: Sequence[int], kind: str = "customer") -> None:
    """On PostgreSQL, lock these parties in id order, in chunks (SQLite holds the db lock)."""
    if not is_postgres(session):
        return
    table = PARTY_TABLES[kind]
    for chunk in _chunks(sorted(set(ids)), 10_000):
        session.execute(
            select(table.c.id).where(table.c.id.in_(chunk)).order_by(table.c.id).with_for_update()
        ).all()


def apply_merges(
    session: Session,
    merges: Sequence[tuple[int, int, str]],
    *,
    kind: str = "customer",
    rule: str,
    source: str | None = None,
    run_id: int | None = None,
) -> int:
    """Merge each (survivor, absorbed, reason); return how many merges were recorded."""
    if not merges:
        return 0
    parties = PARTY_TABLES[kind]
    fills, writes = _fills(session, parties, kind, merges)
    now = utcnow()
    rows = [
        {
            "kind": kind,
            "survivor_id": s,
            "absorbed_id": a,
            "rule": rule,
            "reason": reason,
            "source": source,
            "run_id": run_id,
            "filled": fills.get(a, {}),
            "created_at": now,
        }
        for s, a, reason in merges
    ]
    conn = session.connection()
    log_table = cast_table(IdentityMerge)
    ids: dict[int, int] = {}
    if run_id is None:
        for chunk in _chunks(rows, 5_000):
            result = conn.execute(
                insert(log_table).returning(
                    log_table.c.id, log_table.c.absorbed_id, sort_by_parameter_order=True
                ),
                chunk,
            )
            ids.update({absorbed: merge_id for merge_id, absorbed in result})
    else:
        # plain executemany (much faster than RETURNING rows), then read the ids back
        for chunk in _chunks(rows, 20_000):
            conn.execute(insert(log_table), chunk)
        written = conn.execute(
            select(log_table.c.id, log_table.c.absorbed_id).where(
                log_table.c.run_id == run_id,
                log_table.c.kind == kind,
                log_table.c.rule == rule,
            )
        )
        ids.update({absorbed: merge_id for merge_id, absorbed in written})
    _MAP.drop(conn, checkfirst=True)
    _MAP.create(conn)
    for chunk in _chunks(list(merges), 20_000):
        conn.execute(
            insert(_MAP),
            [{"absorbed_id": a, "survivor_id": s, "merge_id": ids[a]} for s, a, _ in chunk],
        )
    for movable in movable_columns(kind):
        _move_all(session, movable.table, movable.column, movable.key, movable.uniques)
    target = select(_MAP.c.survivor_id).where(_MAP.c.absorbed_id == parties.c.id)
    session.execute(
        update(parties)
        .where(parties.c.id.in_(select(_MAP.c.absorbed_id)))
        .values(merged_into_id=target.scalar_subquery())
    )
    _fill_survivors(session, parties, writes)
    _MAP.drop(conn)
    return len(merges)


def _move_all(
    session: Session, t: Table, column: str, key: str, uniques: tuple[tuple[str, ...], ...]
) -> None:
    col, pk = t.c[column], t.c[key]
    for others in uniques:
        q = t.alias("q")
        mq = _MAP.alias("mq")
        clash = (
            select(t, _MAP.c.merge_id)
            .join(_MAP, _MAP.c.absorbed_id == col)
            .where(
                exists(
                    select(literal(1))
                    .select_from(q.outerjoin(mq, mq.c.absorbed_id == q.c[column]))
                    .where(
                        func.coalesce(mq.c.survivor_id, q.c[column]) == _MAP.c.survivor_id,
                        and_(*[q.c[o] == t.c[o] for o in others]),
                        or_(q.c[column] == _MAP.c.survivor_id, q.c[key] < pk),
                    )
                )
            )
        )
        dropped = session.execute(clash).mappings().all()
        for chunk in _chunks(list(dropped), 5_000):
            session.connection().execute(
                insert(cast_table(IdentityMergeDrop)),
                [
                    {
                        "merge_id": r["merge_id"],
                        "table_name": t.name,
                        "row": _encode_row({c.name: r[c.name] for c in t.c}),
                    }
                    for r in chunk
                ],
            )
            session.execute(delete(t).where(pk.in_([r[key] for r in chunk])))
    session.execute(
        insert(cast_table(IdentityMergeMove)).from_select(
            ["merge_id", "table_name", "row_key"],
            select(_MAP.c.merge_id, literal(t.name), cast(pk, String(100))).join_from(
                t, _MAP, _MAP.c.absorbed_id == col
            ),
        )
    )
    target = select(_MAP.c.survivor_id).where(_MAP.c.absorbed_id == col)
    session.execute(
        update(t)
        .where(col.in_(select(_MAP.c.absorbed_id)))
        .values({column: target.scalar_subquery()})
    )


def _fills(
    session: Session, parties: Table, kind: str, merges: Sequence[tuple[int, int, str]]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Per absorbed party, the survivor's empty columns it fills (encoded for the log; the
    first absorbed wins); per survivor, the typed values to write."""
    involved = sorted({x for s, a, _ in merges for x in (s, a)})
    cols = [parties.c.id, *[parties.c[c] for c in FILLABLE[kind]]]
    names = [c.name for c in cols]
    data: dict[int, dict[str, Any]] = {
        row[0]: dict(zip(names, row, strict=True))
        for row in rows_with_ids(session, select(*cols), involved, parties.c.id)
    }
    fills: dict[int, dict[str, Any]] = {}
    writes: dict[int, dict[str, Any]] = {}
    for s, a, _ in sorted(merges):
        survivor, absorbed = data[s], data[a]
        done = writes.setdefault(s, {})
        filled = {
            c: absorbed[c]
            for c in FILLABLE[kind]
            if c not in done and survivor[c] in (None, "") and absorbed[c] not in (None, "")
        }
        if filled:
            fills[a] = {c: _encode(v) for c, v in filled.items()}
            done.update(filled)
    return fills, {s: w for s, w in writes.items() if w}


def _fill_survivors(session: Session, parties: Table, writes: dict[int, dict[str, Any]]) -> None:
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for survivor, values in writes.items():
        key = tuple(sorted(values))
        by_columns.setdefault(key, []).append(
            {"sid": survivor, **{f"v_{c}": v for c, v in values.items()}}
        )
    for columns, params in by_columns.items():
        statement = (
            update(parties)
            .where(parties.c.id == bindparam("sid"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        for chunk in _chunks(params, 5_000):
            session.connection().execute(statement, chunk)
