"""Allocate a budget, sweep budgets (the frontier) and find the budget for a target.

These are the optimizer's public verbs.

Three steps, three functions: :func:`optimizer.model.build_model` (arrays),
:func:`optimizer.solvers.make_solver` (HiGHS arrays or CBC via PuLP) and
:func:`optimizer.plan.read_plan` (spend, results, duals, unfunded lines).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from . import risk
from .curves import Curves, paused_gc
from .diagnose import explain_infeasible
from .errors import InfeasibleError, SolverError, SpecError
from .mip import MIN_SEARCH_SECONDS
from .model import build_model
from .parallel import Executor, run_each
from .plan import (
    TOTALS_ACROSS_PERIODS,
    Plan,
    line_results,
    not_additive_note,
    point_figures,
    read_plan,
    summed_name,
    target_notes,
    time_limited,
)
from .progress import Progress
from .rules import fmt
from .solvers import (
    DEFAULT_SOLVER,
    RESTART_COLUMNS,
    HighsSolver,
    Solution,
    check_solver,
    check_time_limit,
    make_solver,
)
from .sortfill import SortSolver, sort_solver
from .spec import MAX_BUDGET, PlanSpec
from .sweep import Reduced


def summed_words(curves) -> str:
    """Name what a total across periods of ``curves``' results counts.

    The result type; for results that do not add up across periods (reach) the sum of the
    periods' results, which plans maximise and targets count: ``person-periods of reach``.
    """
    return summed_name(curves.result_type, curves.additive)


def _spec(spec) -> PlanSpec:
    if isinstance(spec, PlanSpec):
        return spec
    if isinstance(spec, dict):
        return PlanSpec.from_dict(spec)
    raise SpecError(f"spec: expected a PlanSpec or a mapping, got {type(spec).__name__}")


def _raise_for(sol: Solution, model, budget: float) -> None:
    if sol.status == "infeasible":
        d = explain_infeasible(model, budget)
        raise InfeasibleError(d.message, d.items, d.repairs)
    if sol.status == "time_limit":
        raise SolverError(
            f"{sol.solver} found no plan within the time limit of {sol.time_limit:g} s; "
            "raise it (--time-limit, ADPLAN_TIME_LIMIT) or try the other solver (--solver)"
        )
    raise SolverError(f"the solver stopped without an optimal plan (status: {sol.status})")


def solver_for(model, solver: str | None, time_limit: float | None, *, fast: bool = True):
    """Return what solves ``model``: the sort where its rules allow (``fast``), else the LP.

    The sort (``optimizer/sortfill.py``) holds a budget and limits on single lines exactly
    and hands a budget it cannot decide to the LP solver ``solver`` (built then); any other
    rule goes to the LP solver directly. Raises SpecError for an unknown solver or limit.
    """
    name = check_solver(solver or DEFAULT_SOLVER)
    limit = check_time_limit(time_limit)

    def lp():
        return make_solver(model, name, time_limit=limit)

    s = sort_solver(model, lp, name, limit) if fast else None
    return lp() if s is None else s


def allocate(
    curves: Curves,
    spec: PlanSpec | dict,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    with_ranges: bool = True,
    fast: bool = True,
) -> Plan:
    """Return the plan with the most expected results (or value) under ``spec``.

    ``time_limit`` (seconds, default 60) bounds an on/off plan's search: when it is reached
    the best plan found comes back with status ``time_limit`` and its proven gap
    (``plan.solver["gap"]``). Raises InfeasibleError (with ``.diagnosis``) when the rules
    cannot all hold. The plan carries its ranges (``optimizer/risk.py``) unless
    ``with_ranges`` is false. Under ``objective: cvar`` the plan maximises the mean of its
    worst ``alpha`` share of scenarios (``optimizer/cvar.py``). A plan of a budget and limits
    on single lines only is solved by sorting, exactly (``plan.solver["method"]`` is
    ``sort``; ``fast=False`` always solves the LP).
    """
    t0 = time.perf_counter()
    plan = _allocate(curves, _spec(spec), solver, time_limit, with_ranges, fast)
    # the time of the whole call: the checks, the solve, the ledger (lines: see read_plan)
    return replace(plan, solver={**plan.solver, "seconds": time.perf_counter() - t0})


def _allocate(curves, spec: PlanSpec, solver, time_limit, with_ranges: bool, fast: bool) -> Plan:
    """Return :func:`allocate`'s plan (its ``seconds`` are set by the caller)."""
    if spec.objective == "cvar":
        from .cvar import allocate_cvar

        return allocate_cvar(curves, spec, solver=solver, time_limit=time_limit)
    # the model and the plan make many objects and no cycles: the collector's passes over a
    # large heap cost more than making them (paused_gc); not over an on/off plan's search or
    # its ledger's (up to 60 s and 20 s)
    with paused_gc():
        model = build_model(curves, spec)
    s = solver_for(model, solver, time_limit, fast=fast)
    sol = s.solve()
    if not sol.has_plan:
        _raise_for(sol, model, spec.budget)
    with paused_gc(not model.is_mip):
        plan = read_plan(model, sol, curves=curves, spec=spec, solver=s)
        if with_ranges:
            plan = risk.with_ranges(plan, curves)
    return plan


