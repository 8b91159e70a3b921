"""A risk-aware plan: the most results in its worst ``alpha`` share of scenarios, as an exact LP.

The mean of the worst ``alpha·K`` of ``K`` equally likely scenario results ``R_k(x)`` (the
conditional value at risk, CVaR) is, after Rockafellar and Uryasev (2000),
``max over eta of eta - 1/(alpha·K) · sum_k max(0, eta - R_k(x))``. Maximising it over the
plan ``x`` is therefore the linear program

    max  eta - 1/(alpha·K) · sum_k u_k
    s.t. u_k >= eta - R_k(x),  u_k >= 0,  eta >= 0,  and every rule of the plan,

with ``R_k(x) = sum_t a_kt·x_t``: the tier variables of the plan's LP (``optimizer/model.py``)
and each tier's slope in scenario ``k``. Scenario ``k``'s curve is the line's curve drawn in
world ``k`` (``optimizer/risk.py``: its level and slope error, drawn in antithetic pairs so
that the scenarios' mean error is exactly 0 and the LP cannot chase a sampled average; the
noise from period to period, which a plan cannot steer, is left out; on curves of
incremental results also its network's lift factor, ``risk.draws_lift``) at every curve
point; where a drawn curve would turn convex its slope is held at the tier before (never
promising more), so every scenario curve is concave and the tiers fill in order: the LP's
optimum is the plan's. The LP's scenarios (seed ``SEED + 1``) are not those that judge the
plan: its mean, P10 and tail mean, and the mean plan's beside them, are read on the plan's
own ranges' worlds (the lift tests drawn there too), so both plans meet the same worlds.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from .allocate import _raise_for, summed_words
from .errors import SolverError, SpecError
from .lp import INF, RowInfo
from .model import Model, build_model
from .plan import (
    Plan,
    _constraints,
    _line_spend,
    _other_results,
    _plan_lines,
    line_results,
    plan_of,
)
from .risk import (
    RANGE_SCENARIOS,
    SEED,
    draw_world,
    draws_lift,
    plan_simulation,
    simulate,
    uncertain,
    with_ranges,
)
from .rules.core import DEFAULT_ALPHA
from .solvers import make_solver

#: scenarios the risk-aware LP is built on
CVAR_SCENARIOS = 200


def scenario_slopes(model: Model, world) -> np.ndarray:
    """Return ``a[k, t]``: tier ``t``'s slope in world ``k``, made non-increasing per line."""
    lines = model.lines
    n_pts = np.array([len(ln.points) for ln in lines])
    start = model.tier_start[:-1]
    a = np.zeros((world.scenarios, model.n_tier))
    prev_y = np.zeros((world.scenarios, len(lines)))
    prev_x = np.zeros(len(lines))
    for p in range(1, int(n_pts.max())):
        has = n_pts > p
        idx = np.minimum(p, n_pts - 1)
        x = np.array([ln.points[i][0] for ln, i in zip(lines, idx, strict=True)])
        y = np.array([ln.points[i][1] for ln, i in zip(lines, idx, strict=True)])
        cur = world.factors(x) * y[None, :]
        cols = start[has] + (p - 1)
        a[:, cols] = (cur[:, has] - prev_y[:, has]) / (x[has] - prev_x[has])
        if p > 1:  # concave: no slope above the tier before (a drawn curve turning convex)
            a[:, cols] = np.minimum(a[:, cols], a[:, cols - 1])
        prev_y, prev_x = cur, x
    return np.maximum(a, 0.0)


def cvar_model(model: Model, a: np.ndarray, alpha: float) -> Model:
    """Return ``model`` with the CVaR columns and rows added and its objective replaced."""
    k, nt, n = a.shape[0], model.n_tier, model.n_col
    eta = n
    c = np.concatenate([np.zeros(n), [1.0], np.full(k, -1.0 / (alpha * k))])
    tiers = np.arange(nt, dtype=np.int32)
    idx = np.concatenate([np.concatenate([tiers, [eta, eta + 1 + j]]) for j in range(k)])
    val = np.concatenate([np.concatenate([-a[j], [1.0, -1.0]]) for j in range(k)])
    indptr = np.concatenate([model.indptr, model.indptr[-1] + (nt + 2) * np.arange(1, k + 1)])
    rows = [
        RowInfo(f"cvar_scenario__{j + 1}", f"scenario {j + 1}'s shortfall", "max", "", 0.0,
                False, "cvar")
        for j in range(k)
    ]  # fmt: skip
    return replace(
        model,
        c=c,
        col_lb=np.concatenate([model.col_lb, np.zeros(k + 1)]),
        col_ub=np.concatenate([model.col_ub, np.full(k + 1, INF)]),
        indptr=indptr,
        indices=np.concatenate([model.indices, idx.astype(np.int32)]),
        data=np.concatenate([model.data, val]),
        row_lb=np.concatenate([model.row_lb, np.full(k, -INF)]),
        row_ub=np.concatenate([model.row_ub, np.zeros(k)]),
        rows=[*model.rows, *rows],
        objective="cvar",
    )


def tail_mean(x: np.ndarray, alpha: float) -> float:
    """Return the mean of the worst ``alpha`` share of ``x`` (fractional at the edge)."""
    x = np.sort(np.asarray(x, float))
    m = alpha * len(x)
    whole = int(np.floor(m))
    part = x[:whole].sum() + (m - whole) * (x[whole] if whole < len(x) else 0.0)
    return float(part / m)


def _figures(plan_results: float, total: np.ndarray, alpha: float) -> dict:
    return {
        "mean": plan_results,
        "p10": float(np.quantile(total, 0.1)),
        "tail_mean": tail_mean(total, alpha),
    }


