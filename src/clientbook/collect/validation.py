"""Column specs and vectorised validation of import files: every bad cell named, nothing loaded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clientbook.errors import InvalidInput, UsageError

MAX_REPORTED = 20


@dataclass(frozen=True)
class Column:
    """One canonical column: its type (str, int, float, datetime, date, choice) and rules."""

    name: str
    type: str = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    max_length: int = 200
    check: Callable[[str], str | None] | None = None  # value -> normalised, or None if invalid
    default: Any = None


def rename(frame: pd.DataFrame, mapping: dict[str, str], columns: Sequence[Column]) -> pd.DataFrame:
    """Apply ``--map source=canonical`` renames and refuse unknown or missing columns."""
    known = {c.name for c in columns}
    missing_sources = [s for s in mapping if s not in frame.columns]
    if missing_sources:
        raise UsageError(
            f"--map names column(s) not in the file: {', '.join(missing_sources)}.",
            hint=f"The file has: {', '.join(map(str, frame.columns))}.",
        )
    frame = frame.rename(columns=mapping)
    unknown = [str(c) for c in frame.columns if c not in known]
    if unknown:
        raise UsageError(
            f"Unknown column(s): {', '.join(unknown)}.",
            hint=f"Rename with --map SOURCE=CANONICAL (canonical: {', '.join(sorted(known))}).",
        )
    absent = [c.name for c in columns if c.required and c.name not in frame.columns]
    if absent:
        raise UsageError(
            f"Missing required column(s): {', '.join(absent)}.",
            hint="Add them, or rename the file's columns with --map SOURCE=CANONICAL.",
        )
    return frame


def _as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped text (Arrow-backed, so string work runs in C); blank is missing."""
    try:
        cells = pa.array(series, type=pa.string(), from_pandas=True)
    except pa.ArrowException:  # numbers, booleans, mixed cells from Parquet or JSON
        cells = pa.array(series.astype("string"), type=pa.string(), from_pandas=True)
    cells = pc.utf8_trim_whitespace(cells)
    cells = pc.if_else(pc.equal(cells, ""), pa.scalar(None, pa.string()), cells)
    return pd.Series(pd.arrays.ArrowStringArray(cells), index=series.index)


def _numbers(text: pd.Series) -> pd.Series:
    """Numbers of the text cells; cells that are not numbers become NaN."""
    try:
        cells = pc.cast(pa.array(text.array), pa.float64())  # fast path: every cell a number
    except pa.ArrowInvalid:
        return pd.to_numeric(text, errors="coerce").astype("float64")
    return pd.Series(cells.to_numpy(zero_copy_only=False), index=text.index)


def _absent(col: Column, index: pd.Index) -> pd.Series:
    """A column the file lacks: its default, typed like the column would be."""
    dtypes = {"float": "float64", "int": "Int64", "datetime": "datetime64[ns, UTC]"}
    if col.default is None and col.type in dtypes:
        return pd.Series(None, index=index, dtype=dtypes[col.type])
    return pd.Series([col.default] * len(index), index=index, dtype=object)


def validate(
    frame: pd.DataFrame, columns: Sequence[Column], first_line: int, file_name: str
) -> pd.DataFrame:
    """Return the typed frame, or raise InvalidInput naming each bad row (line, column, reason).

    Numbers come back as float64 (int columns as Int64), instants as UTC datetime64, dates and
    text as objects; a missing cell is NaN/NA/NaT in typed columns and ``None`` in the others.
    """
    problems: list[tuple[Any, str, str]] = []
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        if col.name not in frame.columns:
            out[col.name] = _absent(col, frame.index)
            continue
        raw = frame[col.name]
        text = _as_text(raw)
        present = text.notna().to_numpy()
        bad = np.zeros(len(frame), dtype=bool)
        reason = "missing value"
        if col.required:
            for i in np.flatnonzero(~present):
                problems.append((i, col.name, "missing value"))
        if col.type in ("int", "float"):
            values = _numbers(text)
            bad = present & values.isna().to_numpy()
            reason = "not a number"
            if col.type == "int":
                frac = present & ~bad & (values.fillna(0) % 1 != 0).to_numpy()
                bad |= frac
                reason = "not a whole number"
            if col.minimum is not None:
                low = present & ~bad & (values.fillna(col.minimum) < col.minimum).to_numpy()
                for i in np.flatnonzero(low):
                    problems.append((i, col.name, f"must be at least {col.minimum:g}"))
            series: pd.Series = values
            if col.type == "int":
                series = values.astype("Int64")
        elif col.type in ("datetime", "date"):
            if pd.api.types.is_datetime64_any_dtype(raw):
                values = pd.to_datetime(raw, utc=True)
            else:
                values = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
            bad = present & values.isna().to_numpy()
            reason = "not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
            series = values.dt.date if col.type == "date" else values
        else:
            series = text
            too_long = present & (text.str.len().fillna(0) > col.max_length).to_numpy()
            for i in np.flatnonzero(too_long):
                problems.append((i, col.name, f"longer than {col.max_length} characters"))
            if col.choices:
                lowered = text.str.lower()
                bad = present & ~lowered.isin(col.choices).to_numpy()
                reason = f"must be one of {', '.join(col.choices)}"
                series = lowered
            elif col.check is not None:
                checked = text.map(
                    lambda v, check=col.check: check(v) if isinstance(v, str) else None
                )
                bad = present & checked.isna().to_numpy()
                reason = "not valid"
                series = checked
        for i in np.flatnonzero(bad):
            problems.append((i, col.name, reason))
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            series = series.astype(object).where(series.notna(), col.default)
        out[col.name] = series
    if problems:
        problems.sort()
        lines = [
            f"{file_name}: line {first_line + i}, column {name}: {why}"
            for i, name, why in problems[:MAX_REPORTED]
        ]
        if len(problems) > MAX_REPORTED:
            lines.append(f"... and {len(problems) - MAX_REPORTED} more problems")
        rows = len({i for i, _, _ in problems})
        raise InvalidInput(
            f"{file_name}: {rows} bad row(s); nothing was loaded.",
            problems=lines,
            hint="Fix the rows above and import the file again.",
        )
    return out
