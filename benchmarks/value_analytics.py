"""Value analytics against the standard libraries, on the same data in one run.

Parts (``--parts``, all by default); each prints both sides' median seconds and the ratio:

* ``cdnow``: BG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW sample with the papers'
  conventions (weeks, calibration to 1997-09-30), Clientbook against lifetimes 0.11.3; the
  parameters of both and of the papers.
* ``fit``: BG/NBD on ``--customers`` (1,000,000) customers drawn from a known BG/NBD process
  (``TRUTH``; first purchases over a year, observed to the end of the next, whole days as in the
  store, fitted in weeks), Clientbook against lifetimes; both sides' parameters against the
  truth (within 3 %). Target: at least 10 x faster than lifetimes.
* ``rfm``: RFM quintile scores and named segments of ``--transactions`` (20,000,000) purchases
  of ``--rfm-customers`` (200,000, then 1,000,000) customers in memory, Clientbook (the SQL that
  ``clientbook analyse`` runs, on DuckDB) against the same definitions in pandas; the share of
  customers whose scores agree. Target: under 1 s.
* ``refresh``: ``clientbook analyse`` (store -> summaries -> fits -> scores -> stored results)
  on a SQLite store of ``--refresh-customers`` (1,000,000) customers and
  ``--refresh-transactions`` (10,000,000) orders (see ``value_store.py``). Target: under 60 s.

lifetimes runs in its own venv (``benchmarks/.peers-venv``, made on first use with the
product's numpy, scipy and pandas versions; see benchmarks/README.md), started from here.

    nice .venv/bin/python benchmarks/value_analytics.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from value_store import AS_OF, PROCESS, build_store

from clientbook.analytics.btyd import (
    BGNBD,
    GammaGamma,
    ParetoNBD,
    aggregate,
    calibration_and_holdout,
)
from clientbook.analytics.btyd.simulate import bgnbd_histories
from clientbook.analytics.engine import DuckDBEngine
from clientbook.analytics.refresh import analyse
from clientbook.analytics.rfm import rfm_query, segment_table
from clientbook.config import DEFAULT_RFM_SEGMENTS, Settings

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers-venv"
CDNOW = HERE.parents[1] / "shared" / "data" / "cdnow"
MODELS = {"bgnbd": BGNBD, "pareto-nbd": ParetoNBD, "gamma-gamma": GammaGamma}
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto-nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gamma-gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
#: The simulated base's process (weeks). Rates are not as dispersed as CDNOW's so that few
#: customers buy twice a day: the store's day-count convention (a day's purchases count once)
#: would otherwise bias the estimates away from the truth, whatever fits them.
TRUTH = {"r": 2.0, "alpha": 40.0, "a": 0.8, "b": 2.5}
TOLERANCE = 0.03


def peers_python() -> Path:
    """The peers' interpreter, with lifetimes; the venv is made on first use (uv, offline cache)."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        uv = Path(sys.executable).parent / "uv"
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, PEERS], check=True)
        pins = [f"{name}=={version(name)}" for name in ("numpy", "scipy", "pandas")]
        packages = ["lifetimes==0.11.3", "setuptools<81", *pins]
        subprocess.run([uv, "pip", "install", "-q", "-p", python, *packages], check=True)
    return python


def lifetimes_fits(data: dict[str, np.ndarray], models: list[str], runs: int) -> dict[str, Any]:
    """lifetimes' fits of ``models`` on ``data`` (median seconds, parameters, log-likelihood)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, **data)  # type: ignore[arg-type]
        out = subprocess.run(
            [peers_python(), HERE / "value_peer.py", path, ",".join(models), str(runs)],
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def clientbook_fit(name: str, data: dict[str, np.ndarray], runs: int) -> dict[str, Any]:
    """Clientbook's fit of ``name`` on ``data`` (median wall and CPU seconds, parameters)."""

    def fit() -> Any:
        if name == "gamma-gamma":
            return GammaGamma().fit(data["frequency"], data["monetary_value"])
        return MODELS[name]().fit(data["frequency"], data["recency"], data["T"])

    seconds, cpu, model = timed(fit, runs)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "params": model.params,
        "log_likelihood": model.log_likelihood,
    }


def worst(a: dict[str, float], b: dict[str, float]) -> float:
    """The largest relative difference between two parameter sets (as a fraction)."""
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in b)


def show_params(label: str, params: dict[str, float]) -> str:
    return f"    {label:<11}" + "  ".join(f"{k}={v:.4f}" for k, v in params.items())


