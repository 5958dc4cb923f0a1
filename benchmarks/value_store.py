"""A SQLite store of N customers and M orders for the refresh benchmark, written fast.

Customers make a first purchase on a day of 2024 and then buy as a BG/NBD process (r=1.6,
alpha=10, a=0.6, b=10, in weeks) until 2025-12-30 (the as-of date); repeat purchases are
thinned at random to M orders in all. Order values follow Gamma-Gamma (p=5, q=4, gamma=60);
two orders in three carry a cost (60 % of revenue); channels web and store.

The rows go straight into the migrated schema with sqlite3 ``executemany`` (not through the
importer, which validates every row); the indexes are dropped during the load and rebuilt.

    .venv/bin/python benchmarks/value_store.py OUT.db --customers 1000000 --transactions 10000000
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from clientbook.analytics.btyd.simulate import bgnbd_purchases
from clientbook.store.db import migrate

START = date(2024, 1, 1)
AS_OF = date(2025, 12, 30)  # day 729
PROCESS = {"r": 1.6, "alpha": 10.0, "a": 0.6, "b": 10.0}


def build_store(path: Path, customers: int, transactions: int, seed: int = 11) -> str:
    """Create the store at ``path`` (replacing it); returns its URL."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate(url)
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 366, customers)
    horizon = (AS_OF - START).days
    who, weeks = bgnbd_purchases((horizon - first_day) / 7.0, **PROCESS, seed=seed + 1)
    extra = transactions - customers
    if 0 <= extra < len(who):
        keep = np.sort(rng.choice(len(who), extra, replace=False))
        who, weeks = who[keep], weeks[keep]
    customer = np.concatenate([np.arange(customers), who])
    day = np.concatenate([first_day, first_day[who] + np.floor(weeks * 7.0).astype(np.int64)])
    nu = rng.gamma(4.0, 1 / 60.0, customers)
    revenue = np.round(rng.gamma(5.0, 1.0, len(customer)) / nu[customer], 2)
    costed = rng.random(len(customer)) < 2 / 3
    channel = np.where(rng.random(len(customer)) < 0.5, "web", "store")
    stamps = [f"{START + timedelta(days=d)} 12:00:00" for d in range(horizon + 1)]
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
        "('customers', 'orders') AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        con.execute(f"DROP INDEX {name}")
    with con:
        con.executemany(
            "INSERT INTO customers (id, traits, created_at, updated_at) VALUES (?, '{}', ?, ?)",
            ((i + 1, stamps[d], stamps[d]) for i, d in enumerate(first_day.tolist())),
        )
        con.executemany(
            "INSERT INTO orders (id, source, order_id, customer_id, ordered_at, revenue, cost, "
            "currency, channel, created_at) VALUES (?, 'bench', ?, ?, ?, ?, ?, 'EUR', ?, ?)",
            (
                (
                    i + 1,
                    str(i + 1),
                    c + 1,
                    stamps[d],
                    v,
                    round(v * 0.6, 2) if k else None,
                    ch,
                    stamps[d],
                )
                for i, (c, d, v, k, ch) in enumerate(
                    zip(
                        customer.tolist(),
                        day.tolist(),
                        revenue.tolist(),
                        costed.tolist(),
                        channel.tolist(),
                        strict=True,
                    )
                )
            ),
        )
    for _, sql in indexes:
        con.execute(sql)
    con.commit()
    con.close()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    build_store(args.out, args.customers, args.transactions)
    print(f"{args.out}: built in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
