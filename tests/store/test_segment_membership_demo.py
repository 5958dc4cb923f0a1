"""Segment membership on the demo retailer, against an independent pandas computation.

One small seeded demo store per backend (the real generator, identity resolution, the value and
needs analytics: what `make demo` runs, through :func:`setup_demo`) is shared by every case.
Each expectation is computed with pandas from the store's tables as stored, never through the
segment compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Table, select
from tests.conftest import BACKENDS, new_database
from tests.needs_population import age_on

from clientbook.config import Settings
from clientbook.demo.setup import DEMO_AS_OF, setup_demo
from clientbook.store.frames import read_frame
from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import Consent, Interaction, Preference
from clientbook.store.models.needs import CustomerNeeds
from clientbook.store.models.parties import Account, AccountMember, Customer
from clientbook.store.models.value import Score
from clientbook.store.segments import preview_ids

pytestmark = pytest.mark.slow

#: Segments are evaluated at the end of the demo window (the day after the scores' as-of date).
NOW = datetime(DEMO_AS_OF.year, DEMO_AS_OF.month, DEMO_AS_OF.day, tzinfo=UTC) + timedelta(days=1)


@dataclass
class Demo:
    """The store's tables, as pandas frames, and its URL."""

    url: str
    customers: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    interactions: pd.DataFrame
    preferences: pd.DataFrame
    consents: pd.DataFrame
    members: pd.DataFrame
    accounts: pd.DataFrame
    scores: pd.DataFrame
    needs: pd.DataFrame

    @property
    def alive(self) -> pd.DataFrame:
        return self.customers[self.customers.merged_into_id.isna()]


def _table(url: str, model: type) -> pd.DataFrame:
    table: Table = model.__table__  # type: ignore[attr-defined]
    frame = read_frame(url, select(table))
    for column in table.c:
        if column.name.endswith("_at") and column.name in frame:
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True)
    return frame


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    with new_database(request.param, folder) as url:
        setup_demo(Settings(database_url=url), folder / "data", seed=11, people=500, accounts=30)
        yield Demo(
            url=url,
            customers=_table(url, Customer),
            orders=_table(url, Order),
            lines=_table(url, OrderLine).merge(
                _table(url, Product)[["sku", "category"]], on="sku", how="left"
            ),
            interactions=_table(url, Interaction),
            preferences=_table(url, Preference),
            consents=_table(url, Consent),
            members=_table(url, AccountMember),
            accounts=_table(url, Account),
            scores=_table(url, Score),
            needs=_table(url, CustomerNeeds),
        )


# --- independent computations ---------------------------------------------------------------


def _ids(frame: pd.DataFrame, column: str = "id") -> set[int]:
    return {int(i) for i in frame[column]}


def _alive_ids(d: Demo) -> set[int]:
    return _ids(d.alive)


def _ages(d: Demo) -> pd.Series:
    return d.alive.set_index("id").birth_date.map(lambda b: age_on(b, NOW.date()))


def _aged(d: Demo, low: int, high: int) -> set[int]:
    ages = _ages(d).dropna()
    return {int(i) for i, a in ages.items() if low <= a <= high}


def _counted(
    frame: pd.DataFrame, low: int = 1, high: int | None = None, column: str = "customer_id"
) -> set[int]:
    counts = frame.groupby(column).size()
    return {int(c) for c, n in counts.items() if n >= low and (high is None or n <= high)}


def _since(frame: pd.DataFrame, column: str, days: int) -> pd.DataFrame:
    return frame[frame[column] >= NOW - timedelta(days=days)]


def _latest_scores(d: Demo) -> pd.DataFrame:
    s = d.scores.sort_values(["as_of", "id"]).groupby("customer_id").tail(1)
    return s[s.customer_id.isin(_alive_ids(d))].set_index("customer_id")


def _score(d: Demo, test: Callable[[pd.DataFrame], pd.Series]) -> set[int]:
    s = _latest_scores(d)
    return {int(i) for i in s.index[test(s).fillna(False).astype(bool)]}


