"""The CDNOW sample with the papers' conventions (weeks, calibration to 1997-09-30)."""

from __future__ import annotations

import pandas as pd
import pytest

from clientbook.analytics.btyd import calibration_and_holdout
from tests.conftest import CDNOW


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    """CDNOW_sample.txt: one row per purchase (several a day are possible)."""
    frame = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="session")
def cdnow(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    """Calibration summaries (39 weeks) and holdout counts (weeks 40-78) per customer."""
    return calibration_and_holdout(
        cdnow_transactions,
        "customer_id",
        "date",
        "value",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="week",
    )
