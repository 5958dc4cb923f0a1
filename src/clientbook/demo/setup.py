"""The demo, ready to look at: what `make demo` runs (through `clientbook demo setup`).

Generate and load the retailer, resolve identities, run the value and needs analytics, create the
demo users. A step whose result is already in the store is skipped, so running it again is quick
and changes nothing but the demo users' passwords (reset to the documented ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from clientbook.analytics.learning import learn_all
from clientbook.analytics.refresh import analyse
from clientbook.collect.importers import ImportResult, import_file
from clientbook.config import Settings
from clientbook.demo.generator import DAYS, LOAD_PLAN, START, generate
from clientbook.identity.resolver import resolve_new
from clientbook.store.db import migrate, session_scope
from clientbook.store.frames import latest_clusters
from clientbook.store.models.parties import Customer
from clientbook.store.users import DemoCredential, ensure_demo_users
from clientbook.store.value import latest_run

#: The demo is scored as of the day its two-year window ends (its last orders are placed that
#: day), so it looks the same whatever the date it is built on.
DEMO_AS_OF: date = (START + timedelta(days=DAYS)).date()


@dataclass(frozen=True)
class LoadedFile:
    """One demo file imported into the store."""

    path: Path
    kind: str
    result: ImportResult


def load_demo(settings: Settings, out: Path) -> list[LoadedFile]:
    """Import the demo files found in ``out`` in the order of :data:`LOAD_PLAN`."""
    migrate(settings.database_url)
    loaded = []
    for stem, kind, source, customer_source in LOAD_PLAN:
        path = out / f"{stem}.csv"
        if path.exists():
            result = import_file(
                settings.database_url,
                kind,
                path,
                source=source,
                customer_source=customer_source,
                region=settings.default_region,
            )
            loaded.append(LoadedFile(path, kind, result))
    return loaded


def _customers(url: str) -> int:
    with session_scope(url, write=False) as session:
        query = select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None))
        return int(session.execute(query).scalar_one())


def setup_demo(
    settings: Settings,
    out: Path,
    *,
    seed: int = 7,
    people: int = 10_000,
    accounts: int = 300,
    say: Callable[[str], None] = lambda _line: None,
) -> list[DemoCredential]:
    """Build the demo store step by step (telling ``say`` as each step ends); the demo users."""
    url = settings.database_url
    migrate(url)
    if _customers(url) == 0:
        counts = generate(out, seed=seed, people=people, accounts=accounts)
        say(f"Wrote {sum(counts.values()):,} rows to {out}/ (ground truth in truth.csv).")
        added = sum(f.result.inserted for f in load_demo(settings, out))
        say(f"Imported {added:,} rows.")
    else:
        say(f"The store already holds {_customers(url):,} customers: demo data not loaded again.")
    resolved = resolve_new(settings, show=0)
    say(
        f"Identity: {resolved.deterministic_merges + resolved.probabilistic_merges:,} merges, "
        f"{resolved.review_pairs:,} pairs to review; "
        f"{resolved.customers_after:,} customers."
    )
    if latest_run(url) is None:
        report, _ = analyse(settings, as_of=DEMO_AS_OF)
        say(
            f"Value: scored {report.customers:,} customers ({report.buyers:,} buyers) "
            f"as of {report.as_of}."
        )
    if not latest_clusters(url):
        needs = learn_all(url)["needs"]
        say(f"Needs: {needs['k']} clusters over {needs['customers']:,} buyers.")
    return ensure_demo_users(url)