def compare(
    name: str, ours: dict[str, Any], peer: dict[str, Any], reference: dict[str, float], ref: str
) -> None:
    print(
        f"  {name:<12} Clientbook {ours['seconds']:8.3f} s   lifetimes {peer['seconds']:8.3f} s"
        f"   ratio {peer['seconds'] / ours['seconds']:6.1f} x   (CPU: {ours['cpu']:.3f} s,"
        f" {peer['cpu']:.3f} s, {peer['cpu'] / ours['cpu']:.1f} x)"
    )
    print(show_params("clientbook", ours["params"]) + f"  LL={ours['log_likelihood']:.2f}")
    print(show_params("lifetimes", peer["params"]))
    print(show_params(ref, reference))
    print(
        f"    max |difference|: Clientbook vs {ref} {100 * worst(ours['params'], reference):.2f} %,"
        f" lifetimes vs {ref} {100 * worst(peer['params'], reference):.2f} %,"
        f" Clientbook vs lifetimes {100 * worst(ours['params'], peer['params']):.4f} %"
    )


def cdnow_part(runs: int) -> None:
    frame = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    summary = calibration_and_holdout(
        frame,
        "customer_id",
        "date",
        "value",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="week",
    )
    data = {
        "frequency": summary["frequency_cal"].to_numpy(),
        "recency": summary["recency_cal"].to_numpy(),
        "T": summary["T_cal"].to_numpy(),
        "monetary_value": summary["monetary_value_cal"].to_numpy(),
    }
    print(f"CDNOW sample: {len(summary):,} customers, calibration 39 weeks")
    peer = lifetimes_fits(data, list(MODELS), runs)
    for name in MODELS:
        compare(name, clientbook_fit(name, data, runs), peer[name], PUBLISHED[name], "published")


def fit_part(customers: int, runs: int, seed: int) -> None:
    first_day = np.random.default_rng(seed).integers(0, 365, customers)
    T = (729 - first_day) / 7.0  # observed to day 729, in weeks
    x, t_x, T = bgnbd_histories(T, **TRUTH, seed=seed + 1, days_per_unit=7.0)
    data = {"frequency": x, "recency": t_x, "T": T}
    distinct = len(aggregate(x, t_x, T).counts)
    print(
        f"BG/NBD on {customers:,} simulated customers ({int(x.sum()):,} repeat purchases, "
        f"{distinct:,} distinct histories)"
    )
    ours = clientbook_fit("bgnbd", data, runs)
    peer = lifetimes_fits(data, ["bgnbd"], runs)["bgnbd"]
    compare("bgnbd", ours, peer, TRUTH, "truth")
    recovered = worst(ours["params"], TRUTH) < TOLERANCE
    answer = "yes" if recovered else "NO"
    print(f"    true parameters recovered within {100 * TOLERANCE:.0f} %: {answer}")
    met = peer["seconds"] >= 10 * ours["seconds"]
    print(f"    target >= 10 x lifetimes: {'met' if met else 'MISSED'}")


def transactions(n: int, customers: int, seed: int) -> pa.Table:
    """``n`` purchases of ``customers`` customers over two years (customer_id, day, revenue)."""
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "customer_id": rng.integers(0, customers, n),
            "day": rng.integers(0, 730, n).astype(np.int32),
            "revenue": np.round(rng.gamma(2.0, 25.0, n), 2),
        }
    )


def pandas_rfm(orders: pd.DataFrame, as_of: int, bins: int, names: np.ndarray) -> pd.DataFrame:
    """The peer: the same RFM definitions and scores as ``clientbook.analytics.rfm``, in pandas."""
    orders = orders[orders["day"] <= as_of]
    grouped = orders.groupby("customer_id")
    rfm = pd.DataFrame(
        {
            "recency_days": as_of - grouped["day"].max(),
            "frequency": grouped.size(),
            "monetary": grouped["revenue"].sum().round(4),
        }
    )
    n = len(rfm)

    def score(column: pd.Series, ascending: bool) -> np.ndarray:
        rank = column.rank(method="min", ascending=ascending).to_numpy()
        return np.minimum(bins, 1 + np.floor((rank - 1) / max(n - 1, 1) * bins)).astype(int)

    rfm["r_score"] = score(rfm["recency_days"], ascending=False)
    rfm["f_score"] = score(rfm["frequency"], ascending=True)
    rfm["m_score"] = score(rfm["monetary"], ascending=True)
    r5 = np.ceil(rfm["r_score"].to_numpy() * 5 / bins).astype(int)
    f5 = np.ceil(rfm["f_score"].to_numpy() * 5 / bins)
    m5 = np.ceil(rfm["m_score"].to_numpy() * 5 / bins)
    fm5 = np.ceil((f5 + m5) / 2).astype(int)
    rfm["rfm_segment"] = names[(r5 - 1) * 5 + fm5 - 1]
    return rfm


