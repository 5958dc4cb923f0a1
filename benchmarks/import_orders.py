"""Load N canonical order rows into a fresh SQLite store: Clientbook's importer vs pandas.to_sql.

The peer, ``pandas.DataFrame.to_sql``, only copies the rows into one table; Clientbook validates
every cell, resolves or creates the customers, groups lines into orders and writes orders, order
lines, customers, source records and identifiers, all in one transaction.

    nice -n 19 .venv/bin/python benchmarks/import_orders.py --rows 1000000 --repeat 3

Both wall-clock and CPU time (user + system of this process) are printed: on a shared machine
the wall clock mostly measures the other jobs, the CPU time what the load itself costs.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from clientbook.collect.importers import import_file
from clientbook.store.db import dispose_engines, migrate


def make_orders(path: Path, rows: int, seed: int = 1) -> None:
    """Write ``rows`` order rows (one line per order, 5 orders per customer on average)."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 730, rows)
    pd.DataFrame(
        {
            "order_id": np.arange(1, rows + 1),
            "customer_id": rng.integers(1, rows // 5 + 2, rows),
            "ordered_at": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "revenue": rng.gamma(5, 8, rows).round(2),
            "cost": rng.gamma(5, 4, rows).round(2),
            "quantity": rng.integers(1, 4, rows),
            "channel": rng.choice(["web", "store", "call_centre"], rows),
            "product_id": [f"SKU{n}" for n in rng.integers(1, 500, rows)],
        }
    ).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "orders.csv"
        make_orders(csv, args.rows)
        peer: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        load = os.getloadavg()[0]
        for run in range(args.repeat):
            db = Path(tmp) / f"peer{run}.db"
            with timed(peer):
                with sqlite3.connect(db) as conn:
                    pd.read_csv(csv).to_sql("orders", conn, index=False, chunksize=50_000)
            url = f"sqlite:///{Path(tmp) / f'clientbook{run}.db'}"
            migrate(url)
            with timed(ours):
                result = import_file(url, "orders", csv, source="bench")
            dispose_engines()
            assert result.inserted == args.rows
            print(f"run {run + 1}: pandas {peer[-1][0]:.1f} s, clientbook {ours[-1][0]:.1f} s")
    print(f"rows: {args.rows:,}  (median of {args.repeat}; 1-min load average {load:.1f} at start)")
    print("                                  wall s    CPU s")
    for name, runs in (("pandas.to_sql (copy only)", peer), ("clientbook import (full)", ours)):
        wall, cpu = (statistics.median(r[i] for r in runs) for i in (0, 1))
        print(f"{name:32s}  {wall:7.1f}  {cpu:7.1f}")
    ratio = statistics.median(o[0] for o in ours) / statistics.median(p[0] for p in peer)
    print(f"ratio clientbook / pandas (wall): {ratio:7.2f}   target: clientbook < 60 s wall")


@contextmanager
def timed(into: list[tuple[float, float]]) -> Iterator[None]:
    """Append (wall seconds, CPU seconds of this process) of the block to ``into``."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into.append((time.perf_counter() - wall, time.process_time() - cpu))


if __name__ == "__main__":
    main()
