"""Pairwise precision and recall of resolved clusters against a ground truth.

Precision: of the record pairs we put in one customer, the share that truly are one person.
Recall: of the record pairs that truly are one person, the share we put in one customer.
Both are counted over pairs (cluster sizes n give n(n-1)/2 pairs), as in Christen (2012),
*Data Matching*, ch. 7.

Some true pairs share nothing but a name, and a name is not an identity: no method links them
at high precision. :func:`linkable_labels` splits each true person into the groups of records
that some evidence beyond the name connects, so that recall can also be measured on what is
linkable at all.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from clientbook.errors import InvalidInput
from clientbook.identity.matching import fold, fold_date, fold_email, fold_phone, fold_postcode

#: Fields that are evidence beyond the name when two records share their (folded) value.
EVIDENCE: dict[str, Callable[[object], str | None]] = {
    "email": fold_email,
    "phone": fold_phone,
    "birth_date": fold_date,
    "postcode": fold_postcode,
    "street": fold,
}

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Quality:
    """Pairwise figures; ``records`` is how many records both sides know."""

    records: int
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pairwise_quality(predicted: Mapping[K, Hashable], truth: Mapping[K, Hashable]) -> Quality:
    """Compare cluster labels per record (``predicted``) with true labels (``truth``)."""
    common = [r for r in predicted if r in truth]

    def pairs(counter: Counter[Hashable]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    predicted_pairs = pairs(Counter(predicted[r] for r in common))
    true_pairs = pairs(Counter(truth[r] for r in common))
    correct = pairs(Counter((predicted[r], truth[r]) for r in common))
    return Quality(
        records=len(common),
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
    )


def read_labels(path: Path, label: str) -> dict[tuple[str, str], str]:
    """``(source, source_record_id) -> label`` from a CSV with those columns."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        needed = {"source", "source_record_id", label}
        if not needed <= set(reader.fieldnames or ()):
            raise InvalidInput(
                f"{path} needs the columns {', '.join(sorted(needed))}.",
                hint="Write the resolved side with `clientbook identity export --out FILE`.",
            )
        return {(r["source"], r["source_record_id"]): r[label] for r in reader}


def linkable_labels(
    truth: Mapping[K, Hashable], attributes: Mapping[K, Mapping[str, object]]
) -> dict[K, K]:
    """True labels split into the groups of records chained by a shared :data:`EVIDENCE` value.

    Two records of one person are in one group when a chain of that person's records links
    them, each step sharing an e-mail, phone, birth date, postcode or street (folded).
    """
    parent: dict[K, K] = {r: r for r in truth}

    def root(r: K) -> K:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    first_holder: dict[tuple[Hashable, str, str], K] = {}
    for record, person in truth.items():
        for field, folder in EVIDENCE.items():
            value = folder(attributes.get(record, {}).get(field))
            if value is not None:
                other = first_holder.setdefault((person, field, value), record)
                parent[root(record)] = root(other)
    return {r: root(r) for r in truth}
