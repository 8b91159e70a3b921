"""Frontier strategies side by side: what each costs against one ``allocate``.

    python benchmarks/bench_frontier.py [--sizes 21k,130k,624k]

On the rules of ``benchmark_spec_dict`` (an LP: shares, floors, period caps), 20 budgets from
0.5x to 1.5x of the spec's: ``reduced`` (the ends solved, the budgets between bisected, each on
the LP of the tiers that move between its solved neighbours: the default from 6 budgets),
``restart`` (the full LP, each budget from the crash basis) and ``warm`` (the full LP, each
budget from the last one's basis), what ``optimizer.allocate.sweep_strategy`` chooses between.
Every strategy's points are checked against the first's. One allocate is the median of three
(the first also finds the curves' facts once). One run of each frontier: wall seconds.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from optimizer import PlanSpec, SolverError, allocate, frontier  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402

SIZES = {"21k": (8, 25, 13, 8), "130k": (10, 100, 13, 10), "624k": (12, 200, 26, 10),
         "2M": (16, 250, 52, 10)}  # fmt: skip
A = importlib.import_module("optimizer.allocate")  # the module, not the function
STRATEGIES = {
    "reduced LPs, bisected (the default)": "reduced",
    "full LP, each budget from the crash basis": "restart",
    "full LP, each budget warm from the last": "warm",
}


def run(curves, spec, budgets, forced: str):
    """Return (seconds, points) of one frontier under a strategy."""
    keep_choice = A.sweep_strategy
    A.sweep_strategy = lambda *_: forced
    try:
        t = time.perf_counter()
        points = frontier(curves, spec, budgets)
        return time.perf_counter() - t, points
    finally:
        A.sweep_strategy = keep_choice


def bench(name: str) -> None:
    """Print one size's table."""
    curves = synthetic_curves(*SIZES[name])
    spec = PlanSpec.from_dict(benchmark_spec_dict(curves))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        allocate(curves, spec)
        times.append(time.perf_counter() - t)
    one = sorted(times)[1]
    budgets = np.linspace(0.5, 1.5, 20) * spec.budget
    print(f"\n== {name}: one allocate {one:.2f} s ==")
    first = None
    for label, forced in STRATEGIES.items():
        try:
            secs, points = run(curves, spec, budgets, forced)
        except SolverError as e:  # a warm re-solve past HiGHS's time limit (60 s a run)
            print(f"{label:48s} failed: {e}")
            continue
        first = first or points
        diff = max(
            abs(p["expected_results"] - q["expected_results"]) / q["expected_results"]
            for p, q in zip(points, first, strict=True)
        )
        print(f"{label:48s} {secs:8.2f} s {secs / one:6.2f}x  max rel. diff {diff:.1e}")


def main() -> None:
    """Run the sizes asked for (21k and 130k unless told)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="21k,130k", help="of " + ",".join(SIZES))
    for name in ap.parse_args().sizes.split(","):
        bench(name.strip())


if __name__ == "__main__":
    main()
