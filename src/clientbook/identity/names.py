"""Do two people's names agree? The corroboration that household identifiers need.

A phone number or an e-mail address is often shared by a household (a landline, a family
mailbox) or collides by chance, so a link on such a value holds only when the names on both
sides do not contradict each other. Names agree despite a typo (one edit, two in longer names,
a swap of neighbouring letters counting as one), an initial (``J`` and ``Jane``) or a short form
that starts the long one (``Chris`` and ``Christopher``). A missing name is no contradiction.
Birth dates corroborate the same way: two dates more than two typing errors apart are two people
(a parent and a child of the same name at one address).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientbook.identity.folding import fold
from clientbook.identity.merging import rows_with_ids
from clientbook.store.models.parties import Customer

Name = tuple[str | None, str | None]


class Agreement(Enum):
    """How two sets of names compare."""

    AGREE = "agree"  # some name of one side agrees with some name of the other, or one is unknown
    LAST_NAME_DIFFERS = "last_name"  # first names agree, last names do not (a new married name?)
    DIFFER = "first_name"  # first names disagree: two people


def folded_name(first: object, last: object) -> Name:
    """(first, last) folded for comparison; None where unknown."""
    return fold(first), fold(last)


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up (returning ``limit + 1``) past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=1 << 18)
def part_agrees(a: str | None, b: str | None) -> bool:
    """One name part (first or last) against another, both folded."""
    if not a or not b or a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) == 1 or (len(short) >= 3 and long.startswith(short)):
        return short[0] == long[0]  # an initial, or a short form
    return _edits(a, b, 1 if len(long) <= 4 else 2) <= (1 if len(long) <= 4 else 2)


def agreement(left: Iterable[Name], right: Iterable[Name]) -> Agreement:
    """The best agreement between any name of ``left`` and any name of ``right``."""
    lefts = [n for n in left if n[0] or n[1]]
    rights = [n for n in right if n[0] or n[1]]
    if not lefts or not rights:
        return Agreement.AGREE
    best = Agreement.DIFFER
    for first_a, last_a in lefts:
        for first_b, last_b in rights:
            if part_agrees(first_a, first_b):
                if part_agrees(last_a, last_b):
                    return Agreement.AGREE
                best = Agreement.LAST_NAME_DIFFERS
    return best


def births_agree(left: Iterable[str], right: Iterable[str]) -> bool:
    """True unless both sides know birth dates and none is within two typos of the other."""
    lefts, rights = set(left), set(right)
    if not lefts or not rights or lefts & rights:
        return True
    # on the digits, so that a day and month typed in each other's place is two edits, not four
    digits = {d: d.replace("-", "") for d in lefts | rights}
    return any(_edits(digits[a], digits[b], 2) <= 2 for a in lefts for b in rights)


def customer_names(session: Session, customers: Iterable[int]) -> list[tuple[int, Name]]:
    """(customer, folded name) for these customers and the customers they absorbed."""
    return customer_profiles(session, customers)[0]


def customer_profiles(
    session: Session, customers: Iterable[int]
) -> tuple[list[tuple[int, Name]], list[tuple[int, str]]]:
    """(customer, folded name) and (customer, ISO birth date) for these customers and the
    customers they absorbed."""
    names: list[tuple[int, Name]] = []
    births: list[tuple[int, str]] = []
    statement = select(
        Customer.id, Customer.merged_into_id, Customer.first_name, Customer.last_name
    ).add_columns(Customer.birth_date)
    for c, m, f, last, born in rows_with_ids(
        session, statement, customers, Customer.id, Customer.merged_into_id
    ):
        if f or last:
            names.append((m or c, folded_name(f, last)))
        if born:
            births.append((m or c, born.isoformat()))
    return names, births