#: worlds drawn for each frontier point's band (fewer than a plan's: one per budget)
FRONTIER_SCENARIOS = 500


def _point(model, sol, budget: float, world=None, curves=None, per_line=None) -> dict:
    nt = model.n_tier
    x = np.clip(sol.x[:nt], 0.0, model.col_ub[:nt])
    # tiers fill in order, so the curve's results at each line's spend are slope . x
    total = float((model.tier_slope * x).sum())  # not @: BLAS threads cost ms here
    total_spend = float(x.sum())
    if total_spend < 1e-7:
        total_spend = 0.0
    # the budget's price is results per unit of currency only when the plan maximises results
    # (under value or profit it is value per unit): no marginal cost per result then
    dual = float(sol.row_dual[model.budget_row]) if model.objective == "results" else 0.0
    point = {
        "budget": float(budget),
        "expected_results": total,
        "total_spend": total_spend,
        "cost_per_result": total_spend / total if total > 0 else None,
        "marginal_cost_per_result": 1.0 / dual if dual > 1e-12 else None,
        "marginal_results_per_unit": dual if model.objective == "results" else None,
        **dict.fromkeys(risk.BAND_KEYS),  # no range where the curves carry no uncertainty
    }
    ranged = world is not None and world.kind != "none" and _additive(curves)
    if per_line is None:  # a sweep says it once for all its points
        per_line = _per_line(curves)
    if ranged or per_line:
        spend = np.add.reduceat(x, model.tier_start[:-1].astype(np.intp))
        results = line_results(model, spend)[0]
        if ranged:  # the P10-P90 of the total at this budget
            point.update(risk.band(world, spend, results))
        if curves is not None:
            point.update(_figures(model, curves, spend, results))
    elif curves is not None:
        point.update(results_basis=curves.basis, results_additive=curves.additive)
    return point if _additive(curves) else _without_totals(point)


def _additive(curves) -> bool:
    return curves is None or curves.additive


def _per_line(curves) -> bool:
    """Say whether a point's figures need each line's spend and results (see :func:`_figures`).

    They do when the curves carry carry-over or lift, or results that do not add up across
    periods; else a point says only the curves' basis and additivity (no work per line).
    """
    if curves is None:
        return False
    carried = any(ln.inside is not None or ln.lift is not None for ln in curves.lines)
    return carried or not curves.additive


def _figures(model, curves, spend, results) -> dict:
    """Return a point's totals of carry-over and lift, its basis and additivity, as a plan's.

    ``optimizer.plan.point_figures``; for results that do not add up across periods (reach),
    each period's spend, results and cost per result (``by_period``) and the note saying why
    no total across periods is shown (:func:`_without_totals` nulls them).
    """
    out = point_figures(model.lines, spend, results, curves)
    if not curves.additive:
        out["by_period"] = _by_period(model.lines, spend, results)
        out["results_note"] = not_additive_note(curves.result_type)
    return out