def _consented(d: Demo, purpose: str, channel: str) -> set[int]:
    c = d.consents[(d.consents.purpose == purpose) & d.consents.channel.isin([channel, "all"])]
    latest = c.sort_values(["recorded_at", "id"]).groupby("customer_id").tail(1)
    return _ids(latest[latest.status == "granted"], "customer_id") & _alive_ids(d)


def _first_account(d: Demo) -> pd.DataFrame:
    """Each customer's organisation: the member account with the lowest id."""
    m = d.members.sort_values("account_id").groupby("customer_id").head(1)
    return m.merge(d.accounts, left_on="account_id", right_on="id", suffixes=("", "_account"))


def _latest_preference(d: Demo, key: str) -> pd.Series:
    p = d.preferences[d.preferences.key == key].sort_values(["learned_at", "id"])
    return p.groupby("customer_id").tail(1).set_index("customer_id").value


def _clv_quantile(d: Demo, q: float) -> float:
    return float(_latest_scores(d).clv.dropna().quantile(q))


def _bought(d: Demo, category: str, low: int, days: int) -> set[int]:
    orders = d.lines[d.lines.category == category].order_pk.unique()
    recent = _since(d.orders[d.orders.id.isin(orders)], "ordered_at", days)
    return _counted(recent, low)


def _events(d: Demo, days: int | None = None, **match: str) -> pd.DataFrame:
    frame = d.interactions
    for key, value in match.items():
        frame = frame[frame[key] == value]
    return frame if days is None else _since(frame, "occurred_at", days)


Case = tuple[str, Callable[[Demo], dict[str, Any]], Callable[[Demo], set[int]]]

