"""The peer half of ``value_analytics.py``: lifetimes 0.11.3 fits, run in the peers' venv.

Not for the product's venv (lifetimes is no dependency of Clientbook). ``value_analytics.py``
starts it as ``benchmarks/.peers-venv/bin/python benchmarks/value_peer.py DATA MODELS RUNS``:
DATA is an ``.npz`` with ``frequency``, ``recency``, ``T`` (and ``monetary_value``), MODELS a
comma-separated list of bgnbd, pareto-nbd, gamma-gamma. It prints one JSON object: per model
the median wall and CPU seconds of RUNS fits, and the parameters.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np

warnings.simplefilter("ignore")  # lifetimes' own deprecation noise; this is a script

from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter  # noqa: E402

FITTERS = {"bgnbd": BetaGeoFitter, "pareto-nbd": ParetoNBDFitter, "gamma-gamma": GammaGammaFitter}
NAMES = {"v": "gamma"}  # lifetimes calls the Gamma-Gamma scale v


def fit(name: str, data: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one fit, and the fitter."""
    x, t_x, big_t = data["frequency"], data["recency"], data["T"]
    fitter = FITTERS[name]()
    started, started_cpu = time.perf_counter(), time.process_time()
    if name == "gamma-gamma":
        keep = x > 0
        fitter.fit(x[keep], data["monetary_value"][keep])
    else:
        fitter.fit(x, t_x, big_t)
    return time.perf_counter() - started, time.process_time() - started_cpu, fitter


def main() -> None:
    data = np.load(sys.argv[1])
    runs = int(sys.argv[3])
    out = {}
    for name in sys.argv[2].split(","):
        seconds, cpu = [], []
        for _ in range(runs):
            spent, spent_cpu, fitter = fit(name, data)
            seconds.append(spent)
            cpu.append(spent_cpu)
        out[name] = {
            "seconds": statistics.median(seconds),
            "cpu": statistics.median(cpu),
            "params": {NAMES.get(k, k): float(v) for k, v in fitter.params_.items()},
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
