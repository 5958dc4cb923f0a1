"""Load on the event collector: `/v1/batch` throughput and single `/v1/track` latency.

Starts `clientbook serve` on loopback over a fresh store, as a user runs it (its event processor
on: a second process at a lower CPU priority, which applies the events to the customer record
while the load runs), and drives it from this process with a small HTTP/1.1 client on raw asyncio
sockets with keep-alive, cheap enough not to be the bottleneck. It prints events/s through
batches of 100 (closed loop, `--concurrency` batches in flight) and the p50/p95/p99 latency of
single tracks sent at a fixed rate (open loop: latency counts from when a request was due, so a
stalled server cannot hide its queue), on SQLite and on PostgreSQL (started with
scripts/postgres-for-tests). Each server is measured `--runs` times and the median is shown, with
the CPU time the server process used per batch and per track (from /proc; on PostgreSQL the
database's own processes are not counted): on a machine shared with other jobs, that says what
the collector costs when the wall-clock figures are starved. The processor's side is shown too:
events it applied per second during each phase, its CPU per event, and the events still pending
at the end (its lag). `--processor-off` adds the same measurement with the processor off
(`CLIENTBOOK_COLLECT_PROCESS_INTERVAL=0`). The peer is a no-op ASGI app on the same uvicorn that
answers 200 without storing anything: the ceiling of HTTP on this machine; the ratio shows what
validation and the durable commit cost.

    .venv/bin/python benchmarks/collector_load.py [--backends sqlite postgres] [--runs 3]

Targets (issue 3): >= 5,000 events/s through batches; p99 < 50 ms at 200 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from clientbook.store.db import dispose_engines, migrate
from clientbook.store.events import create_write_key, event_counts

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOOP_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"17")]})
    await send({"type": "http.response.body", "body": b'{"success": true}'})
"""


@dataclass(frozen=True)
class Figures:
    """One measurement of one server."""

    events_per_s: float
    p50: float
    p95: float
    p99: float
    batch_cpu_ms: float  # server CPU per batch of 100 events
    track_cpu_ms: float  # server CPU per single track
    applied_batch: float = 0.0  # events/s the processor applied during the batch phase
    applied_track: float = 0.0  # ... during the track phase
    processor_cpu_ms: float = 0.0  # processor CPU per event applied
    pending: int = 0  # events not yet applied at the end of the runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) used so far by a server and by its event processor, from /proc.

    The server's figure counts its child processes (workers) except the processor's.
    """
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    processor = {p for p in family if b"--follow" in _cmdline(p)}
    server = sum(times.get(p, 0.0) for p in family - processor)
    return server, sum(times.get(p, 0.0) for p in processor)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@contextmanager
def running(
    command: list[str], url: str, ready: str, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until the block ends (also when it fails); wait until ``ready`` answers."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # imports are slow on a machine shared with other jobs
        while True:
            try:
                if httpx.get(url + ready, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {' '.join(command)}")
            time.sleep(0.2)
        yield process
    finally:
        helpers = [p for p in children(process.pid) if b"--follow" in _cmdline(p)]
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        deadline = time.monotonic() + 30  # the processor ends its chunk, then its process
        while any(Path(f"/proc/{p}").exists() for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.1)


def children(pid: int) -> list[int]:
    """The direct children of a process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def fresh_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    server = subprocess.check_output([str(ROOT / "scripts" / "postgres-for-tests")], text=True)
    server = server.strip()
    name = f"cb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def drop_database(db: str) -> None:
    if db.startswith("postgresql"):
        server, name = db.rsplit("/", 1)
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a prepared request and reads the answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError("a chunked answer: this client reads Content-Length only")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def request_head(path: str, key: str) -> bytes:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()


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


async def throughput(port: int, key: str, seconds: float, concurrency: int) -> float:
    """Events per second acknowledged through /v1/batch (100 events each), closed loop."""
    head = request_head("/v1/batch", key)
    run = uuid.uuid4().hex[:6]
    counter = iter(range(10**9))
    acked = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal acked
        connection = await Connection.open(port)
        try:
            while time.perf_counter() < end:
                body = batch_body(next(counter), run)
                status, answer = await connection.post(head, body)
                if status != 200:
                    raise RuntimeError(f"/v1/batch answered {status}: {answer[:200]!r}")
                acked += 100
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return acked / (time.perf_counter() - start)


async def latency(port: int, key: str, rate: float, seconds: float) -> list[float]:
    """Latencies (ms) of single /v1/track calls sent at a fixed rate (open loop)."""
    head = request_head("/v1/track", key)
    run = uuid.uuid4().hex[:6]
    idle: list[Connection] = [await Connection.open(port) for _ in range(20)]
    out: list[float] = []

    async def one(n: int, due: float) -> None:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        body = json.dumps(
            {
                "userId": f"user-{n % 2000}",
                "event": "Added To Cart",
                "messageId": f"{run}-{n}",
                "properties": {"sku": "SKU-1", "price": 9.5},
            }
        ).encode()
        connection = idle.pop() if idle else await Connection.open(port)
        status, answer = await connection.post(head, body)
        # measured from when it was due, so a stalled server cannot hide its queue
        out.append((time.perf_counter() - due) * 1000)
        idle.append(connection)
        if status != 200:
            raise RuntimeError(f"/v1/track answered {status}: {answer[:200]!r}")

    begin = time.perf_counter() + 0.2
    await asyncio.gather(*(one(n, begin + n / rate) for n in range(int(rate * seconds))))
    for connection in idle:
        connection.close()
    return out