CASES: list[Case] = [
    (
        "women aged 25-44 in Leeds or York",
        lambda d: {
            "all": [
                {"field": "gender", "op": "eq", "value": "female"},
                {"field": "age_band", "op": "in", "value": ["25-34", "35-44"]},
                {"field": "city", "op": "in", "value": ["Leeds", "York"]},
            ]
        },
        lambda d: (
            _aged(d, 25, 44)
            & _ids(d.alive[d.alive.gender == "female"])
            & _ids(d.alive[d.alive.city.isin(["Leeds", "York"])])
        ),
    ),
    (
        "aged 65 and over",
        lambda d: {"field": "age_band", "op": "eq", "value": "65+"},
        lambda d: _aged(d, 65, 200),
    ),
    (
        "men, or age not known",
        lambda d: {
            "any": [
                {"field": "gender", "op": "eq", "value": "male"},
                {"field": "age", "op": "is_null"},
            ]
        },
        lambda d: (
            _ids(d.alive[d.alive.gender == "male"]) | _ids(d.alive[d.alive.birth_date.isna()])
        ),
    ),
    (
        "not in Leeds (an unknown city is not Leeds)",
        lambda d: {"not": {"field": "city", "op": "eq", "value": "Leeds"}},
        lambda d: _alive_ids(d) - _ids(d.alive[d.alive.city == "Leeds"]),
    ),
    (
        "retail or hospitality firms with 30 employees or more",
        lambda d: {
            "all": [
                {"field": "industry", "op": "in", "value": ["retail", "hospitality"]},
                {"field": "employees", "op": "gte", "value": 30},
            ]
        },
        lambda d: (
            _ids(
                (a := _first_account(d))[
                    a.industry.isin(["retail", "hospitality"]) & (a.employees >= 30)
                ],
                "customer_id",
            )
            & _alive_ids(d)
        ),
    ),
    (
        "RFM: recent and frequent (R >= 4, F >= 4)",
        lambda d: {
            "all": [
                {"field": "r_score", "op": "gte", "value": 4},
                {"field": "f_score", "op": "gte", "value": 4},
            ]
        },
        lambda d: _score(d, lambda s: (s.r_score >= 4) & (s.f_score >= 4)),
    ),
    (
        "RFM segment Champions or At risk",
        lambda d: {"field": "rfm_segment", "op": "in", "value": ["Champions", "At risk"]},
        lambda d: _score(d, lambda s: s.rfm_segment.isin(["Champions", "At risk"])),
    ),
    (
        "top fifth by CLV, still likely alive",
        lambda d: {
            "all": [
                {"field": "clv", "op": "gte", "value": _clv_quantile(d, 0.8)},
                {"field": "p_alive", "op": "gte", "value": 0.5},
            ]
        },
        lambda d: _score(d, lambda s: (s.clv >= _clv_quantile(d, 0.8)) & (s.p_alive >= 0.5)),
    ),
    (
        "lifecycle: loyal or repeat buyers (stage kept on the customer by analyse)",
        lambda d: {"field": "lifecycle_stage", "op": "in", "value": ["loyal", "repeat_buyer"]},
        lambda d: _score(d, lambda s: s.lifecycle_stage.isin(["loyal", "repeat_buyer"])),
    ),
    (
        "lapsing or inactive but profitable",
        lambda d: {
            "all": [
                {"field": "score_lifecycle_stage", "op": "in", "value": ["lapsing", "inactive"]},
                {"field": "current_profitability", "op": "gt", "value": 0},
            ]
        },
        lambda d: _score(
            d,
            lambda s: (
                s.lifecycle_stage.isin(["lapsing", "inactive"]) & (s.current_profitability > 0)
            ),
        ),
    ),
    (
        "viewed 3 web pages or more in the last 90 days",
        lambda d: {"event": {"channel": "web", "type": "page"}, "min_count": 3, "within_days": 90},
        lambda d: _counted(_events(d, 90, channel="web", type="page"), 3) & _alive_ids(d),
    ),
    (
        "responded to an e-mail campaign in the last 365 days",
        lambda d: {
            "event": {"channel": "email", "type": "campaign", "outcome": "responded"},
            "within_days": 365,
        },
        lambda d: (
            _counted(_events(d, 365, channel="email", type="campaign", outcome="responded"))
            & _alive_ids(d)
        ),
    ),
    (
        "called the call centre once or twice in two years",
        lambda d: {
            "event": {"channel": "call_centre", "direction": "inbound"},
            "min_count": 1,
            "max_count": 2,
            "within_days": 730,
        },
        lambda d: (
            _counted(_events(d, 730, channel="call_centre", direction="inbound"), 1, 2)
            & _alive_ids(d)
        ),
    ),
    (
        "bought shoes twice or more in the last year",
        lambda d: {"purchase": {"category": "shoes"}, "min_count": 2, "within_days": 365},
        lambda d: _bought(d, "shoes", 2, 365) & _alive_ids(d),
    ),
    (
        "lapsed repeat buyers: 2+ orders, none in 180 days",
        lambda d: {
            "all": [
                {"field": "orders", "op": "gte", "value": 2},
                {"field": "last_order_at", "op": "lt", "value": {"days_ago": 180}},
            ]
        },
        lambda d: (
            _counted(d.orders, 2)
            & {
                int(c)
                for c, t in d.orders.groupby("customer_id").ordered_at.max().items()
                if t < NOW - timedelta(days=180)
            }
            & _alive_ids(d)
        ),
    ),
    (
        "declared size M",
        lambda d: {"preference": {"key": "size", "value": "M", "source": "declared"}},
        lambda d: (
            _ids(
                d.preferences[
                    (d.preferences.key == "size")
                    & (d.preferences.value == "M")
                    & (d.preferences.source == "declared")
                ],
                "customer_id",
            )
            & _alive_ids(d)
        ),
    ),
    (
        "a brand affinity observed with confidence 0.4 or more",
        lambda d: {"preference": {"key": "brand", "min_confidence": 0.4}},
        lambda d: (
            _ids(
                d.preferences[(d.preferences.key == "brand") & (d.preferences.confidence >= 0.4)],
                "customer_id",
            )
            & _alive_ids(d)
        ),
    ),
    (
        # (on 500 people with two campaign contacts per channel, shrinkage gives every customer
        # the same preferred channel; the learned message style does discriminate)
        "answers emotional messages best (learned style preference)",
        lambda d: {"field": "message_style", "op": "eq", "value": "emotional"},
        lambda d: (
            {int(c) for c, v in _latest_preference(d, "message_style").items() if v == "emotional"}
            & _alive_ids(d)
        ),
    ),
    (
        "may be e-mailed for marketing",
        lambda d: {"consent": {"purpose": "marketing", "channel": "email"}},
        lambda d: _consented(d, "marketing", "email"),
    ),
    (
        "may not be e-mailed for marketing",
        lambda d: {"not": {"consent": {"purpose": "marketing", "channel": "email"}}},
        lambda d: _alive_ids(d) - _consented(d, "marketing", "email"),
    ),
    (
        "in the first needs cluster",
        lambda d: {"field": "needs_cluster", "op": "eq", "value": 0},
        lambda d: _ids(d.needs[d.needs.cluster == 0], "customer_id") & _alive_ids(d),
    ),
    (
        "e-mailable web regulars, or valuable customers outside Leeds never on the phone",
        lambda d: {
            "any": [
                {
                    "all": [
                        {"consent": {"purpose": "marketing", "channel": "email"}},
                        {"purchase": {"channel": "web"}, "min_count": 2},
                    ]
                },
                {
                    "all": [
                        {"not": {"field": "city", "op": "eq", "value": "Leeds"}},
                        {"field": "clv", "op": "gte", "value": _clv_quantile(d, 0.5)},
                        {"not": {"event": {"channel": "call_centre"}}},
                    ]
                },
            ]
        },
        lambda d: (
            (_consented(d, "marketing", "email") & _counted(d.orders[d.orders.channel == "web"], 2))
            | (
                _ids(d.alive[d.alive.city != "Leeds"])
                & _score(d, lambda s: s.clv >= _clv_quantile(d, 0.5))
                - _counted(_events(d, channel="call_centre"))
            )
        ),
    ),
]


