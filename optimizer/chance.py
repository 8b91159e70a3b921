"""The smallest budget whose plan reaches a target with a given probability.

``--target-results N`` alone finds the least spend whose *expected* results reach ``N``
(``allocate.min_budget_for_results``): a coin toss. With ``--confidence c`` the budget is
raised until the plan adplan makes at that budget (the one with the most expected results)
reaches ``N`` in a share ``c`` of the worlds of its ranges (``optimizer/risk.py``; on curves
of incremental results they draw the lift tests' uncertainty too, as the plan's ranges do):
the same worlds at every budget, so the chance grows with the budget and a bisection finds
it, to :data:`BUDGET_RTOL` of the budget.
For results that do not add up across periods (reach) the target counts the sum of the
periods' results (person-periods), what the plan maximises.
"""

from __future__ import annotations

import time
from dataclasses import replace

from .allocate import summed_words
from .curves import Curves
from .errors import InfeasibleError, SolverError, SpecError
from .model import build_model
from .plan import Plan, _line_spend, line_results, read_plan, target_notes
from .risk import RANGE_SCENARIOS, SEED, draw_world, draws_lift, with_ranges
from .rules import fmt
from .solvers import Solution, make_solver
from .spec import MAX_BUDGET, PlanSpec

#: the budget found is within this share of the least that reaches the confidence
BUDGET_RTOL = 1e-3


def check_confidence(value) -> float:
    """Return ``value`` as a probability strictly between 0 and 1; SpecError if it is not."""
    try:
        c = float(value)
    except (TypeError, ValueError):
        c = float("nan")
    if not 0 < c < 1:
        raise SpecError(
            f"confidence: must be above 0 and below 1 (0.9: reached in 9 worlds out of 10), "
            f"got {value!r}"
        )
    return c


class _Chance:
    """The chance of reaching the target at a budget: one model, re-solved warm, one world."""

    def __init__(self, curves: Curves, spec: PlanSpec, target: float, solver, time_limit):
        self.model = build_model(curves, replace(spec, objective="results", alpha=None))
        self.solver = make_solver(self.model, solver, time_limit=time_limit)
        # the worlds of the plan's ranges (:func:`~optimizer.risk.plan_simulation`)
        lift = draws_lift(curves)
        self.world = draw_world(self.model.lines, RANGE_SCENARIOS, SEED, lift=lift)
        self.target = target
        #: the solution at each budget tried (the plan returned is the one searched)
        self.solutions: dict[float, Solution] = {}
        #: the whole search shares the time limit
        self.limit = self.solver.time_limit
        self.deadline = time.perf_counter() + self.limit

    def _out_of_time(self, budget: float) -> SolverError:
        return SolverError(
            f"the search for the budget ran out of its time limit ({self.limit:g} s) at a "
            f"budget of {fmt(budget)}; raise it (--time-limit, ADPLAN_TIME_LIMIT) or try the "
            "other solver (--solver)"
        )

    def at(self, budget: float) -> float | None:
        """Return the chance of the plan at ``budget`` (None: the rules cannot hold there).

        SolverError when the search's time limit is spent (an on/off search that stopped
        without a plan says nothing of whether the rules hold).
        """
        m = self.model
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise self._out_of_time(budget)
        self.solver.time_limit = left
        self.solver.set_row_upper(m.budget_row, budget)
        m.row_ub[m.budget_row] = budget
        sol = self.solver.solve()
        if sol.status == "time_limit" and not sol.has_plan:
            raise self._out_of_time(budget)
        if not sol.has_plan:
            return None
        self.solutions[budget] = sol
        spend = _line_spend(m, sol)
        mean, _ = line_results(m, spend)
        total = self.world.results(spend, mean).sum(axis=1)
        return float((total >= self.target * (1 - 1e-12)).mean())


def min_budget_for_chance(
    curves: Curves,
    spec: PlanSpec,
    target: float,
    confidence: float,
    *,
    start: Plan,
    solver: str | None = None,
    time_limit: float | None = None,
) -> Plan:
    """Return the plan at the smallest budget reaching ``target`` with probability ``confidence``.

    ``start`` is the plan whose expected results reach the target (its budget brackets the
    search from below when its chance is short of ``confidence``). InfeasibleError when even
    every line at the end of its curve does not reach the confidence.
    """
    t0 = time.perf_counter()
    confidence = check_confidence(confidence)
    ch = _Chance(curves, spec, target, solver, time_limit)
    if ch.world.kind == "none":
        raise SpecError(
            "confidence: the curves carry no uncertainty (no line has a spread or low/high, "
            "nor, on curves of incremental results, a lift interval), so every target is "
            "reached for sure or not at all; forecast the curves with adplan, or give "
            "--target-results alone"
        )
    top = min(sum(ln.max_spend for ln in ch.model.lines), MAX_BUDGET)
    lo = hi = max(start.total_spend, BUDGET_RTOL * top)  # above 0: doubling must move it
    p_hi = ch.at(hi)
    if p_hi is not None and p_hi >= confidence:
        lo = 0.0
    while p_hi is None or p_hi < confidence:
        if hi >= top:
            raise _short(curves, target, confidence, p_hi, top)
        lo, hi = hi, min(2 * hi, top)
        p_hi = ch.at(hi)
    while hi - lo > BUDGET_RTOL * hi:
        mid = 0.5 * (lo + hi)
        p = ch.at(mid)
        lo, hi = (lo, mid) if p is not None and p >= confidence else (mid, hi)
    # the plan at that budget is the one searched (the same solution, the same worlds), read
    # on the model built at that budget: its rules say the budget found
    at = replace(spec, objective="results", alpha=None).with_budget(hi)
    plan = read_plan(build_model(curves, at), ch.solutions[hi], curves=curves, spec=at)
    plan = with_ranges(replace(target_notes(plan, spec.objective), target_results=target), curves)
    note = (
        f"the smallest budget ({fmt(hi)} {curves.currency}) at which the plan reaches "
        f"{fmt(target)} {summed_words(curves)} with probability {confidence:g}: reached in "
        f"{plan.target_probability:.1%} of {ch.world.scenarios:,} scenarios (the least spend "
        f"whose expected results reach it, {fmt(start.total_spend)}, does in "
        f"{_pct(start.target_probability)})"
    )
    seconds = {**plan.solver, "seconds": time.perf_counter() - t0}  # the whole search's time
    return replace(plan, target_confidence=confidence, notes=(*plan.notes, note), solver=seconds)


def _pct(p: float | None) -> str:
    return "?" if p is None else f"{p:.1%}"


def _short(curves: Curves, target: float, confidence: float, p, top: float) -> InfeasibleError:
    reach = 0.0 if p is None else p
    msg = (
        f"no budget reaches {fmt(target)} {summed_words(curves)} with probability "
        f"{confidence:g}: with every line at the end of its curve ({fmt(top)} "
        f"{curves.currency}) the chance is {reach:.1%}; lower the target or the confidence"
    )
    item = {"rule": "target_results", "needed": confidence, "available": reach,
            "relax_by": confidence - reach, "message": msg}  # fmt: skip
    return InfeasibleError(msg, [item])
