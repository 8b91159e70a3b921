"""What each binding rule really costs: the objective gained if it were removed, re-solved.

A shadow price is a rate at the margin: the results one more unit of a rule's limit would
bring. Times the rule's size it is not what the rule costs (the rate changes as the limit
moves, and other rules take over). The ledger removes each binding rule in turn (its row's
bounds made infinite) and re-solves exactly, warm from the last basis (HiGHS), so the cost
shown is measured. An on/off plan is re-solved with its on/off search within the time left;
a gain found when the search stopped at its limit is a lower bound (``proven`` false).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .model import Model
from .solvers import RESTART_COLUMNS, HighsSolver, Solution, crash_basis, make_solver
from .sortfill import SortFill, SortSolver

#: the most rules re-solved for one plan (the most costly by shadow price first)
MAX_RULES = 100
#: seconds the re-solves may take together, at most (the rest are left without a cost)
MAX_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class RuleCost:
    """The objective gained if the rule of row ``row`` were removed (None: not re-solved)."""

    row: int
    gain: float | None
    proven: bool


def rule_costs(
    model: Model,
    sol: Solution,
    rows: list[int],
    *,
    time_limit: float | None = None,
    solver=None,
) -> list[RuleCost]:
    """Return the gain of removing each of ``rows`` (binding rules), most costly first by price.

    ``solver``: what solved ``model``: the HiGHS solver (its basis is the start of the first
    re-solve; any other LP solver: a HiGHS one is built and solved first) or the
    :class:`~optimizer.sortfill.SortSolver` (rules removed on the sorted tiers, exactly).
    """
    order = sorted(rows, key=lambda r: -abs(float(sol.row_dual[r])))
    deadline = time.perf_counter() + min(MAX_SECONDS, time_limit or MAX_SECONDS)
    if isinstance(solver, SortSolver):  # the plan came from the sort, or from its LP
        solver = solver.fill if sol.method == "sort" else solver.lp
    if isinstance(solver, SortFill):
        run = solver.gain  # exact on the sorted tiers (optimizer/sortfill.py)
    elif model.is_mip:
        on = np.round(sol.x[model.binary_cols])
        run = _mip_runner(model, float(sol.objective), on, deadline)
    else:
        run = _lp_runner(model, solver if isinstance(solver, HighsSolver) else None)
    out = []
    for n, r in enumerate(order):
        if n >= MAX_RULES or time.perf_counter() > deadline:
            out.append(RuleCost(r, None, False))
            continue
        gain, proven = run(r)
        out.append(RuleCost(r, None if gain is None else max(gain, 0.0), proven))
    return out


def _lp_runner(model: Model, solver: HighsSolver | None):
    """Return a function: the gain of the LP optimum with row ``r`` removed (warm started).

    The gain is measured against HiGHS's own optimum with the row, so both sides share its
    precision whichever solver made the plan.
    """
    if solver is not None and solver.model is model and not model.is_mip:
        h, objective = solver, float(solver.h.getInfo().objective_function_value)
    else:
        h = HighsSolver(model)
        first = h.solve()
        objective = first.objective if first.optimal else float("nan")
    inf = h.hs.kHighsInf

    def run(r: int) -> tuple[float | None, bool]:
        if not np.isfinite(objective):
            return None, False
        h.h.changeRowBounds(r, -inf, inf)
        if model.n_col >= RESTART_COLUMNS and h.usable_crash():  # cold beats warm at scale
            h.h.setBasis(_crash_without(model, r, h))
        res = h.run_lp(MAX_SECONDS)
        lb, ub = model.row_lb[r], model.row_ub[r]
        h.h.changeRowBounds(r, lb if np.isfinite(lb) else -inf, ub if np.isfinite(ub) else inf)
        return (None, False) if res.x is None else (res.objective - objective, True)

    return run


def _crash_without(model: Model, r: int, h: HighsSolver):
    """Return the crash basis of ``model`` with row ``r`` removed (no budget: all tiers up)."""
    lb, ub = model.row_lb.copy(), model.row_ub.copy()
    lb[r], ub[r] = -np.inf, np.inf
    return crash_basis(replace(model, row_lb=lb, row_ub=ub), order=h.crash_order())


def _mip_runner(model: Model, base: float, on: np.ndarray, deadline: float):
    """Return a function: the gain of the on/off optimum with row ``r`` removed (time left)."""

    def run(r: int) -> tuple[float | None, bool]:
        lb, ub = model.row_lb.copy(), model.row_ub.copy()
        lb[r], ub[r] = -np.inf, np.inf
        left = max(deadline - time.perf_counter(), 0.05)
        solver = make_solver(replace(model, row_lb=lb, row_ub=ub), "highs", time_limit=left)
        solver.start = on  # the plan's switches hold without the rule: a plan to start from
        s = solver.solve()
        if not s.has_plan:
            return None, False
        return float(s.objective) - base, s.optimal

    return run
