"""Reading import files (CSV, Parquet, JSON Lines) into a frame of raw values."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clientbook.errors import InvalidInput, UsageError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
FORMATS[".ndjson"] = "jsonl"


def file_format(path: Path) -> str:
    """The format of ``path`` from its suffix (``.csv``, ``.parquet``, ``.jsonl``)."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(
            f"Cannot tell the format of {path.name}.",
            hint="Name the file *.csv, *.parquet or *.jsonl.",
        ) from None


def _read_csv(path: Path) -> pd.DataFrame:
    """Every column as text (Arrow-backed; PyArrow parses in parallel); empty cells missing."""
    with path.open(newline="", encoding="utf-8-sig") as head:
        names = next(csv.reader(head), [])
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=True,
        null_values=[""],
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)
    table = pacsv.read_csv(path, convert_options=convert, parse_options=parse)
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def read_frame(path: Path) -> tuple[pd.DataFrame, int]:
    """Read ``path``; return the rows and the line number of the first data row.

    CSV cells are kept as text (empty cells become missing) so that validation sees what was
    written; Parquet and JSON Lines keep their own types.
    """
    if not path.is_file():
        raise UsageError(f"No such file: {path}.", hint="Check the path.")
    kind = file_format(path)
    try:
        if kind == "csv":
            return _read_csv(path), 2
        if kind == "parquet":
            return pq.read_table(path).to_pandas(), 1
        return pd.read_json(path, lines=True, dtype=False), 1
    except (ValueError, pd.errors.ParserError, OSError, pa.ArrowException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(
            f"Cannot read {path.name} as {kind}: {first}.",
            hint="Check that the file is complete and in the format its name says.",
        ) from exc