@pytest.mark.parametrize(("name", "where", "expected"), CASES, ids=[c[0] for c in CASES])
def test_membership_on_demo_data_matches_pandas(
    demo: Demo,
    name: str,
    where: Callable[[Demo], dict[str, Any]],
    expected: Callable[[Demo], set[int]],
) -> None:
    want = expected(demo)
    assert 0 < len(want) < len(demo.alive), f"{name}: not discriminating ({len(want)})"
    got = set(preview_ids(demo.url, where(demo), NOW))
    assert got == want, f"extra {sorted(got - want)[:5]}, missing {sorted(want - got)[:5]}"


def test_demo_store_is_what_make_demo_builds(demo: Demo) -> None:
    """The shared store went through every step: merges, scores, needs, learned preferences."""
    assert demo.customers.merged_into_id.notna().any()
    assert set(demo.scores.as_of.astype(str)) == {DEMO_AS_OF.isoformat()}
    assert demo.needs.cluster.nunique() >= 2
    assert {"preferred_channel", "brand", "size"} <= set(demo.preferences.key)


def test_setting_up_again_skips_what_is_done(demo: Demo, tmp_path: Path) -> None:
    """`make demo` run twice: no second load, no second scoring or clustering (runs last)."""
    said: list[str] = []
    setup_demo(Settings(database_url=demo.url), tmp_path / "data", people=500, say=said.append)
    assert said[0].startswith(f"The store already holds {len(demo.alive):,} customers")
    assert not any(line.startswith(("Value:", "Needs:")) for line in said)
    assert not (tmp_path / "data").exists()
    assert len(_table(demo.url, Order)) == len(demo.orders)
    assert len(_table(demo.url, Score)) == len(demo.scores)
