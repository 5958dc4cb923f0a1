"""The event processor alone: events applied per second and CPU per event, SQLite and PostgreSQL.

Fills a fresh store with a fixed, seeded stream of Segment messages (validated by the collector's
own code and appended as the collector appends them): visitors browse anonymously (page, track),
some register (identify with traits: the cookie joins the user id), then browse signed in,
search, buy (``Order Completed`` with products), join an account (group) or alias; a few
identify again with new traits. A warm-up part is applied first (untimed) so that the timed part
mixes known customers and new visitors. Then it times :func:`process_all` in this process: wall
time and this process's CPU (on PostgreSQL the database's own processes are not counted), and
prints events/s and CPU ms per event. ``--profile`` prints the top of a cProfile of the timed
part. It also prints a digest of the resulting store (every table the processor writes, without
timestamps): two versions of the processor that give the same digest on the same backend wrote
the same customers, identifiers, merges, reviews, interactions, orders and accounts.

    nice .venv/bin/python benchmarks/processor_load.py [--backends sqlite postgres] \
        [--events 5000] [--warmup 2000] [--runs 3] [--profile 25]

Runs on older commits too (it uses only ``process_all``, ``append_events`` and ``migrate``).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import DateTime, MetaData, select

from clientbook.collect.ingest import Intake, intake_batch
from clientbook.collect.processor import process_all
from clientbook.config import Settings
from clientbook.store.db import connection_scope, dispose_engines, get_engine, migrate
from clientbook.store.events import append_events, create_write_key, key_owner

ROOT = Path(__file__).resolve().parents[1]
#: The tables the processor writes, compared by the digest.
TABLES = (
    "customers",
    "identifiers",
    "interactions",
    "orders",
    "order_lines",
    "products",
    "accounts",
    "account_members",
    "identity_merges",
    "identity_merge_moves",
    "identity_reviews",
    "events",
)
PAGES = ("/", "/shoes", "/shoes/trail-1", "/bags", "/sale", "/checkout")
EVENTS = ("Product Viewed", "Product Added", "Products Searched", "Cart Viewed", "Signed In")


def messages(count: int, seed: int, people: int) -> list[dict[str, Any]]:
    """A seeded stream of messages from ``people`` visitors, some of whom register."""
    rnd = random.Random(seed)
    registered: set[int] = set()
    out: list[dict[str, Any]] = []
    for n in range(count):
        p = int(rnd.paretovariate(1.2) * 7) % people  # a few visitors make many events
        ids: dict[str, Any] = {"anonymousId": f"anon-{p:05d}"}
        if p in registered:
            ids["userId"] = f"user-{p:05d}"
        base = {**ids, "messageId": f"m-{seed}-{n}", "timestamp": "2026-11-30T04:00:00Z"}
        base["context"] = {"library": {"name": "analytics.js", "version": "5.2.0"}}
        roll = rnd.random()
        if p not in registered and p % 3 == 0 and roll < 0.12 or roll < 0.015:
            registered.add(p)
            traits: dict[str, Any] = {
                "firstName": rnd.choice(("Ann", "Bob", "Cleo", "Dev", "Eve")),
                "lastName": f"Name{p}",
                "email": f"person{p}@example.com",
                "plan": rnd.choice(("free", "gold")),
            }
            if p % 4 == 0:
                traits["phone"] = f"+44 20 7946 {p % 10000:04d}"
            out.append({**base, "type": "identify", "userId": f"user-{p:05d}", "traits": traits})
        elif roll < 0.45:
            path = rnd.choice(PAGES)
            props = {"url": f"https://shop.example{path}?utm_source=news", "path": path}
            if rnd.random() < 0.2:
                props["referrer"] = "https://www.google.com/search?q=trail+shoes"
            out.append({**base, "type": "page", "name": path, "properties": props})
        elif roll < 0.48 and "userId" in ids:
            products = [
                {"sku": f"SKU-{rnd.randrange(200)}", "price": 19.5, "quantity": 1}
                for _ in range(rnd.randint(1, 3))
            ]
            props = {"order_id": f"o-{seed}-{n}", "revenue": 58.5, "products": products}
            out.append({**base, "type": "track", "event": "Order Completed", "properties": props})
        elif roll < 0.49 and "userId" in ids:
            traits = {"name": f"Firm {p % 50}", "industry": "Retail", "employees": 40}
            out.append({**base, "type": "group", "groupId": f"firm-{p % 50}", "traits": traits})
        elif roll < 0.495 and "userId" in ids:
            out.append({**base, "type": "alias", "previousId": f"anon-{p:05d}-app"})
        else:
            props = {"sku": f"SKU-{rnd.randrange(200)}", "price": 19.5}
            out.append({**base, "type": "track", "event": rnd.choice(EVENTS), "properties": props})
    return out


def fresh_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'proc-{uuid.uuid4().hex[:8]}.db'}"
    else:
        server = subprocess.check_output([str(ROOT / "scripts" / "postgres-for-tests")], text=True)
        name = f"cb_proc_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.strip(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = server.strip().rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    return url


def drop_database(url: str) -> None:
    dispose_engines()
    if url.startswith("postgresql"):
        server, name = url.rsplit("/", 1)
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def store(url: str, key: str, batch: list[dict[str, Any]]) -> None:
    """Validate and append as the collector does, 100 messages per request."""
    for start in range(0, len(batch), 100):
        body = json.dumps({"batch": batch[start : start + 100]}).encode()
        intake = intake_batch(body, key)
        assert isinstance(intake, Intake), intake
        with connection_scope(url) as connection:
            append_events(connection, key_owner(connection, key), intake.rows)


def digest(url: str) -> str:
    """A hash of what the processor wrote, timestamps left out."""
    meta = MetaData()
    meta.reflect(get_engine(url), only=TABLES)
    h = hashlib.sha256()
    with get_engine(url).connect() as conn:
        for name in TABLES:
            table = meta.tables[name]
            cols = [c for c in table.c if not isinstance(c.type, DateTime)]
            for row in conn.execute(select(*cols).order_by(*table.primary_key.columns)):
                h.update(repr(tuple(row)).encode())
            if name == "events":  # processed or not, rather than when
                done = conn.execute(select(table.c.processed_at.is_not(None))).scalars().all()
                h.update(repr(done).encode())
    return h.hexdigest()[:16]


def run_once(backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    url = fresh_database(backend, tmp)
    try:
        settings = Settings(database_url=url, collect_process_interval=0)
        key = create_write_key(url, "website")
        stream = messages(args.warmup + args.events, args.seed, args.people)
        store(url, key, stream[: args.warmup])
        process_all(settings)
        store(url, key, stream[args.warmup :])
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        report = process_all(settings)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler:
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
                args.profile
            )
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(
                args.profile
            )
        assert report.processed == args.events, report
        return {
            "events_per_s": report.processed / wall,
            "cpu_ms_per_event": 1000 * cpu / report.processed,
            "failed": report.failed,
            "digest": digest(url),
        }
    finally:
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--events", type=int, default=5000, help="timed events")
    parser.add_argument("--warmup", type=int, default=2000, help="events applied before")
    parser.add_argument("--people", type=int, default=3000, help="distinct visitors")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0, help="print the top N of a profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            runs = [run_once(backend, args, Path(folder)) for _ in range(args.runs)]
            speed = statistics.median(r["events_per_s"] for r in runs)
            cpu = statistics.median(r["cpu_ms_per_event"] for r in runs)
            digests = sorted({r["digest"] for r in runs})
            each = ", ".join(f"{r['cpu_ms_per_event']:.2f}" for r in runs)
            print(
                f"{backend:<10} {args.events:,} events ({runs[0]['failed']} failed): "
                f"{speed:,.0f} events/s, {cpu:.2f} ms CPU per event "
                f"(median of {len(runs)}; runs {each} ms); "
                f"store digest {', '.join(digests)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