def timed(function: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``runs`` calls, and the last result."""
    seconds, cpu, result = [], [], None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(seconds), statistics.median(cpu), result


def rfm_part(n: int, customers: int, runs: int, seed: int, bins: int = 5) -> None:
    orders = transactions(n, customers, seed)
    as_of = 729
    segments = segment_table(DEFAULT_RFM_SEGMENTS)
    engine = DuckDBEngine()
    # Each side starts from the orders in its own in-memory form: a DuckDB table, a DataFrame.
    load_s, _, _ = timed(lambda: engine.register("orders", orders), 1)
    engine.register("rfm_map", segments)
    query = rfm_query("orders", "rfm_map", as_of_day=as_of, bins=bins)
    ours_s, ours_cpu, ours = timed(lambda: engine.fetch(query), runs)
    engine.close()
    frame_s, _, frame = timed(orders.to_pandas, 1)
    names = np.array(segments["segment"].to_pylist(), dtype=object)
    peer_s, peer_cpu, peer = timed(lambda: pandas_rfm(frame, as_of, bins, names), runs)
    mine = ours.to_pandas().set_index("customer_id").sort_index()
    peer = peer.sort_index()
    same = (
        mine[["r_score", "f_score", "m_score"]].to_numpy()
        == peer[["r_score", "f_score", "m_score"]].to_numpy()
    ).all(axis=1) & (mine["rfm_segment"].to_numpy() == peer["rfm_segment"].to_numpy())
    print(f"RFM quintiles of {n:,} transactions of {len(mine):,} customers")
    print(
        f"  rfm          Clientbook {ours_s:8.3f} s   pandas    {peer_s:8.3f} s"
        f"   ratio {peer_s / ours_s:6.1f} x"
    )
    print(f"    CPU: Clientbook {ours_cpu:.3f} s (two threads), pandas {peer_cpu:.3f} s")
    print(f"    Arrow -> DuckDB table {load_s:.3f} s, Arrow -> DataFrame {frame_s:.3f} s (untimed)")
    print(f"    customers with the same R, F, M scores and segment: {100 * same.mean():.3f} %")
    print(f"    target under 1 s: {'met' if ours_s < 1.0 else 'MISSED'}")


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the SQLite bulk readers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def refresh_part(customers: int, transactions: int, runs: int) -> None:
    path = HERE / "out" / f"value-{customers}-{transactions}.db"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        started = time.perf_counter()
        build_store(path, customers, transactions)
        print(f"(store built in {time.perf_counter() - started:.0f} s: {path})")
    settings = Settings(database_url=f"sqlite:///{path}")
    print(f"Refresh (clientbook analyse) of {customers:,} customers, {transactions:,} orders")
    seconds, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), _cpu()
        report, _ = analyse(settings, as_of=AS_OF)
        seconds.append(time.perf_counter() - started)
        cpu.append(_cpu() - started_cpu)
        print(
            f"    run {report.run_id}: {seconds[-1]:.1f} s (CPU {cpu[-1]:.1f} s, child "
            f"processes included)  {report.timings}"
        )
    fitted = report.models["purchase"]["params"]
    print(show_params("fitted", fitted) + f"  ({report.models['fit_customers']:,} buyers)")
    print(
        show_params("process", PROCESS) + f"  max |difference| {100 * worst(fitted, PROCESS):.1f} %"
    )
    median = statistics.median(seconds)
    print(
        f"  refresh      Clientbook {median:8.1f} s, CPU {statistics.median(cpu):.1f} s"
        " (no peer does store -> stored scores)"
    )
    print(f"    target under 60 s: {'met' if median < 60 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="cdnow,fit,rfm,refresh")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side (median)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=20_000_000)
    parser.add_argument(
        "--rfm-customers",
        default="200000,1000000",
        help="customers the RFM transactions belong to, one run per comma-separated count",
    )
    parser.add_argument("--refresh-customers", type=int, default=1_000_000)
    parser.add_argument("--refresh-transactions", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    parts = args.parts.split(",")
    print(f"{date.today()}  numpy {np.__version__}  duckdb {version('duckdb')}  runs {args.runs}")
    if "cdnow" in parts:
        cdnow_part(args.runs)
    if "fit" in parts:
        fit_part(args.customers, args.runs, args.seed)
    if "rfm" in parts:
        for customers in args.rfm_customers.split(","):
            rfm_part(args.transactions, int(customers), args.runs, args.seed)
    if "refresh" in parts:
        refresh_part(args.refresh_customers, args.refresh_transactions, args.runs)


if __name__ == "__main__":
    main()
