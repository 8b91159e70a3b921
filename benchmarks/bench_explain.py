"""What the explanations cost: each line's reason, the ledger's re-solves, the tie ranging.

    python benchmarks/bench_explain.py [--quick]

For the benchmark spec on synthetic curves (8x25x13x8 ~ 21k variables, 2,600 lines; and
10x100x13x10 ~ 130k, 13,000 lines) and for the demo's curves and spec, it times
``allocate`` as a whole (its lines and constraints made: they are made when first read) and
its parts: the solve, the reasons of every line
(``explain.line_reasons``) and the ledger (``ledger.rule_costs``: one exact re-solve per
binding rule, warm from allocate's HiGHS basis). Medians of a few repeats; wall seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from optimizer import PlanSpec, allocate  # noqa: E402
from optimizer.explain import line_reasons  # noqa: E402
from optimizer.ledger import rule_costs  # noqa: E402
from optimizer.model import build_model  # noqa: E402
from optimizer.plan import _terms  # noqa: E402
from optimizer.solvers import make_solver  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402

SIZES = [(8, 25, 13, 8), (10, 100, 13, 10)]


def median(fn, repeats: int) -> tuple[float, object]:
    """Return the median wall seconds of ``fn()`` and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _made(plan):
    """Return ``plan`` with its lines (and their reasons) and its constraints made."""
    _ = tuple(plan.lines), tuple(plan.constraints)
    return plan


def parts(curves, spec: PlanSpec, solver: str, repeats: int) -> dict:
    """Time allocate, then its solve, reasons and ledger apart, on the same model."""
    total, plan = median(lambda: _made(allocate(curves, spec, solver=solver)), repeats)
    model = build_model(curves, spec)
    s = make_solver(model, solver)
    solve, sol = median(s.solve, 1)
    on = np.round(sol.x[model.binary_cols]) > 0.5 if model.is_mip else None
    terms = _terms(model, curves, spec)
    reasons, _ = median(lambda: line_reasons(model, sol, on, terms), repeats)
    rows = [model.row_index(c.name) for c in plan.ledger()]
    highs = s if solver == "highs" else None
    ledger, _ = median(lambda: rule_costs(model, sol, rows, solver=highs), repeats)
    return {
        "lines": len(model.lines),
        "vars": model.n_col,
        "allocate": total,
        "solve": solve,
        "reasons": reasons,
        "ledger": ledger,
        "rules re-solved": len(rows),
        "ties": sum(1 for ln in plan.lines if ln.limited_by.cause == "tie"),
    }


def demo_problem():
    """Return the demo's curves and spec, as `adplan demo` writes them."""
    import yaml

    from scenarios.demo import run_demo

    out = Path("/tmp/adplan-bench-explain-demo")
    if not (out / "curves.json").exists():
        run_demo(out)
    from optimizer import load_curves, load_spec

    spec = yaml.safe_load((out / "spec.yaml").read_text())
    return load_curves(out / "curves.json"), spec, load_spec(out / "spec.yaml")


def main() -> None:
    """Print one row per problem and solver."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="first size only, fewer repeats")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    rows = []
    for dims in SIZES[:1] if args.quick else SIZES:
        curves = synthetic_curves(*dims, seed=0)
        spec = PlanSpec.from_dict(benchmark_spec_dict(curves))
        rows.append(("x".join(map(str, dims)), "highs", parts(curves, spec, "highs", repeats)))
    curves, raw, spec = demo_problem()
    for solver in ("highs", "cbc"):
        rows.append(("demo", solver, parts(curves, spec, solver, repeats)))
    onoff = PlanSpec.from_dict({**raw, "max_active_lines": 300})
    rows.append(("demo, max 300 lines on", "highs", parts(curves, onoff, "highs", 1)))
    keys = list(rows[0][2])
    print(f"{'problem':24} {'solver':6} " + " ".join(f"{k:>15}" for k in keys))
    for name, solver, r in rows:
        cells = [f"{v:15.3f}" if isinstance(v, float) else f"{v:15,}" for v in r.values()]
        print(f"{name:24} {solver:6} " + " ".join(cells))


if __name__ == "__main__":
    main()
