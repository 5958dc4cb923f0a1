"""The deterministic identity graph, online: one call per event or record.

:func:`resolve` finds the customer that a set of identifiers belongs to, inside the caller's
transaction. Customers that the identifiers join are merged (the oldest id survives, so ids stay
stable) unless a guard says no:

* placeholders (``"undefined"``, ``"0"``, ``test@test.com``, ...) never link anyone;
* a value already held by ``identity_shared_limit`` customers is over-shared: it no longer links;
* a household value (phone, e-mail) links only when the names agree
  (:mod:`clientbook.identity.names`): other first names mean another person of the household,
  the same first name under another last name goes to the review queue;
* a merge that would give one customer more distinct values of a type than the type's limit
  (two ``user_id``, six e-mails) is refused and the pair goes to the review queue — except when
  the link is an ``anonymous_id``: a shared device is not a merge, and the new user simply gets
  the device (later anonymous events go to whoever identified on it last);
* pairs decided (or unmerged) as different people stay apart.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from clientbook.errors import InvalidInput
from clientbook.identity.locks import is_postgres, lock_parties, lock_values
from clientbook.identity.merging import kept_apart_pairs, merge_parties
from clientbook.identity.names import Agreement, Name, agreement, customer_names, folded_name
from clientbook.identity.policy import Policy
from clientbook.store.models.base import utcnow
from clientbook.store.models.identity import IdentityReview
from clientbook.store.models.parties import Customer, Identifier

log = logging.getLogger(__name__)

#: Customer columns that traits fill directly; every other trait goes to ``Customer.traits``.
TRAIT_COLUMNS = (
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
)
_RETRYABLE = ("40P01", "40001")  # deadlock detected, serialization failure

Value = tuple[str, str]


@dataclass
class _Plan:
    members: list[int] = field(default_factory=list)
    linked_by: dict[int, Value] = field(default_factory=dict)
    refused: list[tuple[int, Value, list[str]]] = field(default_factory=list)


def resolve(
    session: Session,
    identifiers: Sequence[tuple[str, str]],
    *,
    source: str,
    region: str,
    rule: str = "deterministic",
    traits: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
) -> int:
    """Return the surviving customer id for these (type, raw value) identifiers.

    Runs inside the caller's transaction: creates a customer if none matches, attaches new
    identifiers, merges the customers the identifiers join (subject to the guards above) and
    records each merge. Raises :class:`InvalidInput` when no identifier is usable.
    """
    policy = policy or Policy.from_settings()
    values = policy.clean(identifiers, region)
    if not values:
        shown = ", ".join(f"{t}={v!r}" for t, v in identifiers) or "none"
        raise InvalidInput(
            f"No usable identifier among: {shown}.",
            hint="Placeholders such as 'undefined', 'null' or '0' never identify anyone.",
        )
    fast = _known_customer(session, values) if not traits else None
    if fast is not None:
        return fast
    pg = is_postgres(session)
    for attempt in range(4):
        try:
            with session.begin_nested() if pg else nullcontext():
                return _resolve_locked(session, values, source, rule, traits or {}, policy)
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None)
            if not pg or code not in _RETRYABLE or attempt == 3:
                raise
            log.info("identity resolution retried after %s", code)
    raise AssertionError("unreachable")  # pragma: no cover


def _known_customer(session: Session, values: list[Value]) -> int | None:
    """The customer when every value is already held by it alone and it is not merged away."""
    held = _holders(session, values)
    owners = {c for tv in values for c in held.get(tv, [])}
    if len(owners) != 1 or any(tv not in held for tv in values):
        return None
    (owner,) = owners
    # FOR SHARE on PostgreSQL: a concurrent merge of this customer waits for our commit
    state = lock_parties(session, [owner], exclusive=False)
    return owner if owner in state and state[owner] is None else None


def _holders(session: Session, values: list[Value]) -> dict[Value, list[int]]:
    """For each value, the customers holding it, the latest claimant first."""
    # Core on the session's connection: these statements need nothing of the ORM, which would
    # double their cost (resolve runs once per event)
    rows = (
        session.connection()
        .execute(
            select(Identifier.type, Identifier.value, Identifier.customer_id)
            .where(tuple_(Identifier.type, Identifier.value).in_(values))
            .order_by(Identifier.id.desc())
        )
        .all()
    )
    held: dict[Value, list[int]] = defaultdict(list)
    for t, v, c in rows:
        if c not in held[(t, v)]:
            held[(t, v)].append(c)
    return dict(held)


def _resolve_locked(
    session: Session,
    values: list[Value],
    source: str,
    rule: str,
    traits: Mapping[str, Any],
    policy: Policy,
) -> int:
    lock_values(session, "customer", values)
    for _ in range(10):
        held = _holders(session, values)
        candidates = {c for tv in values for c in held.get(tv, [])}
        state = lock_parties(session, candidates)
        if all(state.get(c, 0) is None for c in candidates):
            break
        # a concurrent merge moved them since we read: read again, now that it has committed
    else:  # pragma: no cover - needs ten merges of the same customers in a row
        raise RuntimeError("identity resolution could not settle on a customer")
    plan = _plan(session, values, held, policy, traits)
    if plan.members:
        survivor = min(plan.members)
    else:
        customers = cast(Table, Customer.__table__)
        survivor = (
            session.connection()
            .execute(
                insert(customers).returning(customers.c.id), {"traits": {}, "created_at": utcnow()}
            )
            .scalar_one()
        )
    merged = False
    for member in sorted(plan.members):
        if member != survivor:
            t, v = plan.linked_by[member]
            merge_parties(session, survivor, member, rule=rule, reason=f"{t}:{v}", source=source)
            merged = True
    _attach(session, survivor, values, held, plan, source)
    for other, (t, v), over in plan.refused:
        if t == "anonymous_id" and "user_id" in over:
            continue  # a shared device: two people, no review needed
        _propose(session, survivor, other, f"{t}:{v} is shared, but {', '.join(over)} differ")
    if traits:
        _apply_traits(session, survivor, traits)
    if merged:
        session.expire_all()
    return survivor


def _plan(
    session: Session,
    values: list[Value],
    held: dict[Value, list[int]],
    policy: Policy,
    traits: Mapping[str, Any],
) -> _Plan:
    plan = _Plan()
    candidates = sorted({c for tv in values for c in held.get(tv, [])})
    if not candidates:
        return plan
    names: dict[int, set[Name]] = defaultdict(set)
    for c, name in customer_names(session, candidates):
        names[c].add(name)
    incoming = folded_name(traits.get("first_name"), traits.get("last_name"))
    joined: set[Name] = {incoming} if incoming[0] or incoming[1] else set()
    owned: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for c, t, v in session.connection().execute(
        select(Identifier.customer_id, Identifier.type, Identifier.value).where(
            Identifier.customer_id.in_(candidates)
        )
    ):
        owned[c][t].add(v)
    apart = kept_apart_pairs(session, "customer", candidates)
    combined: dict[str, set[str]] = defaultdict(set)
    for t, v in values:
        combined[t].add(v)
    for tv in values:
        holders = held.get(tv, [])
        if len(holders) >= policy.shared_limit:
            continue  # over-shared: no longer links anyone
        for c in holders:
            if c in plan.members:
                continue
            agreed = agreement(joined, names[c]) if tv[0] in policy.household else Agreement.AGREE
            if agreed is Agreement.DIFFER:
                continue  # another person of the household
            trial = {t: combined.get(t, set()) | owned[c].get(t, set()) for t in combined}
            for t, vs in owned[c].items():
                trial.setdefault(t, set()).update(vs)
            # refused only when the merge creates the excess: the incoming set may itself hold
            # two user ids (an alias), and a customer may already hold them from one
            over = sorted(
                t
                for t, vs in trial.items()
                if len(vs)
                > max(policy.limit(t), len(combined.get(t, ())), len(owned[c].get(t, ())))
            )
            if over:
                plan.refused.append((c, tv, over))
                continue
            if any((min(c, m), max(c, m)) in apart for m in plan.members):
                continue
            if agreed is Agreement.LAST_NAME_DIFFERS:
                plan.refused.append((c, tv, ["last_name"]))
                continue
            joined |= names[c]
            plan.members.append(c)
            plan.linked_by[c] = tv
            for t, vs in trial.items():
                combined[t] = set(vs)
    return plan


def _attach(
    session: Session,
    survivor: int,
    values: list[Value],
    held: dict[Value, list[int]],
    plan: _Plan,
    source: str,
) -> None:
    members = set(plan.members) | {survivor}
    missing = [tv for tv in values if not members & set(held.get(tv, []))]
    now = utcnow()
    identified = any(t == "user_id" for t, _ in values)
    for t, v in values:
        # the device changes hands: the user who identified last gets its anonymous events
        others = set(held.get((t, v), [])) - members
        if t == "anonymous_id" and others and (t, v) not in missing and identified:
            session.execute(
                delete(Identifier).where(
                    Identifier.type == t, Identifier.value == v, Identifier.customer_id.in_(members)
                )
            )
            missing.append((t, v))
    if missing:
        session.connection().execute(
            insert(cast(Table, Identifier.__table__)),
            [
                {"customer_id": survivor, "type": t, "value": v, "source": source[:100]}
                | {"first_seen_at": now}
                for t, v in missing
            ],
        )


def _propose(session: Session, a: int, b: int, reason: str) -> None:
    """Queue the pair for review unless it is already queued or decided."""
    left, right = min(a, b), max(a, b)
    exists = session.scalar(
        select(IdentityReview.id).where(
            IdentityReview.kind == "customer",
            IdentityReview.left_id == left,
            IdentityReview.right_id == right,
        )
    )
    if exists is None:
        session.execute(
            insert(IdentityReview),
            [
                {
                    "kind": "customer",
                    "left_id": left,
                    "right_id": right,
                    "rule": "deterministic",
                    "reason": reason,
                    "status": "pending",
                    "created_at": utcnow(),
                }
            ],
        )


def _apply_traits(session: Session, customer_id: int, traits: Mapping[str, Any]) -> None:
    """Latest wins: given traits overwrite the customer's columns; others go to ``traits``."""
    table = cast(Table, Customer.__table__)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in traits.items():
        if value is None or value == "":
            continue
        if key in TRAIT_COLUMNS:
            values[key] = _column_value(key, value)
        else:
            extra[key] = value
    if extra:
        current = session.scalar(select(Customer.traits).where(Customer.id == customer_id)) or {}
        values["traits"] = {**current, **extra}
    values = {k: v for k, v in values.items() if v is not None}
    if values:
        values["updated_at"] = utcnow()
        session.execute(update(table).where(table.c.id == customer_id).values(**values))


def _column_value(key: str, value: Any) -> Any:
    if key == "birth_date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    length = getattr(Customer.__table__.c[key].type, "length", None)
    text = str(value).strip()
    if key == "country":
        return text.upper()[:2] if len(text) == 2 else None
    return text[:length] if length else text