def applied(db: str | None) -> int:
    if db is None:
        return 0
    counts = event_counts(db)
    return counts["events"] - counts["pending"]


def measure(port: int, key: str, pid: int, args: argparse.Namespace, db: str | None) -> Figures:
    """Both phases against one server; its CPU time is counted per batch and per track."""
    start, p_start, a_start = *cpu_seconds(pid), applied(db)
    t0 = time.perf_counter()
    rate = asyncio.run(throughput(port, key, args.seconds, args.concurrency))
    t1 = time.perf_counter()
    middle, _, a_middle = *cpu_seconds(pid), applied(db)
    samples = asyncio.run(latency(port, key, args.rate, args.seconds))
    t2 = time.perf_counter()
    end, p_end, a_end = *cpu_seconds(pid), applied(db)
    q = statistics.quantiles(samples, n=100, method="inclusive")
    batches = rate * args.seconds / 100
    per_batch = (middle - start) * 1000 / batches
    done = a_end - a_start
    return Figures(
        rate,
        q[49],
        q[94],
        q[98],
        per_batch,
        (end - middle) * 1000 / len(samples),
        applied_batch=(a_middle - a_start) / (t1 - t0),
        applied_track=(a_end - a_middle) / (t2 - t1),
        processor_cpu_ms=(p_end - p_start) * 1000 / done if done else 0.0,
    )


def wait_for_processor(port: int, key: str, db: str) -> None:
    """Send one event and wait until it is applied: the processor has started (imports are slow)."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    body = {"userId": "warm-up", "event": "Warm Up"}
    httpx.post(f"http://127.0.0.1:{port}/v1/track", json=body, headers=auth).raise_for_status()
    deadline = time.monotonic() + 600
    while event_counts(db)["pending"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the event processor did not start within 600 s")
        time.sleep(0.2)


def clientbook_run(backend: str, process: bool, args: argparse.Namespace, tmp: Path) -> Figures:
    """Measure `clientbook serve` over a fresh store, with its event processor on or off."""
    clientbook = str(BIN / "clientbook")
    db = fresh_database(backend, tmp)
    try:
        migrate(db)  # what `clientbook init` does, without starting the CLI each run
        key = create_write_key(db, "bench")
        port = free_port()
        env = {**os.environ, "CLIENTBOOK_COLLECT_RATE_LIMIT": "0"}
        if not process:
            env["CLIENTBOOK_COLLECT_PROCESS_INTERVAL"] = "0"
        command = [clientbook, "serve", "--db", db, "--port", str(port)]
        command += ["--workers", str(args.workers)]
        with running(command, f"http://127.0.0.1:{port}", "/health", env) as server:
            if process:
                wait_for_processor(port, key, db)
            runs = [measure(port, key, server.pid, args, db) for _ in range(args.runs)]
            return dataclasses.replace(median(runs), pending=event_counts(db)["pending"])
    finally:
        dispose_engines()
        drop_database(db)


def noop_run(args: argparse.Namespace, tmp: Path) -> Figures:
    (tmp / "noop_app.py").write_text(NOOP_APP)
    port = free_port()
    command = [str(BIN / "uvicorn"), "noop_app:app", "--port", str(port)]
    command += ["--workers", str(args.workers), "--log-level", "warning", "--app-dir", str(tmp)]
    with running(command, f"http://127.0.0.1:{port}", "/", dict(os.environ)) as server:
        return median([measure(port, "noop", server.pid, args, None) for _ in range(args.runs)])


def median(runs: list[Figures]) -> Figures:
    fields = [f.name for f in dataclasses.fields(Figures)]
    return Figures(**{f: statistics.median(getattr(r, f) for r in runs) for f in fields})


def show(label: str, f: Figures, ceiling: Figures, seconds: float, runs: int) -> str:
    line = (
        f"{label}: {f.events_per_s:,.0f} events/s through /v1/batch "
        f"({f.events_per_s / ceiling.events_per_s:.2f} of the peer); /v1/track: "
        f"p50 {f.p50:.1f} ms, p95 {f.p95:.1f} ms, p99 {f.p99:.1f} ms; server CPU "
        f"{f.batch_cpu_ms:.1f} ms per batch, {f.track_cpu_ms:.2f} ms per track"
    )
    if f.processor_cpu_ms:
        line += (
            f"\n    processor: applied {f.applied_batch:,.0f} events/s during the batches and "
            f"{f.applied_track:,.0f} events/s during the tracks, {f.processor_cpu_ms:.2f} ms CPU "
            f"per event; {f.pending:,} events still pending at the end"
        )
    return line + f"  [median of {runs}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--concurrency", type=int, default=4, help="batches in flight")
    parser.add_argument("--rate", type=float, default=200.0, help="single tracks per second")
    parser.add_argument("--runs", type=int, default=3, help="runs per server (median shown)")
    parser.add_argument(
        "--processor-off", action="store_true", help="also measure with the processor off"
    )
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
        f"{args.seconds:.0f} s per phase, {args.concurrency} batches in flight, "
        f"{args.rate:.0f} tracks/s, {args.workers} server process(es)"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ceiling = noop_run(args, tmp)
        print(show("no-op ASGI peer (uvicorn)", ceiling, ceiling, args.seconds, args.runs))
        modes = [True, False] if args.processor_off else [True]
        for backend in args.backends:
            for process in modes:
                figures = clientbook_run(backend, process, args, tmp)
                label = f"clientbook {backend}, processor {'on' if process else 'off'}"
                print(show(label, figures, ceiling, args.seconds, args.runs), flush=True)
    print("targets: >= 5,000 events/s through /v1/batch; /v1/track p99 < 50 ms at 200 req/s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
