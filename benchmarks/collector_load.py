"""Load on the event collector: `/v1/batch` throughput and single `/v1/track` latency.

Starts `clientbook serve` (uvicorn) on loopback over a fresh store, drives it from this process
(a second process), and prints events/s through batches of 100 and the p50/p95/p99 latency of
single tracks sent at a fixed rate, on SQLite and on PostgreSQL (started with
scripts/postgres-for-tests). The peer is a no-op ASGI app on the same uvicorn that answers 200
without storing anything: the ceiling of HTTP on this machine, and the ratio shows what
validation and the durable commit cost.

    .venv/bin/python benchmarks/collector_load.py [--backends sqlite postgres] [--workers 2]

Targets (issue 3): >= 5,000 events/s through batches; p99 < 50 ms at 200 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOOP_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"success": true}'})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("server exited")
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def fresh_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    server = subprocess.check_output([str(ROOT / "scripts" / "postgres-for-tests")], text=True)
    server = server.strip()
    name = f"cb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def start_clientbook(db: str, workers: int) -> tuple[str, subprocess.Popen[bytes], str]:
    clientbook = str(BIN / "clientbook")
    subprocess.run([clientbook, "init", "--db", db], check=True, stdout=subprocess.DEVNULL)
    key = subprocess.check_output(
        [clientbook, "keys", "create", "--name", "bench", "--db", db], text=True
    ).strip()
    port = free_port()
    env = {**os.environ, "CLIENTBOOK_COLLECT_RATE_LIMIT": "0"}
    process = subprocess.Popen(
        [clientbook, "serve", "--db", db, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_up(url, process, "/health")
    return url, process, key


def start_noop(workers: int, tmp: Path) -> tuple[str, subprocess.Popen[bytes]]:
    (tmp / "noop_app.py").write_text(NOOP_APP)
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "noop_app:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--app-dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_up(url, process, "/")
    return url, process


def batch_body(n: int, run: str) -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    batch = [
        {
            "type": "track" if i % 4 else "page",
            "event": "Product Viewed",
            "userId" if i % 3 else "anonymousId": f"user-{(n * 100 + i) % 5000}",
            "messageId": f"{run}-{n}-{i}",
            "timestamp": now,
            "properties": {"sku": f"SKU-{i % 97}", "price": 19.99, "url": "https://shop.example/p"},
            "context": {"library": {"name": "bench", "version": "1"}},
        }
        for i in range(100)
    ]
    return json.dumps({"batch": batch, "sentAt": now}).encode()


async def throughput(url: str, key: str, seconds: float, concurrency: int) -> float:
    """Events per second acknowledged through /v1/batch (100 events each)."""
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    run = uuid.uuid4().hex[:6]
    bodies = [batch_body(n, run) for n in range(4000)]
    counter = iter(range(len(bodies)))
    acked = 0
    end = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal acked
        while time.perf_counter() < end:
            response = await client.post("/v1/batch", content=bodies[next(counter)])
            if response.status_code == 200:
                acked += 100
            else:
                raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return acked / elapsed


async def latency(url: str, key: str, rate: float, seconds: float) -> list[float]:
    """Latencies (ms) of single /v1/track calls sent at a fixed rate (open loop)."""
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    run = uuid.uuid4().hex[:6]
    total = int(rate * seconds)
    out: list[float] = []
    failures = 0

    async def one(client: httpx.AsyncClient, n: int, due: float) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        body = json.dumps(
            {
                "userId": f"user-{n % 2000}",
                "event": "Added To Cart",
                "messageId": f"{run}-{n}",
                "properties": {"sku": "SKU-1", "price": 9.5},
            }
        ).encode()
        start = time.perf_counter()
        response = await client.post("/v1/track", content=body)
        # measured from when it was due, so a stalled server cannot hide its queue
        out.append((time.perf_counter() - min(start, due)) * 1000)
        failures += response.status_code != 200

    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as c:
        begin = time.perf_counter() + 0.5
        await asyncio.gather(*(one(c, n, begin + n / rate) for n in range(total)))
    if failures:
        raise RuntimeError(f"{failures} single tracks failed")
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def drain_seconds(db: str, timeout: float = 600) -> tuple[int, float]:
    """How long the server's background processor takes to apply what is pending."""
    clientbook = str(BIN / "clientbook")
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        out = subprocess.check_output(
            [clientbook, "events", "status", "--json", "--db", db], text=True
        )
        counts = json.loads(out)
        if counts["pending"] == 0:
            return counts["events"], time.perf_counter() - start
        time.sleep(2)
    return counts["events"], float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8, help="batches in flight")
    parser.add_argument("--rate", type=float, default=200.0, help="single tracks per second")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url, noop = start_noop(args.workers, tmp)
        try:
            ceiling = asyncio.run(throughput(url, "noop", args.seconds, args.concurrency))
            noop_lat = percentiles(asyncio.run(latency(url, "noop", args.rate, args.seconds)))
        finally:
            noop.terminate()
            noop.wait()
        print(
            f"no-op peer (uvicorn, {args.workers} workers): {ceiling:,.0f} events/s; "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in noop_lat.items())
        )
        for backend in args.backends:
            db = fresh_database(backend, tmp)
            url, server, key = start_clientbook(db, args.workers)
            try:
                rate = asyncio.run(throughput(url, key, args.seconds, args.concurrency))
                lat = percentiles(asyncio.run(latency(url, key, args.rate, args.seconds)))
                stored, drained = drain_seconds(db)
            finally:
                server.terminate()
                server.wait()
            print(
                f"clientbook {backend} ({args.workers} workers): {rate:,.0f} events/s through "
                f"/v1/batch (target >= 5,000; {rate / ceiling:.2f} of the no-op peer); "
                f"/v1/track at {args.rate:.0f} req/s: "
                + ", ".join(f"{k} {v:.1f} ms" for k, v in lat.items())
                + f" (target p99 < 50 ms); processor applied the backlog of {stored:,} events "
                f"{drained:.0f} s after the load ended"
            )


if __name__ == "__main__":
    main()