def _without_totals(point: dict) -> dict:
    """Null a point's totals across periods in place, as the Plan JSON of reach does.

    Its results, cost per result, band and totals of carry-over and lift
    (:data:`~optimizer.plan.TOTALS_ACROSS_PERIODS`); spend and the marginal rates stay.
    """
    for key in (*TOTALS_ACROSS_PERIODS, *risk.BAND_KEYS):
        if key in point:
            point[key] = None
    return point


def _by_period(lines, spend, results) -> dict[str, dict]:
    """Return each period's spend, results and cost per result at a frontier point."""
    out: dict[str, dict] = {}
    for ln, s, r in zip(lines, spend, results, strict=True):
        t = out.setdefault(ln.period, {"spend": 0.0, "expected_results": 0.0})
        t["spend"] += float(s)
        t["expected_results"] += float(r)
    for t in out.values():
        r = t["expected_results"]
        t["cost_per_result"] = t["spend"] / r if r > 0 else None
    return dict(sorted(out.items()))


def frontier(
    curves: Curves,
    spec: PlanSpec | dict,
    budgets: Iterable[float],
    *,
    solver: str | None = None,
    on_progress: Progress | None = None,
    time_limit: float | None = None,
    executor: Executor | None = None,
    fast: bool = True,
) -> list[dict]:
    """Return the expected results at each budget, exact at every one.

    One model is built; each budget changes only the budget row's limit. How each budget is
    solved depends on the rules and the size (:func:`sweep_strategy`): by the sort where the
    rules are a budget and line limits and it decides the lowest and highest budgets; else,
    with HiGHS and six budgets or more, on the LP of the tiers that move between the lowest
    and highest budget, each point certified optimal for the full LP (``sweep.py``).
    ``marginal_cost_per_result`` is the currency per extra result at that budget (1 / the
    budget's shadow price; None where more budget buys nothing). A budget at which the rules
    cannot hold gives a point with ``status: infeasible``. The points come back in the order of
    ``budgets``; ``on_progress(message, done, total)`` is called after each one.
    ``time_limit`` (seconds, default 60) bounds the whole sweep: with on/off rules each budget
    gets an equal share of what is left, and a point cut short has ``status: time_limit`` and
    its proven ``gap``. Each point has the P10, P50 and P90 of its results
    (``results_p10`` ...), simulated over :data:`FRONTIER_SCENARIOS` worlds of the curves'
    uncertainty (``optimizer/risk.py``; the same worlds at every budget; on curves of
    incremental results they draw the lift tests' uncertainty too). Each point also carries
    the plan's figures at that budget (``optimizer.plan.point_figures``): ``results_basis``,
    ``results_additive`` and, where the curves carry carry-over or lift, ``results_inside``
    ... ``cost_per_incremental_result``. On curves whose results do not add up across
    periods (reach) every total across periods is null, as in the Plan JSON: the point has
    ``by_period`` and ``results_note`` instead. Under objective cvar the frontier is that of
    the plans with the most expected results.
    With an ``executor`` (``optimizer.parallel``) the budgets, sorted, are split into one run
    of neighbours per worker, each swept as above in its own process with its budgets' share
    of ``time_limit`` (the share each budget gets in one process); the points are the same
    optima (a plan cut short by the limit may differ, as in one process from run to run).
    """
    spec = _spec(spec)
    budgets = _checked_budgets(budgets)
    if executor is not None and executor.workers > 1 and len(budgets) > 1:
        args = (curves, spec, budgets, solver, time_limit, fast)
        return _frontier_on(executor, args, on_progress)
    if spec.objective == "cvar":
        spec = replace(spec, objective="results", alpha=None)
    # sweep the budgets in increasing order, each solve warm from the previous basis (the
    # first starts from the greedy crash basis); measured a little cheaper than decreasing
    order = sorted(range(len(budgets)), key=lambda i: budgets[i])
    model = build_model(curves, spec.with_budget(budgets[order[0]]))
    s = solver_for(model, solver, time_limit, fast=fast)
    if isinstance(s, SortSolver):
        s.points = True  # a point reads no line's dual (SortFill.solve)
        if not s.sorts(budgets[order[0]], budgets[order[-1]]):
            s = solver_for(model, solver, time_limit, fast=False)  # the LP's strategies then
    sweep = _Sweep(model, s, budgets, on_progress, curves)
    how = sweep_strategy(model, s, len(budgets))
    if how == "reduced":
        order = sweep.ends_then_reduced(order)
    for i in order:
        if how == "restart":
            s.restart()
        sweep.full(i)
    return sweep.points()


