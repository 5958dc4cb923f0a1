"""RFM: recency, frequency and monetary value per customer, scored by quantiles, named segments.

Definitions (as of a date, from every purchase up to and including it)
---------------------------------------------------------------------
- recency_days: days since the last purchase day.
- frequency: transactions, i.e. purchase days (several orders on one day count once, as in the
  buy-till-you-die models).
- monetary: total revenue.

Each is scored 1..bins by its percentile rank in the base (ties share a score, so both engines
give the same answer): ``score = min(bins, 1 + floor(percent_rank * bins))``, with recency
ranked so that the most recent buyers score highest. Named segments look at R and FM (the mean
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


def _score(column: str, order: str, bins: int) -> str:
    return (
        f"LEAST({bins}, 1 + CAST(FLOOR(PERCENT_RANK() OVER (ORDER BY {column} {order}) "
        f"* {bins}) AS INT))"
    )


def _five(column: str, bins: int) -> str:
    return f"CAST(CEIL({column} * 5.0 / {bins}) AS INT)"


def rfm_query(source: str, segments: str, bins: int) -> str:
    """SQL scoring ``source`` (customer_id, recency_days, frequency, monetary) into RFM.

    ``segments`` names the table from :func:`segment_table`.
    """
    check_bins(bins)
    scored = (
        f"SELECT customer_id, recency_days, frequency, monetary, "
        f"{_score('recency_days', 'DESC', bins)} AS r_score, "
        f"{_score('frequency', 'ASC', bins)} AS f_score, "
        f"{_score('monetary', 'ASC', bins)} AS m_score FROM {source}"
    )
    cells = (
        f"SELECT s.*, {_five('r_score', bins)} AS r5, "
        f"CAST(CEIL(({_five('f_score', bins)} + {_five('m_score', bins)}) / 2.0) AS INT) AS fm5 "
        f"FROM ({scored}) s"
    )
    return (
        "SELECT c.customer_id, c.recency_days, c.frequency, c.monetary, "
        "c.r_score, c.f_score, c.m_score, "
        "CONCAT(CAST(c.r_score AS STRING), CAST(c.f_score AS STRING), "
        "CAST(c.m_score AS STRING)) AS rfm_score, "
        f"COALESCE(m.segment, '{OTHER}') AS rfm_segment "
        f"FROM ({cells}) c LEFT JOIN {segments} m ON m.r5 = c.r5 AND m.fm5 = c.fm5"
    )


def transactions_rfm_query(orders: str, as_of_day: int) -> str:
    """SQL summarising ``orders`` (customer_id, day, revenue) into RFM inputs as of a day."""
    daily = (
        f"SELECT customer_id, day, SUM(revenue) AS revenue FROM {orders} "
        f"WHERE day <= {int(as_of_day)} GROUP BY customer_id, day"
    )
    return (
        f"SELECT customer_id, {int(as_of_day)} - MAX(day) AS recency_days, "
        f"COUNT(*) AS frequency, SUM(revenue) AS monetary FROM ({daily}) d GROUP BY customer_id"
    )


def scale_five(score: int, bins: int) -> int:
    """A 1..bins score on the 1..5 scale of the segment map."""
    return math.ceil(score * 5 / bins)
