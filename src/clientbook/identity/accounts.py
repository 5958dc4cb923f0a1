"""B2B accounts, resolved like people: one organisation across sources.

Two accounts are the same organisation when they share a registration number, a web domain, or
a folded name (legal suffixes dropped) with the same postcode. Guards: two different
registration numbers never merge; accounts linked by a relationship (an intermediary, a reseller,
a channel partner of the other) stay separate; pairs kept apart by a reviewer stay apart.
Members and relationships follow the surviving account, and the merge is logged like a
customer's (``identity unmerge`` works on it too).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientbook.identity.bulk import apply_merges, lock_for_merge
from clientbook.identity.matching import fold, fold_postcode
from clientbook.store.models.identity import IdentityReview
from clientbook.store.models.parties import Account, AccountRelationship

_LEGAL = re.compile(
    r"\b(ltd|limited|plc|llc|inc|incorporated|corp|corporation|co|company|gmbh|ag|sa|sas|sarl|"
    r"bv|nv|srl|spa|oy|ab|as|pty|the)\b"
)


def account_name_key(name: str | None) -> str | None:
    """A company name folded for matching: ``ACME Ltd.`` and ``acme limited`` agree."""
    folded = fold(name)
    if not folded:
        return None
    bare = re.sub(r"\s+", " ", _LEGAL.sub(" ", folded)).strip()
    return bare or folded


def domain_key(domain: str | None) -> str | None:
    """``https://www.Acme.com/about`` -> ``acme.com``."""
    if not domain:
        return None
    text = re.sub(r"^[a-z]+://", "", domain.strip().lower())
    text = text.split("/")[0].removeprefix("www.")
    return text if "." in text else None


def registration_key(number: str | None) -> str | None:
    """Registration numbers compared on letters and digits only, upper-cased."""
    text = re.sub(r"[^0-9A-Za-z]", "", number or "").upper()
    return text or None


def resolve_accounts(session: Session, mark: int, run_id: int | None) -> tuple[int, int]:
    """Merge duplicate accounts touched by accounts newer than ``mark``; (merges, top id)."""
    top = session.scalar(select(func.max(Account.id))) or 0
    if top <= mark:
        return 0, top
    rows = session.execute(
        select(
            Account.id,
            Account.name,
            Account.domain,
            Account.registration_number,
            Account.postcode,
        ).where(Account.merged_into_id.is_(None))
    ).all()
    keys: dict[str, list[int]] = defaultdict(list)
    registration: dict[int, str] = {}
    for account_id, name, domain, number, postcode in rows:
        reg = registration_key(number)
        if reg:
            registration[account_id] = reg
            keys[f"registration:{reg}"].append(account_id)
        dom = domain_key(domain)
        if dom:
            keys[f"domain:{dom}"].append(account_id)
        name_key, post = account_name_key(name), fold_postcode(postcode)
        if name_key and post:
            keys[f"name:{name_key}|{post}"].append(account_id)
    new = {r[0] for r in rows if r[0] > mark}
    apart = _apart(session)
    parent: dict[int, int] = {}
    regs: dict[int, set[str]] = {a: {r} for a, r in registration.items()}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    reason: dict[int, str] = {}
    strength = {"registration": 0, "name": 1, "domain": 2}
    for key, ids in sorted(keys.items(), key=lambda kv: (strength[kv[0].split(":")[0]], kv[0])):
        if len(ids) < 2 or not new & set(ids):
            continue
        first, *rest = sorted(ids)
        for other in rest:
            a, b = find(first), find(other)
            if a == b:
                continue
            if len(regs.get(a, set()) | regs.get(b, set())) > 1:
                continue  # two registration numbers: two organisations
            if apart and _crosses(apart, parent, find, a, b):
                continue
            keep, gone = min(a, b), max(a, b)
            parent[gone] = keep
            regs[keep] = regs.get(keep, set()) | regs.pop(gone, set())
            reason[gone] = key
    merges = []
    for x in list(parent):
        root = find(x)
        if root != x:
            merges.append((root, x, reason.get(x, "joined")))
    if not merges:
        return 0, top
    lock_for_merge(session, [x for m in merges for x in m[:2]], kind="account")
    done = apply_merges(
        session, sorted(merges), kind="account", rule="deterministic", run_id=run_id
    )
    return done, top


def _crosses(
    apart: set[tuple[int, int]], parent: dict[int, int], find: Callable[[int], int], a: int, b: int
) -> bool:
    members_a = {x for x in parent if find(x) == a} | {a}
    members_b = {x for x in parent if find(x) == b} | {b}
    return any((min(x, y), max(x, y)) in apart for x in members_a for y in members_b)


def _apart(session: Session) -> set[tuple[int, int]]:
    """Kept-apart pairs, and every pair linked by a relationship (intermediaries stay apart)."""
    pairs: set[tuple[int, int]] = {
        (a, b)
        for a, b in session.execute(
            select(IdentityReview.left_id, IdentityReview.right_id).where(
                IdentityReview.kind == "account", IdentityReview.status == "kept_apart"
            )
        )
    }
    for a, b in session.execute(
        select(AccountRelationship.account_id, AccountRelationship.related_account_id)
    ).all():
        pairs.add((min(a, b), max(a, b)))
    return pairs
