"""Optimizer benchmark: ``allocate`` against the same LP handed to highspy as arrays.

    python benchmarks/bench_optimizer.py [--quick]

Prints one table per size (8x25x13x8 ~ 21k variables, 10x100x13x10 ~ 130k):
- raw highspy: the model's arrays (pre-built, column-wise) -> ``Highs.passModel`` -> ``run``,
  under several settings (presolve on/off, dual simplex, interior point); the best is the
  baseline;
- ``allocate`` (curves + spec -> Plan: spec checks, array build, solve, duals, unfunded lines)
  with HiGHS (tuned settings) and with CBC through PuLP;
- a 20-budget frontier on the first size against one allocate;
- peak memory (ru_maxrss) of a fresh process running allocate at ~130k variables.
Medians of a few repeats; the target ratios are those of issue 3 (2.5x, 5x, 1 GB).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from optimizer import PlanSpec, allocate, frontier  # noqa: E402
from optimizer.model import build_model  # noqa: E402
from optimizer.solvers import HIGHS_LP_OPTIONS, HighsSolver, crash_basis  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402

SIZES = [(8, 25, 13, 8), (10, 100, 13, 10)]
RAW_SETTINGS = {
    "default (presolve on)": {},
    "presolve off, dual simplex": {"presolve": "off", "solver": "simplex", "simplex_strategy": 1},
    "presolve on, dual simplex": {"presolve": "on", "solver": "simplex", "simplex_strategy": 1},
    "presolve off, ipm": {"presolve": "off", "solver": "ipm"},
}


def median_time(fn, repeats: int) -> tuple[float, object]:
    """Return median wall seconds of ``fn()`` and its last result; CPU seconds go to ``CPU``.

    The machine this runs on is often shared, so CPU time (``time.process_time``: this
    process only) is printed beside wall time; ratios are given for both.
    """
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    CPU[id(fn)] = statistics.median(cpus)
    LAST_CPU[0] = statistics.median(cpus)
    return statistics.median(walls), out


CPU: dict = {}
LAST_CPU = [0.0]


def row(what: str, wall: float) -> float:
    """Print one table row (wall and last CPU seconds); return the CPU seconds."""
    print(f"{what:56s} {wall:9.3f} {LAST_CPU[0]:9.3f}")
    return LAST_CPU[0]


def raw_highs(model, options: dict, crash: bool = False) -> float:
    """Time passModel + run on built arrays (what 'handing highspy the arrays' costs).

    The model goes in as allocate passes it (``HighsSolver``: output off, ``passModel``,
    ``options``), then highspy runs it directly, without allocate's basis and result
    handling. With ``crash`` the greedy starting basis that allocate uses is set too.
    """
    import highspy

    h = HighsSolver(model, options, crash=False).h
    if crash:
        h.setBasis(crash_basis(model))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    _ = h.getSolution().row_dual


def peak_memory_mb(dims) -> float:
    """Return the peak memory (MB) of a fresh process running allocate on ``dims``."""
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from optimizer import allocate, PlanSpec\n"
        "from optimizer.synthetic import synthetic_curves, benchmark_spec_dict\n"
        f"c = synthetic_curves(*{dims!r})\n"
        "p = allocate(c, PlanSpec.from_dict(benchmark_spec_dict(c)))\n"
        "d = p.to_dict()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # KiB on Linux


def bench_size(dims, summary: list) -> None:
    """Print the table of one size (and, for the small size, the frontier); add to ``summary``."""
    big = dims[1] >= 100
    reps = 3 if big else 9
    curves = synthetic_curves(*dims)
    spec = PlanSpec.from_dict(benchmark_spec_dict(curves))
    model = build_model(curves, spec)
    n_rules = len(spec.networks) + len(spec.segments) + len(spec.periods)
    print(
        f"\n== {'x'.join(map(str, dims))}: {model.n_col:,} variables, {model.n_row} rows, "
        f"{len(model.data):,} nonzeros, {n_rules} group rules =="
    )
    print(f"{'what':56s} {'wall s':>9s} {'cpu s':>9s}")
    raw, raw_cpu = {}, {}
    for name, opts in RAW_SETTINGS.items():
        r = 1 if (big and opts.get("presolve", "on") == "on") else reps
        raw[name], _ = median_time(lambda o=opts: raw_highs(model, o), r)
        raw_cpu[name] = row(f"raw highspy arrays, {name}", raw[name])
    best = min(raw, key=raw.get)
    lp_opts = RAW_SETTINGS["presolve off, dual simplex"]
    t_crash, _ = median_time(lambda: raw_highs(model, lp_opts, crash=True), reps)
    c_crash = row("raw highspy arrays, same + allocate's crash basis", t_crash)
    t, _ = median_time(lambda: build_model(curves, spec), reps)
    row("allocate step: build arrays (spec checks + model)", t)
    t, _ = median_time(lambda: HighsSolver(model), reps)
    row("allocate step: pass to HiGHS", t)
    t, _ = median_time(lambda: HighsSolver(model).solve(), reps)
    row("allocate step: pass + solve (tuned, crash basis)", t)
    t_alloc, plan = median_time(lambda: allocate(curves, spec), reps)
    c_alloc = row("allocate(solver='highs'), total", t_alloc)
    t, _ = median_time(lambda: HighsSolver(model, {"presolve": "on"}, crash=False).solve(), 1)
    row("allocate pipeline, HiGHS defaults (presolve on)", t)
    t_cbc, plan_cbc = median_time(lambda: allocate(curves, spec, solver="cbc"), 1)
    row("allocate(solver='cbc'), total (PuLP build + CBC)", t_cbc)
    gap = abs(plan.expected_results - plan_cbc.expected_results) / plan.expected_results
    print(
        f"allocate / best raw ({best}): wall {t_alloc / raw[best]:.2f}x, "
        f"cpu {c_alloc / raw_cpu[best]:.2f}x (target <= 2.5x)"
    )
    print(
        f"allocate / raw with the same crash basis: wall {t_alloc / t_crash:.2f}x, "
        f"cpu {c_alloc / c_crash:.2f}x; HiGHS vs CBC optimum rel. gap {gap:.1e}"
    )
    summary.append((dims, model.n_col, t_alloc, raw[best], t_cbc))
    if not big:
        budgets = np.linspace(spec.budget * 0.5, spec.budget * 1.5, 20)
        t_front, pts = median_time(lambda: frontier(curves, spec, budgets), 9)
        c_front = row("frontier, 20 budgets (0.5x..1.5x), one warm model", t_front)
        fresh = [allocate(curves, spec.with_budget(b)).expected_results for b in budgets[::5]]
        err = max(abs(p["expected_results"] - f) / f for p, f in zip(pts[::5], fresh, strict=True))
        print(
            f"frontier / one allocate: wall {t_front / t_alloc:.2f}x, cpu "
            f"{c_front / c_alloc:.2f}x (target <= 5x); max rel. diff vs fresh solves {err:.1e}"
        )


def main() -> None:
    """Run the benchmark for each size and print the tables."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="first size only, fewer repeats")
    args = ap.parse_args()
    sizes = SIZES[:1] if args.quick else SIZES
    print(f"HiGHS settings used by allocate: {HIGHS_LP_OPTIONS}")
    summary = []
    for dims in sizes:
        bench_size(dims, summary)
    if not args.quick:
        mem = peak_memory_mb(SIZES[1])
        print(
            f"\npeak memory, fresh process, allocate + to_dict at 130k variables: {mem:,.0f} MB "
            "(target < 1024 MB)"
        )
    print(
        f"\n(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
