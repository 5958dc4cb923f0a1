"""The guards of identity resolution: placeholder values, per-type limits, over-shared values.

A :class:`Policy` is built from :class:`~clientbook.config.Settings` once and passed around, so
that every resolver (online, bulk, probabilistic) applies the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from clientbook.config import Settings, get_settings
from clientbook.identity.identifiers import IDENTIFIER_TYPES, normalise

_QUOTES = "\"'`"
_REPEATED = re.compile(r"^(.)\1*$")


@dataclass(frozen=True)
class Policy:
    """What may link two customers, and when a merge must go to review instead."""

    placeholders: frozenset[str]
    limits: Mapping[str, int]
    shared_limit: int
    match_threshold: float
    review_threshold: float
    region: str = "GB"
    priorities: Mapping[str, int] = field(
        default_factory=lambda: {n: t.priority for n, t in IDENTIFIER_TYPES.items()}
    )
    household: frozenset[str] = field(
        default_factory=lambda: frozenset(n for n, t in IDENTIFIER_TYPES.items() if t.household)
    )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Policy:
        """The policy the settings describe (process-wide settings when None)."""
        s = settings or get_settings()
        limits = {n: t.max_per_customer for n, t in IDENTIFIER_TYPES.items()}
        limits.update(s.identity_limits)
        return cls(
            placeholders=frozenset(_fold(v) for v in s.identity_placeholders),
            limits=limits,
            shared_limit=s.identity_shared_limit,
            match_threshold=s.identity_match_threshold,
            review_threshold=s.identity_review_threshold,
            region=s.default_region,
        )

    def is_placeholder(self, value: str) -> bool:
        """True for values that stand for "nothing": they must never link anyone."""
        folded = _fold(value)
        if folded in self.placeholders:
            return True
        bare = re.sub(r"[\s\-_.+()/@:]", "", folded)
        # all-zero, all-dash, "xxxxxx", "1111111111": nobody's real identifier
        return not bare or bool(_REPEATED.match(bare)) and len(folded) > 1

    def limit(self, type_: str) -> int:
        """How many distinct values of ``type_`` one customer may hold."""
        return self.limits.get(type_, 1000)

    def clean(
        self, identifiers: Iterable[tuple[str, str | None]], region: str | None = None
    ) -> list[tuple[str, str]]:
        """Normalised, de-duplicated identifiers in priority order, placeholders dropped."""
        seen: dict[tuple[str, str], None] = {}
        for type_, raw in identifiers:
            if raw is None:
                continue
            # a source record's own key (SOURCE:ID) is never a placeholder, whatever its id
            check = type_ != "source_record"
            if check and self.is_placeholder(str(raw)):
                continue
            value = normalise(type_, raw, region or self.region)
            if value is None or check and self.is_placeholder(value):
                continue
            seen[(type_, value)] = None
        return sorted(seen, key=lambda tv: (self.priorities.get(tv[0], 9), tv))

    def over_limit(self, values: Mapping[str, Sequence[str] | set[str]]) -> list[str]:
        """The types whose distinct values exceed their limit (``values``: type -> values)."""
        return sorted(t for t, vs in values.items() if len(set(vs)) > self.limit(t))


def _fold(value: str) -> str:
    folded = str(value).strip().lower()
    while len(folded) >= 2 and folded[0] in _QUOTES and folded[-1] == folded[0]:
        folded = folded[1:-1].strip()
    return folded