def allocate_cvar(curves, spec, *, solver=None, time_limit=None, scenarios=CVAR_SCENARIOS):
    """Return the plan maximising the mean of its worst ``spec.alpha`` share of scenarios.

    Every rule of ``spec`` holds. The plan carries ``risk``: its mean, P10 and tail mean
    beside those of the plan that maximises the mean, what it gives up in mean results, and
    the LP's size and time. Shadow prices are in tail-mean results per unit of the rule's
    limit; rules are not re-solved one by one (no ``gain_if_removed``) and lines carry no
    reason (their spend is set by the worst scenarios, not by one price).
    """
    alpha = DEFAULT_ALPHA if spec.alpha is None else float(spec.alpha)
    mean_spec = replace(spec, objective="results", alpha=None)
    base = build_model(curves, mean_spec)
    lift = draws_lift(curves)  # incremental results: every world draws the lift tests too
    if not uncertain(base.lines, lift=lift):
        raise SpecError(
            "spec.objective: cvar needs curves that carry their uncertainty (a spread or "
            "low/high on the lines planned, or on curves of incremental results a lift "
            "interval); these carry none, so every scenario is the same: forecast the curves "
            "with adplan, or use objective: results"
        )
    mean_sol = make_solver(base, solver, time_limit=time_limit).solve()
    if not mean_sol.has_plan:
        _raise_for(mean_sol, base, spec.budget)
    t0 = time.perf_counter()
    world = draw_world(
        base.lines, scenarios, SEED + 1, with_noise=False, antithetic=True, lift=lift
    )
    a = scenario_slopes(base, world)
    model = cvar_model(base, a, alpha)
    s = make_solver(model, solver, time_limit=time_limit)
    sol = s.solve()
    if not sol.optimal:
        raise SolverError(f"the risk-aware LP stopped without a plan (status: {sol.status})")
    lp = {
        "rows": model.n_row,
        "columns": model.n_col,
        "nonzeros": len(model.data),
        "seconds": time.perf_counter() - t0,
        "objective": float(sol.objective),
    }
    plan = _read(model, base, sol, curves, spec)
    this_sim = plan_simulation(plan, curves)
    plan = with_ranges(plan, curves, sim=this_sim)
    mean_spend = _line_spend(base, mean_sol)
    mean_res, _ = line_results(base, mean_spend)
    mean_sim = simulate(base.lines, mean_spend, mean_res, lift=lift)
    risk = _risk(alpha, scenarios, lp, plan, this_sim, float(mean_res.sum()), mean_sim, curves)
    return replace(plan, risk=risk)


def _risk(alpha, scenarios, lp, plan, this_sim, mean_results, mean_sim, curves) -> dict:
    this = _figures(plan.expected_results, this_sim.total, alpha)
    mean = _figures(mean_results, mean_sim.total, alpha)
    rt = summed_words(curves)  # reach: the sums of the periods' reach, person-periods
    words = (
        f"risk-aware plan (objective cvar, alpha {alpha:g}): P10 {this['p10']:,.0f} {rt} "
        f"against {mean['p10']:,.0f} for the plan with the most expected results; it gives up "
        f"{mean['mean'] - this['mean']:,.1f} expected {rt} ({mean['mean']:,.1f} -> "
        f"{this['mean']:,.1f}); the mean of the worst {alpha:.0%} goes from "
        f"{mean['tail_mean']:,.0f} to {this['tail_mean']:,.0f}"
    )
    return {
        "objective": "cvar",
        "alpha": alpha,
        "scenarios": scenarios,
        "judged_on": f"{RANGE_SCENARIOS:,} other scenarios (seed {SEED})",
        "this_plan": this,
        "mean_plan": mean,
        "mean_results_given_up": mean["mean"] - this["mean"],
        "p10_gained": this["p10"] - mean["p10"],
        "tail_mean_gained": this["tail_mean"] - mean["tail_mean"],
        "lp": lp,
        "words": words,
        **({} if curves.additive else {"results_note": _summed_note(curves.result_type)}),
    }


def _summed_note(result_type: str) -> str:
    """Say what a cvar plan's figures count when results do not add up across periods."""
    return (
        f"{result_type} cannot be added across periods: these figures are sums of the "
        f"periods' {result_type} (person-periods, not people), what the plan maximises"
    )


def _read(model: Model, base: Model, sol, curves, spec) -> Plan:
    """Return the plan of the CVaR LP's solution (no reasons, no ledger: see allocate_cvar)."""
    spend = _line_spend(base, sol)
    lines = _plan_lines(base, spend, [None] * len(base.lines))
    other = _other_results(base, spec, spend)
    constraints = [
        replace(
            c,
            per_1000=c.shadow_price * 1000
            if c.unit == curves.currency and c.shadow_price
            else None,
        )
        for _, c in _constraints(model, sol, other, None)
    ]  # prices per 1,000 of currency: of the worst scenarios' mean results
    plan = plan_of(model, sol, curves, spec, lines, constraints, other)
    return replace(plan, unfunded=tuple(_unfunded(lines)))


def _unfunded(lines) -> list[dict]:
    """List the lines with no spend: the worst scenarios are better served elsewhere."""
    return [
        {
            "network": ln.network,
            "segment": ln.segment,
            "period": ln.period,
            "cost_per_result": ln.marginal_cost_per_result,
            "cheaper_by_pct": None,
            "needed_cost_per_result": None,
            "cause": None,
            "rule": None,
            "reason": "no spend in the risk-aware plan: the worst scenarios are better served by "
            "other lines (no one price says by how much)",
        }
        for ln in lines
        if ln.spend == 0
    ]