def sweep_strategy(model, solver, n_budgets: int) -> str:
    """Return how a frontier solves its budgets: ``sort``, ``reduced``, ``restart`` or ``warm``.

    ``sort``: the rules allow the sort (``optimizer/sortfill.py``), each budget exact at
    the cost of a fill. ``reduced`` (HiGHS LPs, six budgets or more): the ends solved, the
    rest bisected, each on the LP of the tiers that move between its solved neighbours, from
    that LP's crash basis (:meth:`_Sweep.ends_then_reduced`). ``restart`` (HiGHS LPs of fewer budgets, from
    :data:`RESTART_COLUMNS` columns): each budget from the crash basis. ``warm``: each budget
    from the last one's basis (CBC; on/off plans; small LPs).
    """
    if not isinstance(solver, HighsSolver):
        return "sort" if isinstance(solver, SortSolver) else "warm"
    if model.is_mip:
        return "warm"
    if n_budgets >= 6:
        return "reduced"
    return "restart" if model.n_col >= RESTART_COLUMNS else "warm"


def _frontier_chunk(args: tuple) -> list[dict]:
    curves, spec, budgets, solver, time_limit, fast = args
    return frontier(curves, spec, budgets, solver=solver, time_limit=time_limit, fast=fast)


def _frontier_on(executor: Executor, args: tuple, on_progress: Progress | None) -> list[dict]:
    """Sweep runs of neighbouring budgets on ``executor``; return the points in input order.

    ``args``: (curves, spec, budgets, solver, time_limit, fast). ``on_progress`` is called as
    each run comes back; the first failing run's error is raised.
    """
    curves, spec, budgets, solver, time_limit, fast = args
    order = sorted(range(len(budgets)), key=lambda i: budgets[i])
    k = min(executor.workers, len(budgets))
    runs = [order[j * len(order) // k : (j + 1) * len(order) // k] for j in range(k)]
    # each budget gets the share of the limit it gets in one process: a run its part
    limit = check_time_limit(time_limit)  # the limit as typed is checked, not its shares
    tasks = [
        (curves, spec, [budgets[i] for i in r], solver, limit * len(r) / len(budgets), fast)
        for r in runs
    ]
    out: list[dict] = [{}] * len(budgets)
    done, failed = 0, []
    for o in run_each(executor, _frontier_chunk, tasks, batch_size=1):
        if not o.ok:
            failed.append(o)
            continue
        for i, p in zip(runs[o.index], o.value, strict=True):
            out[i] = p
        done += len(runs[o.index])
        if on_progress is not None:
            on_progress("budget frontier", done, len(budgets))
    if failed:
        min(failed, key=lambda o: o.index).result()
    return out


def _checked_budgets(budgets: Iterable[float]) -> list[float]:
    """Return the budgets as floats; SpecError if there are none or one is out of range."""
    out = [float(b) for b in budgets]
    if not out:
        raise SpecError("frontier: give at least one budget")
    for b in out:
        if not 0 < b <= MAX_BUDGET:
            raise SpecError(
                "frontier: every budget must be above 0 and at most 1e12 (1,000,000,000,000), "
                f"got {b:g}"
            )
    return out


class _Sweep:
    """The points of a frontier as they are solved, with the progress reported."""

    def __init__(self, model, solver, budgets: list[float], on_progress, curves) -> None:
        self.model, self.solver, self.budgets, self.curves = model, solver, budgets, curves
        # on curves of incremental results the worlds draw the lift tests' uncertainty too;
        # reach has no band (a total across periods): no world to draw
        lift = risk.draws_lift(curves)
        drawn = curves.additive and risk.uncertain(model.lines, lift=lift)
        # no uncertainty: no world to draw and no band (said once, not at every point)
        self.world = risk.draw_world(model.lines, FRONTIER_SCENARIOS, lift=lift) if drawn else None
        self.per_line = _per_line(curves)
        self.on_progress = on_progress
        self.out: list[dict | None] = [None] * len(budgets)
        self.done = 0
        self.deadline = time.perf_counter() + solver.time_limit

    def _progress(self) -> None:
        self.done += 1
        if self.on_progress is not None:
            self.on_progress("budget frontier", self.done, len(self.budgets))

    def full(self, i: int) -> Solution:
        """Solve the full model at budget ``i`` (warm from the last basis)."""
        b, m = self.budgets[i], self.model
        if m.is_mip:  # the budgets share the limit; each LP inside still gets its minimum
            left = (self.deadline - time.perf_counter()) / (len(self.budgets) - self.done)
            self.solver.time_limit = max(left, 1e-3)
        self.solver.set_row_upper(m.budget_row, b)
        m.row_ub[m.budget_row] = b
        sol = self.solver.solve()
        self.out[i] = _point_or_status(m, sol, b, self.world, self.curves, self.per_line)
        self._progress()
        return sol

    def ends_then_reduced(self, order: list[int]) -> list[int]:
        """Solve the lowest and highest budgets, the others on reduced LPs where certified.

        The budgets between two solved ones are bisected: the middle one is solved on the LP
        of the tiers that move between those two (``sweep.Reduced``), then each half the same
        way, so the reduced LPs shrink as the budgets close in. A budget no reduced LP
        certifies is solved on the full model (from the crash basis at scale). Returns the
        budgets left (none).
        """
        sol_lo = self.full(order[0])
        self.solver.restart()  # a far jump: the crash basis beats warm starting (60 vs 10 ms)
        sol_hi = self.full(order[-1])
        if not (sol_lo.optimal and sol_hi.optimal):
            return order[1:-1]
        left: list[int] = []
        spans: list[tuple] = [(0, len(order) - 1, sol_lo.x, sol_hi.x, None)]
        while spans:
            a, z, x_a, x_z, outer = spans.pop()
            if z - a < 2:
                continue
            mid = (a + z) // 2
            reduced = self._reduced(x_a, x_z, outer)
            x_mid = None if reduced is None else self._on_reduced(order[mid], reduced)
            if x_mid is None:  # not reduced, or not provably optimal there: the full LP
                left.extend(order[a + 1 : z])
                continue
            spans += [(a, mid, x_a, x_mid, reduced), (mid, z, x_mid, x_z, reduced)]
        for i in sorted(left, key=order.index):
            if self.model.n_col >= RESTART_COLUMNS:
                self.solver.restart()
            self.full(i)
        return []

    def _reduced(self, x_a: np.ndarray, x_z: np.ndarray, outer: Reduced | None) -> Reduced | None:
        """Return the LP of the tiers that move between ``x_a`` and ``x_z`` (None: too few fixed).

        Cut from ``outer`` (the reduced LP ``x_a`` and ``x_z`` were solved on or made it) when
        given, else from the full LP. Where too few of ``outer``'s tiers stay put to cut it,
        ``outer`` itself (it holds every budget between them too).
        """
        if outer is not None:
            inner = outer.within(x_a, x_z)
            return inner if inner.ok else outer
        reduced = Reduced(self.model, x_a, x_z)
        return reduced if reduced.ok else None

    def _on_reduced(self, i: int, reduced: Reduced) -> np.ndarray | None:
        """Solve budget ``i`` on ``reduced``; return the full LP's columns when certified.

        Records the point; None when it is not provably optimal for the full LP.
        """
        b = self.budgets[i]
        reduced.model.row_ub[self.model.budget_row] = b
        rs = HighsSolver(reduced.model)  # from its crash basis
        rsol = rs.solve()
        if not (rsol.optimal and reduced.certify(rsol.row_dual)):
            return None
        x = reduced.full_x(rsol.x)
        point = _point(self.model, replace(rsol, x=x), b, self.world, self.curves, self.per_line)
        self.out[i] = {"status": "optimal", **point}
        self._progress()
        return x

    def points(self) -> list[dict]:
        """Return the points in the order of the budgets (every one is solved by now)."""
        return [p for p in self.out if p is not None]


def _point_or_status(model, sol: Solution, b: float, world=None, curves=None, per_line=None):
    if sol.optimal:
        return {"status": "optimal", **_point(model, sol, b, world, curves, per_line)}
    if sol.status == "time_limit" and sol.has_plan and sol.gap is not None:
        point = _point(model, sol, b, world, curves, per_line)
        return {"status": "time_limit", **point, "gap": sol.gap}
    if sol.status == "infeasible":
        return {
            "status": "infeasible",
            "budget": b,
            "expected_results": None,
            "total_spend": None,
            "cost_per_result": None,
            "marginal_cost_per_result": None,
            "marginal_results_per_unit": None,
            **dict.fromkeys(risk.BAND_KEYS),
        }
    raise SolverError(f"the solver stopped at budget {b:g} (status: {sol.status})")


def min_budget_for_results(
    curves: Curves,
    spec: PlanSpec | dict,
    target: float,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    confidence: float | None = None,
) -> Plan:
    """Find the smallest spend that reaches ``target`` results under the rules (the budget aside).

    Returns the plan at that budget (``plan.budget`` = the spend found), with the chance of
    reaching the target (``target_probability``). If the target is out of reach,
    InfeasibleError says how many results the rules allow at most. ``time_limit``
    (seconds, default 60) bounds the two solves together; an on/off search cut short gives a
    plan with status ``time_limit`` and the proven gap of the spend found. With
    ``confidence`` (a probability) the budget is the least at which the plan reaches the
    target with that chance (``optimizer/chance.py``).
    """
    spec = _spec(spec)
    target = float(target)
    if not target > 0:
        raise SpecError(f"target results: must be above 0, got {target:g}")
    if confidence is not None:
        from .chance import check_confidence, min_budget_for_chance

        confidence = check_confidence(confidence)
        start = min_budget_for_results(curves, spec, target, solver=solver, time_limit=time_limit)
        return min_budget_for_chance(
            curves, spec, target, confidence, start=start, solver=solver, time_limit=time_limit
        )
    t0 = time.perf_counter()
    model = build_model(curves, spec, target_results=target)
    s = make_solver(model, solver, time_limit=time_limit)
    sol = s.solve()
    left = max(s.time_limit - (time.perf_counter() - t0), MIN_SEARCH_SECONDS)
    if sol.status == "infeasible":
        # how far can the rules go with unlimited budget?
        big = spec.with_budget(min(sum(ln.max_spend for ln in curves.lines) + 1.0, MAX_BUDGET))
        try:
            best = allocate(curves, big, solver=solver, time_limit=left)
        except InfeasibleError as e:
            raise InfeasibleError(
                f"no budget reaches the target: {e}", e.diagnosis, e.repairs
            ) from None
        reach = best.expected_results
        msg = (
            f"the target of {fmt(target)} {summed_words(curves)} is out of reach under these "
            f"rules: at most {fmt(reach)} are reachable (at a spend of "
            f"{fmt(best.total_spend)}); lower the target or loosen the rules that bind"
        )
        raise InfeasibleError(
            msg,
            [
                {
                    "rule": "target_results",
                    "needed": target,
                    "available": reach,
                    "relax_by": target - reach,
                    "message": msg,
                }
            ],
        )
    if not sol.has_plan:
        _raise_for(sol, model, spec.budget)
    need = float(sol.x[model.total_col])
    if need > MAX_BUDGET:
        raise SpecError(
            f"target results: reaching {fmt(target)} {summed_words(curves)} needs a budget of "
            f"{need:,.0f}, above the limit of 1e12 (1,000,000,000,000); lower the target"
        )
    # the least spend reaching the target, spread for results whatever the spec's objective
    # (a value or profit objective would stop short of the target at that spend)
    at = replace(spec.with_budget(max(need, 1e-9)), objective="results", alpha=None)
    plan = allocate(curves, at, solver=solver, time_limit=left, with_ranges=False)
    if sol.status == "time_limit":  # the spend found may not be the least: say by how much
        plan = time_limited(plan, sol)
    plan = target_notes(plan, spec.objective)
    return risk.with_ranges(replace(plan, target_results=target), curves)
