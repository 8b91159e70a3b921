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
from optimizer.solvers import HIGHS_LP_OPTIONS, HighsSolver, _csc, crash_basis  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402

SIZES = [(8, 25, 13, 8), (10, 100, 13, 10)]
RAW_SETTINGS = {
    "default (presolve on)": {},
    "presolve off, dual simplex": {"presolve": "off", "solver": "simplex", "simplex_strategy": 1},
    "presolve on, dual simplex": {"presolve": "on", "solver": "simplex", "simplex_strategy": 1},
    "presolve off, ipm": {"presolve": "off", "solver": "ipm"},
}


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def raw_highs(model, options: dict, crash: bool = False) -> float:
    """Arrays already built: passModel + run (what 'handing highspy the arrays' costs).

    With ``crash`` the greedy starting basis that allocate uses is computed and set too.
    """
    import highspy

    start, index, value = _csc(model)
    t = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in options.items():
        h.setOptionValue(k, v)
    h.passModel(
        model.n_col,
        model.n_row,
        len(value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize),
        0.0,
        model.c,
        model.col_lb,
        model.col_ub,
        model.row_lb,
        model.row_ub,
        start,
        index,
        value,
        np.zeros(model.n_col, dtype=np.int32),
    )
    if crash:
        h.setBasis(crash_basis(model))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    _ = h.getSolution().row_dual
    return time.perf_counter() - t


def peak_memory_mb(dims) -> float:
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
    big = dims[1] >= 100
    reps = 2 if big else 5
    curves = synthetic_curves(*dims)
    spec = PlanSpec.from_dict(benchmark_spec_dict(curves))
    model = build_model(curves, spec)
    print(
        f"\n== {'x'.join(map(str, dims))}: {model.n_col:,} variables, {model.n_row} rows, "
        f"{len(model.data):,} nonzeros, {len(spec.networks) + len(spec.segments) + len(spec.periods)} "
        "group rules =="
    )
    print(f"{'what':52s} {'seconds':>9s}")
    raw = {}
    for name, opts in RAW_SETTINGS.items():
        r = 1 if (big and opts.get("presolve", "on") == "on") else reps
        raw[name], _ = median_time(lambda o=opts: raw_highs(model, o), r)
        print(f"{'raw highspy arrays, ' + name:52s} {raw[name]:9.3f}")
    best_name = min(raw, key=raw.get)
    lp_opts = RAW_SETTINGS["presolve off, dual simplex"]
    t_crash, _ = median_time(lambda: raw_highs(model, lp_opts, crash=True), reps)
    print(f"{'raw highspy arrays, same + allocate crash basis':52s} {t_crash:9.3f}")
    t_build, _ = median_time(lambda: build_model(curves, spec), reps)
    t_pass, hs = median_time(lambda: HighsSolver(model), reps)
    t_solve, _ = median_time(lambda: HighsSolver(model).solve(), reps)
    print(f"{'allocate: build arrays (spec checks + model)':52s} {t_build:9.3f}")
    print(f"{'allocate: pass to HiGHS':52s} {t_pass:9.3f}")
    print(f"{'allocate: pass + solve (tuned)':52s} {t_solve:9.3f}")
    t_alloc, plan = median_time(lambda: allocate(curves, spec), reps)
    print(f"{'allocate(solver=highs), total':52s} {t_alloc:9.3f}")
    for name, opts in (("presolve on", {"presolve": "on"}),):
        t_on, _ = median_time(lambda o=opts: HighsSolver(model, o, crash=False).solve(), 1)
        print(f"{'allocate pipeline with HiGHS ' + name:52s} {t_on:9.3f}")
    t_cbc, plan_cbc = median_time(lambda: allocate(curves, spec, solver="cbc"), 1)
    print(f"{'allocate(solver=cbc) (PuLP build + CBC), total':52s} {t_cbc:9.3f}")
    gap = abs(plan.expected_results - plan_cbc.expected_results) / plan.expected_results
    ratio = t_alloc / raw[best_name]
    print(
        f"allocate / best raw ({best_name}) = {ratio:.2f}x (target <= 2.5x); "
        f"allocate / raw with the same crash basis = {t_alloc / t_crash:.2f}x; "
        f"HiGHS vs CBC optimum rel. gap {gap:.1e}"
    )
    summary.append((dims, model.n_col, t_alloc, raw[best_name], ratio, t_cbc))
    if not big:
        lo, hi = spec.budget * 0.5, spec.budget * 1.5
        budgets = np.linspace(lo, hi, 20)
        t_front, pts = median_time(lambda: frontier(curves, spec, budgets), 3)
        fresh = [allocate(curves, spec.with_budget(b)).expected_results for b in budgets[::5]]
        err = max(abs(p["expected_results"] - f) / f for p, f in zip(pts[::5], fresh, strict=True))
        print(f"{'frontier, 20 budgets (0.5x..1.5x), one warm model':52s} {t_front:9.3f}")
        print(
            f"frontier / one allocate = {t_front / t_alloc:.2f}x (target <= 5x); "
            f"max rel. diff vs fresh solves {err:.1e}"
        )


def main() -> None:
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
