"""The README's shell examples run, in order, against a fresh store and a live server.

Every ```sh block of the README but the first (`make demo`, `make test`) is one part of a bash
script run with `set -euo pipefail`; ```text blocks are synopses and are not run. The files the
examples import are written here, a small retailer with a seed. `curl` fails on an HTTP error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clientbook.store.db import migrate
from tests.conftest import new_database
from tests.serve.web.browsing import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_URL = "http://127.0.0.1:8000"
README_PG = "postgresql://clientbook@localhost/clientbook"


def shell_blocks(readme: str) -> list[str]:
    """The ```sh blocks of the README, in order, without the two commands of its first screen."""
    blocks = re.findall(r"^```sh\n(.*?)^```", readme, flags=re.S | re.M)
    return [b for b in blocks if not b.lstrip().startswith("make demo")]


def write_inputs(folder: Path, customers: int = 300, seed: int = 11) -> None:
    """The files the README imports: loyalty members, till orders, calls, web-shop orders."""
    rng = np.random.default_rng(seed)
    ids = [f"L{n:05d}" for n in range(1, customers + 1)]
    first = rng.choice(["Ann", "Ben", "Chloe", "Dev", "Ema", "Femi", "Gus", "Hana"], customers)
    last = rng.choice(["Smith", "Jones", "Patel", "Nowak", "Okafor", "Silva", "Berg"], customers)
    emails = [f"{f.lower()}.{n}@example.com" for n, f in enumerate(first)]
    first[0], emails[0] = "Ann", "ann@example.com"  # whom the README looks up
    pd.DataFrame(
        {
            "customer_id": ids,
            "first_name": first,
            "last_name": last,
            "email": emails,
            "phone": [f"07700 9{n:05d}" for n in range(customers)],
            "postcode": rng.choice(["NR5 1QZ", "SW1A 1AA", "M1 2AB"], customers),
        }
    ).to_csv(folder / "loyalty.csv", index=False)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for cid in ids:
        rate = rng.gamma(2.0, 0.02)  # purchases per day
        day = float(rng.exponential(60))
        while day < 545:
            rows.append((cid, start + pd.Timedelta(days=day), round(float(rng.gamma(4, 12)), 2)))
            day += float(rng.exponential(1 / rate))
    orders = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "revenue"])
    orders.insert(0, "order_id", [f"T{n}" for n in range(len(orders))])
    orders["channel"] = "store"
    orders.to_parquet(folder / "till-2025.parquet", index=False)
    calls = orders.sample(40, random_state=seed)
    pd.DataFrame(
        {
            "interaction_id": [f"C{n}" for n in range(len(calls))],
            "caller": calls["customer_id"].to_numpy(),
            "occurred_at": calls["ordered_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
            "channel": "call_centre",
        }
    ).to_json(folder / "calls.jsonl", orient="records", lines=True)
    web = orders.sample(60, random_state=seed + 1)
    pd.DataFrame(
        {
            "order_id": [f"W{n}" for n in range(len(web))],
            "customer_id": [f"web-{n % 45}" for n in range(len(web))],
            "ordered_at": web["ordered_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
            "revenue": web["revenue"].to_numpy(),
            "channel": "web",
        }
    ).to_csv(folder / "web-orders.csv", index=False)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database for the README's `init --db postgresql://...` line."""
    with new_database("postgres", tmp_path) as url:
        yield url


@pytest.mark.slow
def test_the_readme_shell_examples_run(tmp_path: Path, postgres_url: str) -> None:
    blocks = shell_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 5, "the README has fewer shell examples than expected"
    write_inputs(tmp_path)
    store = f"sqlite:///{tmp_path / 'clientbook.db'}"
    migrate(store)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CLIENTBOOK_DATABASE_URL": store,
        "PASSWORD": "a-long-enough-password-1",
    }
    server = subprocess.Popen(
        [str(BIN / "clientbook"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base, server)
        script = "\n".join(blocks).replace(DEFAULT_URL, base).replace(README_PG, postgres_url)
        prelude = 'curl() { command curl --silent --show-error --fail "$@"; echo; }\n'
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", prelude + script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        stop(server)
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n--- stdout ---\n{done.stdout[-3000:]}"
    assert '"ok": true' in done.stdout or '"ok":true' in done.stdout  # the tracked event
