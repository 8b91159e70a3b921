"""Risk benchmark: ranges, the budget for a chance, and the risk-aware (CVaR) plan.

    python benchmarks/bench_risk.py [--repeats N] [--scenarios K]

On 2,600 seeded lines with a forecast's uncertainty (``synthetic_curves(spread=True)``:
8 networks x 25 segments x 13 weeks, 8 tiers each) and the ~65-rule benchmark spec:

- the mean plan: ``allocate`` without ranges (the LP, reasons and ledger) and with them (+ the
  2,000-world simulation);
- the risk-aware plan (``objective: cvar``, alpha 0.1, 200 scenarios by default): the whole
  call, and its LP (scenario curves, build and solve), with the LP's rows, columns and
  nonzeros; the ratio to the mean plan (issue 14 aims for 20x);
- the smallest budget reaching the mean plan's expected results with probability 0.9;
- what the risk-aware plan gains in P10 and gives up in mean, on worlds it was not built on.

Medians of ``--repeats`` runs, wall and CPU seconds (the machine may be shared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import allocate, min_budget_for_results, risk  # noqa: E402
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """Return the median wall and CPU seconds of ``fn()`` and its last result.

    Each run starts cold: the worlds' draws kept from the run before are dropped.
    """
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        risk._draws.cache_clear()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def row(what: str, wall: float, cpu: float) -> None:
    """Print one table row: what was timed, wall and CPU seconds."""
    print(f"{what:58s} {wall:9.3f} {cpu:9.3f}")


def main() -> None:
    """Time the mean plan, the risk-aware plan and the budget for a chance; print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenarios", type=int, default=200)
    args = ap.parse_args()
    curves = synthetic_curves(spread=True)
    spec = benchmark_spec_dict(curves)
    print(f"{len(curves.lines)} lines, {args.scenarios} scenarios, budget {spec['budget']:,.0f}")
    print(f"{'':58s} {'wall s':>9s} {'cpu s':>9s}")
    w0, c0, _ = timed(lambda: allocate(curves, spec, with_ranges=False), args.repeats)
    row("mean plan: allocate, no ranges", w0, c0)
    w1, c1, mean = timed(lambda: allocate(curves, spec), args.repeats)
    row("mean plan: allocate with ranges (2,000 worlds)", w1, c1)
    cvar_spec = {**spec, "objective": "cvar", "alpha": 0.1}
    from optimizer import cvar

    w2, c2, plan = timed(lambda: cvar.allocate_cvar(curves, _spec(cvar_spec),
                                                    scenarios=args.scenarios), args.repeats)  # fmt: skip
    row("risk-aware plan: allocate (objective cvar)", w2, c2)
    lp = plan.risk["lp"]
    row("  of which its LP: scenario curves, build, solve", lp["seconds"], float("nan"))
    print(f"  LP size: {lp['rows']:,} rows, {lp['columns']:,} columns, {lp['nonzeros']:,} nonzeros")
    print(f"  ratio to the mean plan with ranges: {w2 / w1:.1f}x wall, {c2 / c1:.1f}x cpu")
    print(f"  ratio to the mean plan without ranges: {w2 / w0:.1f}x wall, {c2 / c0:.1f}x cpu")
    r = plan.risk
    print(
        f"  P10 {r['mean_plan']['p10']:,.0f} -> {r['this_plan']['p10']:,.0f} "
        f"({r['p10_gained']:+,.0f}); mean {r['mean_plan']['mean']:,.0f} -> "
        f"{r['this_plan']['mean']:,.0f} (gives up {r['mean_results_given_up']:,.0f}); "
        f"tail mean {r['tail_mean_gained']:+,.0f}"
    )
    target = mean.expected_results
    w3, c3, sure = timed(lambda: min_budget_for_results(curves, spec, target, confidence=0.9), 1)
    row("budget for the mean plan's results with probability 0.9", w3, c3)
    print(f"  budget {mean.total_spend:,.0f} -> {sure.total_spend:,.0f} "
          f"(chance {sure.target_probability:.3f})")  # fmt: skip


def _spec(d: dict):
    from optimizer import PlanSpec

    return PlanSpec.from_dict(d)


if __name__ == "__main__":
    main()
