"""Union-find over customers with the guards of :mod:`clientbook.identity.policy`.

Used by the batch resolver: identifiers (deterministic) and match pairs (probabilistic) both
become guarded unions; the oldest customer id of each cluster survives. A link on a household
value (phone, e-mail) also needs the names of both clusters to agree: when the first names
differ they are two people of one household and stay apart silently; when only the last names
differ (a new married name?) the pair goes to review. Probabilistic links need the same
corroboration, cluster against cluster (a chain of pairwise matches must not join two people),
and both kinds need birth dates that do not contradict each other (where the model shows that
one person's records rarely disagree on them). A probabilistic link whose first names disagree
holds only when both sides know the same birth date (a name replaced, as in FEBRL); refused, it
goes to review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from clientbook.identity.names import Agreement, Name, agreement, births_agree
from clientbook.identity.policy import Policy


@dataclass
class Refusal:
    """A union the guards refused: ``left``/``right`` would break ``over`` if merged."""

    left: int
    right: int
    reason: str
    over: list[str]
    probability: float | None = None


@dataclass
class Clusters:
    """Customers joined so far; per cluster, the distinct values of each limited type."""

    policy: Policy
    apart: set[tuple[int, int]] = field(default_factory=set)
    parent: dict[int, int] = field(default_factory=dict)
    values: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    reason: dict[int, str] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)
    names: dict[int, set[Name]] = field(default_factory=dict)
    births: dict[int, set[str]] = field(default_factory=dict)
    births_contradict: bool = True  # False: birth dates only vouch for names that differ
    names_decisive: bool = True  # False: names checked on household links only
    households: int = 0  # links refused because the names show two people

    def __post_init__(self) -> None:
        self._limited = {t for t, n in self.policy.limits.items() if n < 100}
        self._apart_members: dict[int, set[int]] = defaultdict(set)
        for a, b in self.apart:
            self._apart_members[a].add(b)
            self._apart_members[b].add(a)
        self._members: dict[int, list[int]] = {}

    def add_values(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Register (customer, type, value) so that limits can be checked."""
        for c, t, v in rows:
            self.find(c)
            if t in self._limited:
                self.values.setdefault(c, {}).setdefault(t, set()).add(v)

    def add_names(self, rows: Iterable[tuple[int, Name]]) -> None:
        """Register the (folded) names each customer is known by."""
        for c, name in rows:
            if name[0] or name[1]:
                self.names.setdefault(self.find(c), set()).add(name)

    def add_births(self, rows: Iterable[tuple[int, str]]) -> None:
        """Register the ISO birth dates each customer is known by."""
        for c, born in rows:
            self.births.setdefault(self.find(c), set()).add(born)

    def find(self, c: int) -> int:
        parent = self.parent
        if c not in parent:
            parent[c] = c
            return c
        root = c
        while parent[root] != root:
            root = parent[root]
        while parent[c] != root:
            parent[c], c = root, parent[c]
        return root

    def union(
        self,
        a: int,
        b: int,
        reason: str,
        link_type: str,
        probability: float | None = None,
        *,
        household: bool = False,
    ) -> bool:
        """Join the clusters of ``a`` and ``b`` unless a guard refuses; True when joined.

        ``household``: a probabilistic link that rests partly on a shared phone or e-mail.
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        agreed = Agreement.AGREE
        probabilistic = link_type == "probabilistic"
        if link_type in self.policy.household or probabilistic:
            names_count = not probabilistic or self.names_decisive or household
            if names_count and ra in self.names and rb in self.names:
                agreed = agreement(self.names[ra], self.names[rb])
            if probabilistic and agreed is not Agreement.AGREE and self._born_alike(ra, rb):
                agreed = Agreement.AGREE  # a name replaced or misheard: the birth date vouches
            if agreed is Agreement.DIFFER or (
                self.births_contradict
                and not births_agree(self.births.get(ra, ()), self.births.get(rb, ()))
            ):
                if probabilistic:
                    over = ["first_name" if agreed is Agreement.DIFFER else "birth_date"]
                    self.refused.append(
                        Refusal(min(ra, rb), max(ra, rb), reason, over, probability)
                    )
                else:
                    self.households += 1  # another person of the household
                return False
        va, vb = self.values.get(ra, {}), self.values.get(rb, {})
        over = [
            t
            for t in set(va) & set(vb)
            if len(va[t] | vb[t]) > max(self.policy.limit(t), len(va[t]), len(vb[t]))
        ]
        if over:
            if not (link_type == "anonymous_id" and "user_id" in over):  # a shared device
                self.refused.append(Refusal(min(ra, rb), max(ra, rb), reason, over, probability))
            return False
        if self._apart_members and self._kept_apart(ra, rb):
            return False
        if agreed is Agreement.LAST_NAME_DIFFERS:
            self.refused.append(
                Refusal(min(ra, rb), max(ra, rb), reason, ["last_name"], probability)
            )
            return False
        keep, gone = min(ra, rb), max(ra, rb)
        self.parent[gone] = keep
        merged = self.values.setdefault(keep, {})
        for t, vs in self.values.pop(gone, {}).items():
            merged.setdefault(t, set()).update(vs)
        self._members.setdefault(keep, [keep]).extend(self._members.pop(gone, [gone]))
        if gone in self.names:
            self.names.setdefault(keep, set()).update(self.names.pop(gone))
        if gone in self.births:
            self.births.setdefault(keep, set()).update(self.births.pop(gone))
        self.reason.setdefault(gone, reason)
        return True

    def _born_alike(self, ra: int, rb: int) -> bool:
        left, right = self.births.get(ra), self.births.get(rb)
        return bool(left and right and births_agree(left, right))

    def _kept_apart(self, ra: int, rb: int) -> bool:
        left = self._members.get(ra, [ra])
        right = set(self._members.get(rb, [rb]))
        return any(self._apart_members.get(x, set()) & right for x in left)

    def merges(self) -> list[tuple[int, int, str]]:
        """(survivor, absorbed, reason) for every customer joined to an older one."""
        out = []
        for c in self.parent:
            root = self.find(c)
            if root != c:
                out.append((root, c, self.reason.get(c) or self._reason_in_cluster(c)))
        return sorted(out)

    def _reason_in_cluster(self, c: int) -> str:
        node = c
        while node not in self.reason and self.parent[node] != node:
            node = self.parent[node]
        return self.reason.get(node, "joined")
