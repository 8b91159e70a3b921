"""On/off plans (``min_line_spend``, ``max_active_lines``) at 100 to 10,000 lines.

    python benchmarks/bench_milp.py [--quick] [--limit SECONDS]

For each size and rule, the wall time, status and proven gap of:
- ``allocate`` with HiGHS and with CBC (adplan's search: tier-level switch rows, Lagrangian
  guess and bound, rounding, then branch and bound; optimizer/mip.py);
- raw HiGHS branch and bound on the formulation main had before (one ``spend <= capacity x
  on`` row per line, a big-M), and, for ``min_line_spend``, on HiGHS's native
  semi-continuous line-spend columns (no binaries), each under the same time limit.
Curves: ``synthetic_curves`` (8 networks x 25 segments x periods, 8 tiers), budget a quarter
of capacity, ``min_line_spend`` 1,900 (about the 60th percentile of the LP's line spends),
``max_active_lines`` 60% of the lines the LP funds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from optimizer import allocate  # noqa: E402
from optimizer.model import build_model  # noqa: E402
from optimizer.solvers import HIGHS_MIP_OPTIONS, quiet_stdout  # noqa: E402
from optimizer.spec import PlanSpec  # noqa: E402
from optimizer.synthetic import synthetic_curves  # noqa: E402

SIZES = {100: (4, 5, 5), 1000: (8, 25, 5), 2000: (8, 25, 10), 10000: (8, 25, 50)}


def case(n: int, rule: str):
    """Return the curves and spec of ``n`` lines under ``rule``."""
    curves = synthetic_curves(*SIZES[n], seed=1)
    cap = sum(ln.points[-1][0] for ln in curves.lines)
    spec = {"budget": round(cap * 0.25)}
    if rule == "min_line_spend":
        spec["min_line_spend"] = 1900.0
    else:
        funded = sum(1 for ln in allocate(curves, spec).lines if ln.spend > 0)
        spec["max_active_lines"] = int(funded * 0.6)
    return curves, spec


def highs_raw(model, limit: float, *, semi: bool) -> tuple[float, str, float]:
    """Branch and bound on the line-level big-M rows (or semi-continuous spend) by HiGHS."""
    import highspy

    m = model
    keep = [i for i in range(m.n_row) if i not in set(m.activation_rows.tolist())]
    rows = [
        (m.indices[m.indptr[i] : m.indptr[i + 1]], m.data[m.indptr[i] : m.indptr[i + 1]])
        for i in keep
    ]
    lb, ub = list(m.row_lb[keep]), list(m.row_ub[keep])
    n = len(m.lines)
    caps = np.add.reduceat(m.col_ub[: m.n_tier], m.tier_start[:-1])
    mins = np.zeros(n)
    for i in m.activation_rows:
        if m.rows[i].family == "min_line_spend":
            last = m.indptr[i + 1] - 1
            mins[np.searchsorted(m.binary_cols, m.indices[last])] = -m.data[last]
    c, cl, cu = list(m.c), list(m.col_lb), list(m.col_ub)
    integ = [0] * m.n_col
    for li in range(n):
        cols = np.arange(m.tier_start[li], m.tier_start[li + 1])
        y = int(m.binary_cols[li])
        if semi:  # spend_l = sum of tiers, semi-continuous in {0} u [m, cap]; no binary
            j = len(c)
            c.append(0.0), cl.append(mins[li]), cu.append(float(caps[li])), integ.append(2)
            rows.append((np.append(cols, j), np.append(np.ones(len(cols)), -1.0)))
            lb.append(0.0), ub.append(0.0)
            cu[y] = 0.0
            continue
        integ[y] = 1
        rows.append((np.append(cols, y), np.append(np.ones(len(cols)), -caps[li])))
        lb.append(-np.inf), ub.append(0.0)
        if mins[li] > 0:
            rows.append((np.append(cols, y), np.append(np.ones(len(cols)), -mins[li])))
            lb.append(0.0), ub.append(np.inf)
    with quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), len(rows)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, cl, cu
    lp.row_lower_, lp.row_upper_ = lb, ub
    lp.sense_ = highspy.ObjSense.kMaximize
    starts, idx, val = [0], [], []
    for r_idx, r_val in rows:
        idx.extend(r_idx.tolist()), val.extend(r_val.tolist())
        starts.append(len(idx))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, idx, val
    lp.integrality_ = [highspy.HighsVarType(v) for v in integ]
    h.passModel(lp)
    for k, v in {**HIGHS_MIP_OPTIONS, "time_limit": float(limit)}.items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    with quiet_stdout():
        h.run()
    wall = time.perf_counter() - t0
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    return wall, status, float(info.mip_gap)


def adplan(curves, spec, solver: str, limit: float) -> tuple[float, str, float, float]:
    """Return the wall time, status, gap and results of ``allocate``."""
    t0 = time.perf_counter()
    plan = allocate(curves, spec, solver=solver, time_limit=limit)
    return time.perf_counter() - t0, plan.status, plan.solver["gap"], plan.expected_results


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100 and 1,000 lines only")
    ap.add_argument("--limit", type=float, default=60.0, help="time limit of every solve")
    ap.add_argument("--sizes", default="", help="comma-separated line counts")
    ap.add_argument("--adplan-only", action="store_true", help="skip the raw HiGHS rows")
    args = ap.parse_args()
    sizes = [100, 1000] if args.quick else list(SIZES)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    print(f"time limit {args.limit:g} s per solve; wall seconds, status, proven gap")
    print(f"{'lines':>6} {'rule':<17} {'how':<34} {'seconds':>8} {'status':<12} {'gap':>9}")
    for n in sizes:
        for rule in ("min_line_spend", "max_active_lines"):
            curves, spec = case(n, rule)
            ref = None
            for solver in ("highs", "cbc"):
                wall, status, gap, res = adplan(curves, spec, solver, args.limit)
                ref = ref if ref is not None else res
                print(
                    f"{n:>6} {rule:<17} {'adplan allocate, ' + solver:<34} {wall:8.2f} "
                    f"{status:<12} {gap:9.2e}   results {res:,.2f}",
                    flush=True,
                )
            if args.adplan_only:
                continue
            model = build_model(curves, PlanSpec.from_dict(spec))
            kinds = [("HiGHS, line-level big-M (before)", False)]
            if rule == "min_line_spend":
                kinds.append(("HiGHS, semi-continuous spend", True))
            for label, semi in kinds:
                wall, status, gap = highs_raw(model, args.limit, semi=semi)
                print(
                    f"{n:>6} {rule:<17} {label:<34} {wall:8.2f} {status:<12} {gap:9.2e}", flush=True
                )


if __name__ == "__main__":
    main()
