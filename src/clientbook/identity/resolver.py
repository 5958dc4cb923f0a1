"""`clientbook identity resolve`: resolution over what is new since the last run.

1. Deterministic: customers that share an identifier value are joined (guarded union-find:
   placeholders, per-type limits, over-shared values, kept-apart pairs), the oldest id survives.
2. Probabilistic: new source records are scored with Splink (on DuckDB or Spark) against the
   existing ones and each other; pairs at or above ``identity_match_threshold`` merge, pairs at
   or above ``identity_review_threshold`` go to the review queue.
3. B2B accounts: resolved on registration number, web domain and name + postcode.

Everything happens in one transaction; ``dry_run`` rolls it back after reporting what would merge.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from clientbook.analytics.engine import ENGINES
from clientbook.config import Settings
from clientbook.errors import UsageError
from clientbook.identity.accounts import resolve_accounts
from clientbook.identity.bulk import apply_merges, cast_table, lock_for_merge
from clientbook.identity.clusters import Clusters, Refusal
from clientbook.identity.matching import (
    COLUMNS,
    prepare_frame,
    rarely_contradicted,
    score_new,
)
from clientbook.identity.merging import rows_with_ids
from clientbook.identity.names import Name, customer_profiles
from clientbook.identity.policy import Policy
from clientbook.store.db import session_scope
from clientbook.store.models.base import utcnow
from clientbook.store.models.identity import IdentityReview, IdentityRun
from clientbook.store.models.parties import Customer, Identifier, SourceRecord


@dataclass
class PlannedMerge:
    """One surviving customer and what joins it in this run."""

    survivor_id: int
    absorbed: int
    reasons: list[str]


@dataclass
class ResolutionReport:
    """What a run did (or, with ``dry_run``, would do)."""

    dry_run: bool
    run_id: int | None = None
    new_identifiers: int = 0
    new_records: int = 0
    deterministic_merges: int = 0
    probabilistic_merges: int = 0
    account_merges: int = 0
    review_pairs: int = 0
    customers_before: int = 0
    customers_after: int = 0
    over_shared: list[dict[str, Any]] = field(default_factory=list)
    household_links_refused: int = 0
    merges: list[PlannedMerge] = field(default_factory=list)
    model_trained: bool = False
    engine: str = "duckdb"
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_new(
    settings: Settings,
    *,
    dry_run: bool = False,
    probabilistic: bool = True,
    show: int = 50,
    engine: str | None = None,
) -> ResolutionReport:
    """Resolve identifiers, records and accounts added since the last run.

    ``engine`` runs Splink on duckdb or spark (default: ``settings.analytics_engine``).
    """
    engine = engine or settings.analytics_engine
    if engine not in ENGINES:
        raise UsageError(f"Unknown engine {engine!r}.", hint="Use duckdb or spark.")
    policy = Policy.from_settings(settings)
    report = ResolutionReport(dry_run=dry_run, engine=engine)
    with session_scope(settings.database_url) as session:
        last = session.scalars(
            select(IdentityRun)
            .where(IdentityRun.finished_at.is_not(None))
            .order_by(IdentityRun.id.desc())
            .limit(1)
        ).first()
        marks = (
            (last.last_identifier_id, last.last_source_record_id, last.last_account_id)
            if last
            else (0, 0, 0)
        )
        run = IdentityRun(started_at=utcnow(), stats={})
        session.add(run)
        session.flush()
        report.run_id = None if dry_run else run.id
        report.customers_before = _alive(session)
        top_identifier = session.scalar(select(func.max(Identifier.id))) or 0
        top_record = session.scalar(select(func.max(SourceRecord.id))) or 0

        t0 = time.perf_counter()
        merges = _deterministic(session, policy, marks[0], report)
        report.deterministic_merges = apply_merges(
            session, merges, rule="deterministic", run_id=run.id
        )
        report.seconds["deterministic"] = round(time.perf_counter() - t0, 2)

        if probabilistic:
            t0 = time.perf_counter()
            prob = _probabilistic(session, policy, marks[1], run, report)
            report.probabilistic_merges = apply_merges(
                session, prob, rule="probabilistic", run_id=run.id
            )
            merges += prob
            report.seconds["probabilistic"] = round(time.perf_counter() - t0, 2)

        t0 = time.perf_counter()
        report.account_merges, top_account = resolve_accounts(session, marks[2], run.id)
        report.seconds["accounts"] = round(time.perf_counter() - t0, 2)

        report.customers_after = _alive(session)
        report.merges = _summarise(merges, show)
        run.last_identifier_id = max(top_identifier, marks[0])
        run.last_source_record_id = max(top_record, marks[1]) if probabilistic else marks[1]
        run.last_account_id = max(top_account, marks[2])
        run.finished_at = utcnow()
        run.stats = {k: v for k, v in report.to_dict().items() if k != "merges"}
        if dry_run:
            session.rollback()
    return report


def _alive(session: Session) -> int:
    alive = select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None))
    return session.scalar(alive) or 0


def _deterministic(
    session: Session, policy: Policy, mark: int, report: ResolutionReport
) -> list[tuple[int, int, str]]:
    """Guarded unions over every value that a new identifier touches."""
    new = select(Identifier.type, Identifier.value).where(Identifier.id > mark)
    report.new_identifiers = (
        session.scalar(select(func.count(Identifier.id)).where(Identifier.id > mark)) or 0
    )
    if not report.new_identifiers:
        return []
    if mark == 0:
        touched_customers = select(Customer.id)
    else:
        n = new.subquery()
        touched_customers = select(Identifier.customer_id).join(
            n, (n.c.type == Identifier.type) & (n.c.value == Identifier.value)
        )
    rows = (
        session.connection()
        .execute(
            select(Identifier.customer_id, Identifier.type, Identifier.value).where(
                Identifier.customer_id.in_(touched_customers),
                # a record's own SOURCE:ID is unique to it: it never joins two customers
                Identifier.type != "source_record",
            )
        )
        .all()
    )
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for c, t, v in rows:
        holders[(t, v)].append(c)
    # only customers that share a value can be joined: the rest need no bookkeeping
    shared = [(tv, cs) for tv, cs in holders.items() if len(cs) > 1]
    candidates = {c for _, cs in shared for c in cs}
    lock_for_merge(session, sorted(candidates))
    clusters = Clusters(policy, apart=_apart(session))
    clusters.add_values((c, t, v) for c, t, v in rows if c in candidates)
    names, births = customer_profiles(
        session, {c for (t, _), cs in shared if t in policy.household for c in cs}
    )
    clusters.add_names(names)
    clusters.add_births(births)
    for (t, v), cs in sorted(shared, key=lambda kv: policy.priorities.get(kv[0][0], 9)):
        if t != "source_record" and policy.is_placeholder(v):
            continue
        if len(set(cs)) >= policy.shared_limit:
            report.over_shared.append({"type": t, "value": v, "customers": len(set(cs))})
            continue
        first, *rest = sorted(set(cs))
        for other in rest:
            clusters.union(first, other, f"{t}:{v}", t)
    report.review_pairs += _propose(session, clusters, clusters.refused, "deterministic")
    report.household_links_refused = clusters.households
    return clusters.merges()


def _probabilistic(
    session: Session, policy: Policy, mark: int, run: IdentityRun, report: ResolutionReport
) -> list[tuple[int, int, str]]:
    """Score new records with Splink; merge confident pairs, queue doubtful ones."""
    attributes = SourceRecord.attributes
    # the compared attributes extracted by the database: no JSON parsing per record in Python
    result_rows = session.connection().execute(
        select(
            SourceRecord.id,
            SourceRecord.customer_id,
            *[attributes[c].as_string().label(c) for c in COLUMNS],
        )
    )
    raw = pd.DataFrame(result_rows.fetchall(), columns=["unique_id", "customer_id", *COLUMNS])
    report.new_records = int((raw["unique_id"] > mark).sum())
    if not report.new_records:
        return []
    survivor = _survivors(session)
    owner = {
        rid: survivor.get(cid, cid)
        for rid, cid in zip(raw["unique_id"].tolist(), raw["customer_id"].tolist(), strict=True)
    }
    frame = prepare_frame(raw.drop(columns="customer_id"))
    del raw
    is_new = frame["unique_id"] > mark
    previous = session.scalars(
        select(IdentityRun.model)
        .where(IdentityRun.model.is_not(None), IdentityRun.finished_at.is_not(None))
        .order_by(IdentityRun.id.desc())
        .limit(1)
    ).first()
    result = score_new(
        frame[~is_new],
        frame[is_new],
        model=previous,
        threshold=policy.review_threshold,
        engine=report.engine,
    )
    report.model_trained = result.trained
    run.model = result.model
    shared = _shares_household_value(frame, result.pairs)
    pairs = [
        (owner[int(a)], owner[int(b)], float(p), bool(h))
        for a, b, p, h in zip(
            result.pairs["left"].tolist(),
            result.pairs["right"].tolist(),
            result.pairs["probability"].tolist(),
            shared.tolist(),
            strict=True,
        )
        if owner[int(a)] != owner[int(b)]
    ]
    if not pairs:
        return []
    involved = sorted({c for a, b, _, _ in pairs for c in (a, b)})
    lock_for_merge(session, involved)
    clusters = Clusters(policy, apart=_apart(session))
    clusters.add_values(
        rows_with_ids(
            session,
            select(Identifier.customer_id, Identifier.type, Identifier.value),
            involved,
            Identifier.customer_id,
        )
    )
    names, births = _profiles(frame, owner, set(involved))
    clusters.add_names(names)
    clusters.add_births(births)
    # where first names or birth dates are often mistyped or replaced (FEBRL), a disagreement
    # on them tells nobody apart, except on a link through a household's phone or e-mail
    decisive = rarely_contradicted(result.model, ("first_name", "birth_date"))
    clusters.names_decisive = "first_name" in decisive
    clusters.births_contradict = "birth_date" in decisive
    doubtful = []
    for a, b, p, household in sorted(pairs, key=lambda x: -x[2]):
        if p >= policy.match_threshold:
            clusters.union(
                a, b, f"match probability {p:.4f}", "probabilistic", p, household=household
            )
        else:
            doubtful.append(Refusal(min(a, b), max(a, b), f"match probability {p:.4f}", [], p))
    report.review_pairs += _propose(session, clusters, clusters.refused, "probabilistic")
    report.review_pairs += _propose(session, clusters, doubtful, "probabilistic")
    return clusters.merges()


def _shares_household_value(frame: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
    """Per scored pair, whether the two records share a phone or an e-mail address."""
    keys = frame.set_index("unique_id")[["email", "phone"]]
    left = keys.reindex(pairs["left"].to_numpy()).fillna("").to_numpy(dtype=object)
    right = keys.reindex(pairs["right"].to_numpy()).fillna("").to_numpy(dtype=object)
    same = (left == right) & (left != "")
    return pd.Series(same.any(axis=1), index=pairs.index)


def _profiles(
    frame: pd.DataFrame, owner: dict[int, int], customers: set[int]
) -> tuple[list[tuple[int, Name]], list[tuple[int, str]]]:
    """(customer, folded name) and (customer, birth date) from the records these customers own."""
    owners = frame["unique_id"].map(owner)
    mine = frame[owners.isin(customers)]
    columns = ["first_name", "last_name", "birth_date"]
    values = mine[columns].astype(object).where(mine[columns].notna(), None)
    names: list[tuple[int, Name]] = []
    births: list[tuple[int, str]] = []
    for c, first, last, born in zip(
        owners[mine.index].tolist(), *(values[k].tolist() for k in columns), strict=True
    ):
        if first or last:
            names.append((c, (first, last)))
        if born:
            births.append((c, born))
    return names, births


def _survivors(session: Session) -> dict[int, int]:
    """Absorbed customer -> current survivor (chains followed)."""
    parent: dict[int, int] = {
        c: m
        for c, m in session.execute(
            select(Customer.id, Customer.merged_into_id).where(Customer.merged_into_id.is_not(None))
        ).all()
        if m is not None
    }
    out: dict[int, int] = {}
    for c in parent:
        root: int = c
        while root in parent:
            root = parent[root]
        out[c] = root
    return out


def _apart(session: Session) -> set[tuple[int, int]]:
    rows = session.execute(
        select(IdentityReview.left_id, IdentityReview.right_id).where(
            IdentityReview.kind == "customer", IdentityReview.status == "kept_apart"
        )
    )
    return {(a, b) for a, b in rows}


def _propose(session: Session, clusters: Clusters, refused: list[Refusal], rule: str) -> int:
    """Queue refused or doubtful pairs (by their surviving customers) unless already known."""
    wanted: dict[tuple[int, int], Refusal] = {}
    for r in refused:
        a, b = clusters.find(r.left), clusters.find(r.right)
        if a != b:
            wanted.setdefault((min(a, b), max(a, b)), r)
    if not wanted:
        return 0
    known = {
        (a, b)
        for a, b in session.execute(
            select(IdentityReview.left_id, IdentityReview.right_id).where(
                IdentityReview.kind == "customer"
            )
        )
    }
    rows = [
        {
            "kind": "customer",
            "left_id": a,
            "right_id": b,
            "rule": rule,
            "reason": r.reason + (f"; {', '.join(r.over)} differ" if r.over else ""),
            "probability": r.probability,
            "status": "pending",
            "created_at": utcnow(),
        }
        for (a, b), r in wanted.items()
        if (a, b) not in known
    ]
    if rows:
        session.connection().execute(insert(cast_table(IdentityReview)), rows)
    return len(rows)


def _summarise(merges: list[tuple[int, int, str]], show: int) -> list[PlannedMerge]:
    by_survivor: dict[int, list[str]] = defaultdict(list)
    for s, _, reason in merges:
        by_survivor[s].append(reason)
    biggest = Counter({s: len(r) for s, r in by_survivor.items()}).most_common(show)
    return [PlannedMerge(s, n, sorted(set(by_survivor[s]))[:5]) for s, n in biggest]
