"""Load N canonical order rows into a fresh SQLite store: Clientbook's importer vs pandas.to_sql.

The peer, ``pandas.DataFrame.to_sql``, only copies the rows into one table; Clientbook validates
every cell, resolves or creates the customers, groups lines into orders and writes orders, order
lines, customers, source records and identifiers, all in one transaction.

    .venv/bin/python benchmarks/import_orders.py --rows 1000000
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
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
        peer, ours = [], []
        for run in range(args.repeat):
            db = Path(tmp) / f"peer{run}.db"
            start = time.perf_counter()
            with sqlite3.connect(db) as conn:
                pd.read_csv(csv).to_sql("orders", conn, index=False, chunksize=50_000)
            peer.append(time.perf_counter() - start)
            url = f"sqlite:///{Path(tmp) / f'clientbook{run}.db'}"
            migrate(url)
            start = time.perf_counter()
            result = import_file(url, "orders", csv, source="bench")
            ours.append(time.perf_counter() - start)
            dispose_engines()
            assert result.inserted == args.rows
    p, o = statistics.median(peer), statistics.median(ours)
    print(f"rows: {args.rows:,}  (median of {args.repeat})")
    print(f"pandas.to_sql (copy only):        {p:7.1f} s")
    print(f"clientbook import orders (full):  {o:7.1f} s   target < 60 s")
    print(f"ratio clientbook / pandas:        {o / p:7.2f}")


if __name__ == "__main__":
    main()
