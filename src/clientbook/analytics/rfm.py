"""RFM: recency, frequency and monetary value per customer, scored by quantiles, named segments.

Definitions (as of a date, from every purchase up to and including it)
---------------------------------------------------------------------
- recency_days: days since the last purchase day.
- frequency: orders (the classic RFM count of purchases; the buy-till-you-die models count
  purchase days instead, see :mod:`clientbook.analytics.clv`).
- monetary: total revenue, rounded to 4 decimals (every currency's minor unit), so that sums
  taken in a different order (threads, engines) rank the same.

Each is scored 1..bins by its percentile rank among the buyers (ties share a score, so both
engines give the same answer): ``score = min(bins, 1 + floor(percent_rank * bins))`` with
``percent_rank = (customers ranked below) / (customers - 1)``, recency ranked so that the most
recent buyers score highest. Named segments look at R and FM (the mean
of F and M rounded up), both rescaled to 1-5, through a map of regular expressions over the
two digits "R" + "FM" (``value_rfm_segments``; the first match wins, "Other" when none does).
"""

from __future__ import annotations

import math
import re

import pyarrow as pa

from clientbook.errors import UsageError

OTHER = "Other"


def check_bins(bins: int) -> int:
    """Refuse a number of bins outside 2..10."""
    if not 2 <= bins <= 10:
        raise UsageError(f"value_rfm_bins must be between 2 and 10, not {bins}.")
    return bins


def segment_table(segments: dict[str, str]) -> pa.Table:
    """The segment map expanded to the 25 cells (r5, fm5) -> segment."""
    try:
        rules = [(re.compile(pattern), name) for pattern, name in segments.items()]
    except re.error as exc:
        raise UsageError(f"value_rfm_segments has a bad pattern: {exc}.") from exc
    r5, fm5, names = [], [], []
    for r in range(1, 6):
        for fm in range(1, 6):
            cell = f"{r}{fm}"
            name = next((n for rule, n in rules if rule.fullmatch(cell)), OTHER)
            r5.append(r)
            fm5.append(fm)
            names.append(name)
    return pa.table(
        {"r5": pa.array(r5, pa.int32()), "fm5": pa.array(fm5, pa.int32()), "segment": names}
    )


def _score(fraction: str, bins: int) -> str:
    """A 1..bins score from a percentile rank in 0..1."""
    return f"LEAST({bins}, 1 + CAST(FLOOR({fraction} * {bins}) AS INT))"


def _fraction(below: str) -> str:
    """PERCENT_RANK from the number of customers ranked below: below / (customers - 1)."""
    return f"CASE WHEN t.n > 1 THEN CAST({below} AS DOUBLE) / (t.n - 1) ELSE 0.0 END"


def _ranks(column: str, order: str) -> str:
    """SQL: each distinct value of an integer input with how many customers rank below it.

    Recency and frequency take few distinct values (days, order counts), so counting them and
    summing the counts ranks 1,000,000 customers several times faster than sorting them.
    """
    return (
        f"SELECT {column}, CAST(SUM(n) OVER (ORDER BY {column} {order}) - n AS BIGINT) AS below "
        f"FROM (SELECT {column}, COUNT(*) AS n FROM inputs GROUP BY {column}) h"
    )


def _five(column: str, bins: int) -> str:
    return f"CAST(CEIL({column} * 5.0 / {bins}) AS INT)"


def rfm_query(orders: str, segments: str, *, as_of_day: int, bins: int) -> str:
    """SQL: the RFM scores and segment of every customer with a purchase in ``orders``
    (customer_id, day, revenue) up to ``as_of_day`` (days since 1970-01-01).

    ``segments`` names the table from :func:`segment_table`.
    """
    check_bins(bins)
    as_of = int(as_of_day)
    inputs = (
        f"SELECT customer_id, {as_of} - MAX(day) AS recency_days, COUNT(*) AS frequency, "
        f"ROUND(SUM(revenue), 4) AS monetary FROM {orders} WHERE day <= {as_of} "
        "GROUP BY customer_id"
    )
    scored = (
        "SELECT i.customer_id, i.recency_days, i.frequency, i.monetary, "
        f"{_score(_fraction('r.below'), bins)} AS r_score, "
        f"{_score(_fraction('f.below'), bins)} AS f_score, "
        f"{_score('PERCENT_RANK() OVER (ORDER BY i.monetary)', bins)} AS m_score "
        "FROM inputs i JOIN r_ranks r ON r.recency_days = i.recency_days "
        "JOIN f_ranks f ON f.frequency = i.frequency CROSS JOIN total t"
    )
    cells = (
        f"SELECT s.*, {_five('r_score', bins)} AS r5, "
        f"CAST(CEIL(({_five('f_score', bins)} + {_five('m_score', bins)}) / 2.0) AS INT) AS fm5 "
        "FROM scored s"
    )
    return (
        f"WITH inputs AS ({inputs}), r_ranks AS ({_ranks('recency_days', 'DESC')}), "
        f"f_ranks AS ({_ranks('frequency', 'ASC')}), "
        "total AS (SELECT COUNT(*) AS n FROM inputs), "
        f"scored AS ({scored}), cells AS ({cells}) "
        "SELECT c.customer_id, c.recency_days, c.frequency, c.monetary, "
        "c.r_score, c.f_score, c.m_score, "
        "CONCAT(CAST(c.r_score AS STRING), CAST(c.f_score AS STRING), "
        "CAST(c.m_score AS STRING)) AS rfm_score, "
        f"COALESCE(m.segment, '{OTHER}') AS rfm_segment "
        f"FROM cells c LEFT JOIN {segments} m ON m.r5 = c.r5 AND m.fm5 = c.fm5"
    )


def scale_five(score: int, bins: int) -> int:
    """A 1..bins score on the 1..5 scale of the segment map."""
    return math.ceil(score * 5 / bins)
