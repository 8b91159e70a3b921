"""The plan: what to spend on every line, what it should bring, and why (rules, duals).

``read_plan`` turns a solver's :class:`~optimizer.solvers.Solution` into a :class:`Plan`.
Totals are the plain sums of the line values in the order the lines are listed, so they equal
the sum of the lines exactly; nothing is rounded in the data (round when you display).

Sign convention (every solver): ``shadow_price`` = d(objective)/d(the rule's limit): the extra
results (or value) the plan would get per extra unit of the rule's limit. Raising a ceiling
(budget, max, max_share) helps, so its price is >= 0; raising a floor (min, min_share) hurts,
so its price is <= 0. Share, pacing, change and cost-per-result rules are written as
"spend - share x total <= 0", so their limit is in currency: the price is per unit of currency
of extra room.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from .model import Model
from .rules import LINE_FAMILIES, fmt
from .solvers import Solution, reduced_costs, row_activity

ZERO = 1e-7  # spends below this (in currency) are solver noise, shown as 0


def _f(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One line of the plan: its spend, the results expected from it and what they cost.

    ``marginal_cost_per_result`` is the cost of one more result at this spend (None where the
    curve is flat); ``max_spend`` is the most the line's curve can absorb.
    """

    network: str
    segment: str
    period: str
    spend: float
    expected_results: float
    cost_per_result: float | None
    marginal_cost_per_result: float | None
    max_spend: float

    def to_dict(self) -> dict:
        """Return the line as its Plan JSON object."""
        return {
            "network": self.network,
            "segment": self.segment,
            "period": self.period,
            "spend": self.spend,
            "expected_results": self.expected_results,
            "cost_per_result": self.cost_per_result,
            "marginal_cost_per_result": self.marginal_cost_per_result,
            "max_spend": self.max_spend,
        }


@dataclass(frozen=True, slots=True)
class PlanConstraint:
    """One rule of the plan: whether it binds, its slack and its shadow price.

    ``shadow_price`` follows the sign convention in the module docstring.
    """

    name: str
    description: str
    family: str
    unit: str
    binding: bool
    slack: float
    shadow_price: float

    def to_dict(self) -> dict:
        """Return the rule as its Plan JSON object."""
        return {
            "name": self.name,
            "description": self.description,
            "family": self.family,
            "unit": self.unit,
            "binding": self.binding,
            "slack": self.slack,
            "shadow_price": self.shadow_price,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """An optimal plan. ``to_dict()`` is the Plan JSON of docs/design.md (plus extras)."""

    status: str
    budget: float
    total_spend: float
    expected_results: float
    cost_per_result: float | None
    currency: str
    result_type: str
    objective: str
    lines: tuple[PlanLine, ...]
    constraints: tuple[PlanConstraint, ...]
    unfunded: tuple[dict, ...]
    excluded: tuple[dict, ...] = ()
    expected_value: float | None = None
    other_results: Mapping[str, float] = field(default_factory=dict)
    solver: Mapping = field(default_factory=dict)
    target_results: float | None = None
    #: warnings about the plan a person should read (e.g. why the budget is not spent in full)
    notes: tuple[str, ...] = ()

    def totals_by(self, kind: str) -> dict[str, dict[str, float]]:
        """Sum spend and results per network, segment or period (``kind`` is one of those)."""
        out: dict[str, dict[str, float]] = {}
        for ln in self.lines:
            key = getattr(ln, kind)
            t = out.setdefault(key, {"spend": 0.0, "expected_results": 0.0})
            t["spend"] += ln.spend
            t["expected_results"] += ln.expected_results
        return out

    def costly_rules(self, n: int = 5) -> list[PlanConstraint]:
        """Return the ``n`` binding rules whose limits cost the most (largest |shadow price|)."""
        rules = [c for c in self.constraints if c.binding and c.shadow_price != 0.0]
        return sorted(rules, key=lambda c: -abs(c.shadow_price))[:n]

    def to_dict(self) -> dict:
        """Return the Plan JSON; optional keys appear only when set."""
        d = {
            "status": self.status,
            "budget": self.budget,
            "total_spend": self.total_spend,
            "expected_results": self.expected_results,
            "cost_per_result": self.cost_per_result,
            "currency": self.currency,
            "result_type": self.result_type,
            "objective": self.objective,
            "lines": [ln.to_dict() for ln in self.lines],
            "constraints": [c.to_dict() for c in self.constraints],
            "unfunded": [dict(u) for u in self.unfunded],
            "excluded": [dict(e) for e in self.excluded],
            "solver": dict(self.solver),
            "notes": list(self.notes),
        }
        if self.expected_value is not None:
            d["expected_value"] = self.expected_value
        if self.other_results:
            d["other_results"] = dict(self.other_results)
        if self.target_results is not None:
            d["target_results"] = self.target_results
        return d


def line_results(model: Model, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the results at ``spend`` on each curve (tiers filled in order) and the slope there.

    The slope is that of the last tier with spend in it, or of the first tier at zero spend.
    """
    start = model.tier_start
    width = model.col_ub[: model.n_tier]
    cum = np.cumsum(width)
    before = cum - width - np.repeat(cum[start[:-1]] - width[start[:-1]], np.diff(start))
    fill = np.clip(spend[model.tier_line] - before, 0.0, width)
    per_tier = model.tier_slope * fill
    res = np.add.reduceat(per_tier, start[:-1].astype(np.intp))
    # marginal: slope of the last tier with spend in it, or of the first tier at zero spend
    used = fill > 0
    last = np.maximum.reduceat(np.where(used, np.arange(len(fill)), -1), start[:-1].astype(np.intp))
    idx = np.where(last >= 0, last, start[:-1])
    return res, model.tier_slope[idx]


def read_plan(
    model: Model,
    sol: Solution,
    *,
    curves,
    spec,
    seconds_total: float | None = None,
    target_results: float | None = None,
) -> Plan:
    """Turn a solver's solution of ``model`` into a :class:`Plan`.

    Adds what the solution alone does not say: results of other types on their curves, each
    reported rule's slack and price, why zero-spend lines are unfunded and, unless
    ``target_results`` is set, why the budget is not spent in full. ``seconds_total`` is the
    time reported for the whole call (the solve time when None).
    """
    spend = _line_spend(model, sol)
    lines = _plan_lines(model, spend)
    total_spend = sum(p.spend for p in lines)
    total_results = sum(p.expected_results for p in lines)
    other = _other_results(model, spec, spend)
    on = np.round(sol.x[model.binary_cols]) > 0.5 if model.is_mip else None
    constraints = _constraints(model, sol, other, on)
    notes: tuple[str, ...] = ()
    if target_results is None:
        notes = unspent_notes(
            spec.budget, total_spend, constraints, lines, curves.currency, model.objective
        )
    if sol.status == "time_limit":
        notes = (*notes, time_limit_note(sol))
    return Plan(
        status=sol.status,
        budget=spec.budget if target_results is None else total_spend,
        total_spend=total_spend,
        expected_results=total_results,
        cost_per_result=total_spend / total_results if total_results > 0 else None,
        currency=curves.currency,
        result_type=curves.result_type,
        objective=spec.objective,
        lines=tuple(lines),
        constraints=tuple(constraints),
        unfunded=tuple(_unfunded(model, sol, spend, on, spec)),
        excluded=tuple(
            {"network": ln.network, "segment": ln.segment, "period": ln.period}
            for ln in model.excluded
        ),
        expected_value=_value(model, lines),
        other_results=other,
        solver=_solver_info(model, sol, seconds_total),
        target_results=target_results,
        notes=notes,
    )


def _line_spend(model: Model, sol: Solution) -> np.ndarray:
    """Return each line's spend: its tiers added up, with solver noise below ZERO cleared."""
    nt = model.n_tier
    x = np.clip(sol.x[:nt], 0.0, model.col_ub[:nt])
    spend = np.add.reduceat(x, model.tier_start[:-1].astype(np.intp))
    spend[np.abs(spend) < ZERO] = 0.0
    return spend


def _plan_lines(model: Model, spend: np.ndarray) -> list[PlanLine]:
    """Return the plan's lines: spend, results on the curve and the cost of the next result."""
    results, mslope = line_results(model, spend)
    lines = []
    for i, ln in enumerate(model.lines):
        s, r = float(spend[i]), float(results[i])
        lines.append(
            PlanLine(
                network=ln.network,
                segment=ln.segment,
                period=ln.period,
                spend=s,
                expected_results=r,
                cost_per_result=s / r if r > 0 else None,
                marginal_cost_per_result=1.0 / mslope[i] if mslope[i] > 0 else None,
                max_spend=ln.max_spend,
            )
        )
    return lines


def _value(model: Model, lines: list[PlanLine]) -> float | None:
    """Return the plan's value under objective 'value' (None under 'results')."""
    if model.objective != "value":
        return None
    # PlanSpec.check gives every planned line a value_per_result under objective "value"
    return sum(
        p.expected_results * cast(float, ln.value_per_result)
        for p, ln in zip(lines, model.lines, strict=True)
    )


def _other_results(model: Model, spec, spend: np.ndarray) -> dict[str, float]:
    """Return the results of each results floor's type, valued on its curves at the spend."""
    other = {}
    for fl in spec.results_floors:
        by_key = {ln.key: ln for ln in fl.curves.lines}
        other[fl.result_type] = sum(
            by_key[ln.key].results_at(float(spend[i])) if ln.key in by_key else 0.0
            for i, ln in enumerate(model.lines)
        )
    return other


def _constraints(model: Model, sol: Solution, other: dict, on) -> list[PlanConstraint]:
    """Return every reported rule with its slack, whether it binds and its shadow price."""
    act = row_activity(model, sol.x)
    # the size of each row's terms: a solver's values carry ~8 digits (CBC), so a row's slack
    # is only known to that precision relative to its terms, whatever its limit (often 0)
    size = row_activity(model, sol.x, absolute=True)
    out = []
    for i, info in enumerate(model.rows):
        if not info.report:
            continue
        if info.family == "min_line_spend" and on is not None:
            li = int(np.searchsorted(model.binary_cols, model.indices[model.indptr[i + 1] - 1]))
            if not on[li]:
                continue  # a line switched off: its minimum does not apply
        slack = _slack(model, i, float(act[i]))
        if slack is None:
            continue
        if info.family == "results_floor":
            # the LP's hypograph columns may sit below their curves (they only need to reach
            # the floor): the floor's true slack is what the curves give at this spend
            slack = float(other[info.target[0]] - info.limit)
        tol = 1e-6 * max(1.0, abs(info.limit), float(size[i]))
        if abs(slack) < tol:
            slack = 0.0
        y = float(sol.row_dual[i])
        if abs(y) < 1e-12 or slack > tol:
            y = 0.0  # a rule with room to spare has no price (complementary slackness)
        out.append(
            PlanConstraint(
                name=info.name,
                description=info.description,
                family=info.family,
                unit=info.unit,
                binding=slack <= tol,
                slack=max(slack, 0.0),
                shadow_price=y,
            )
        )
    return out


def _slack(model: Model, i: int, activity: float) -> float | None:
    """Return how far row ``i`` is from its limit (None for a 'max' row with no limit)."""
    info = model.rows[i]
    if info.sense == "max":
        ub = model.row_ub[i]
        return float(ub - activity) if math.isfinite(ub) else None
    if info.sense == "min":
        return float(activity - model.row_lb[i])
    return 0.0


def _held_at_zero(model: Model, on, spec) -> dict[int, str]:
    """Return the lines a rule holds at 0 (a lock or cap at 0, or switched off), by index."""
    held: dict[int, str] = {}
    for i, info in enumerate(model.rows):
        if info.family in ("lock", "line_max") and model.row_ub[i] <= ZERO:
            held[int(model.tier_line[model.indices[model.indptr[i]]])] = info.name
    if on is not None:
        for off in np.flatnonzero(~on):
            held.setdefault(
                int(off),
                "min_line_spend" if spec.min_line_spend is not None else "max_active_lines",
            )
    return held


def _unfunded(model: Model, sol: Solution, spend: np.ndarray, on, spec) -> list[dict]:
    """Say, for each line with no spend, how much cheaper its results must be to get some."""
    zero = [int(i) for i in np.flatnonzero(spend == 0)]
    if not zero:
        return []
    act_rows = set(model.activation_rows.tolist())
    skip = np.array(
        [i for i, r in enumerate(model.rows) if r.family in LINE_FAMILIES or i in act_rows],
        dtype=np.int64,
    )
    held = _held_at_zero(model, on, spec)
    d = reduced_costs(model, sol.row_dual, skip)
    return [_unfunded_line(model, i, float(d[int(model.tier_start[i])]), held) for i in zero]


def _unfunded_line(model: Model, i: int, reduced: float, held: dict[int, str]) -> dict:
    """Explain one unfunded line from the reduced cost of its first tier."""
    ln = model.lines[i]
    j = int(model.tier_start[i])
    c1 = float(model.c[j])
    slope = float(model.tier_slope[j])
    entry: dict = {
        "network": ln.network,
        "segment": ln.segment,
        "period": ln.period,
        "cost_per_result": 1.0 / slope if slope > 0 else None,
    }
    if c1 <= 0:
        entry.update(
            cheaper_by_pct=None, needed_cost_per_result=None, reason="its curve brings no results"
        )
        return entry
    price = c1 - reduced  # what a unit of currency earns at the margin elsewhere
    pct = 0.0 if price <= c1 else 1.0 - c1 / price
    entry.update(cheaper_by_pct=100.0 * pct, needed_cost_per_result=(1.0 / slope) * (1.0 - pct))
    entry["reason"] = (
        f"held at 0 by rule {held[i]}" if i in held else "other lines bring results more cheaply"
    )
    return entry


def _solver_info(model: Model, sol: Solution, seconds_total: float | None) -> dict:
    """Return what the plan says of its solve: solver, times, size and settings.

    An on/off plan adds the proven bound, the relative gap to it and how it was proven.
    """
    info = {
        "name": sol.solver,
        "seconds": sol.seconds if seconds_total is None else seconds_total,
        "solve_seconds": sol.seconds,
        "mip": sol.mip,
        "variables": model.n_col,
        "rows": model.n_row,
        "settings": dict(sol.settings),
        "time_limit": sol.time_limit,
    }
    if sol.mip:
        info.update(gap=sol.gap, bound=sol.bound, search=sol.search)
    return info


def time_limit_note(sol: Solution) -> str:
    """Say that the search stopped at its time limit, and how far from the best it may be."""
    gap = 100.0 * (sol.gap or 0.0)
    return (
        f"the search for on/off lines stopped at its time limit of {sol.time_limit:g} s: this "
        f"is the best plan found, proven within {gap:.3g}% of the best possible; raise the "
        "time limit (--time-limit, ADPLAN_TIME_LIMIT) to search longer"
    )


def time_limited(plan: Plan, sol: Solution) -> Plan:
    """Return ``plan`` marked ``time_limit`` by the solve ``sol`` (its gap and a note)."""
    solver = {**plan.solver, "gap": sol.gap, "bound": sol.bound, "search": sol.search}
    return replace(
        plan, status="time_limit", solver=solver, notes=(*plan.notes, time_limit_note(sol))
    )


#: budget left unspent (relative) above which the plan says why
UNSPENT_RTOL = 1e-6
MAX_RULES_NAMED = 5


def unspent_notes(
    budget: float,
    total_spend: float,
    constraints,
    lines,
    currency: str,
    objective: str = "results",
) -> tuple[str, ...]:
    """Explain why the budget is not spent in full, naming the binding rules that stop more spend.

    Returns one note, or none when (nearly) all the budget is spent.
    """
    left = budget - total_spend
    if left <= UNSPENT_RTOL * max(1.0, budget):
        return ()
    head = (
        f"only {fmt(total_spend)} of the {fmt(budget)} {currency} budget is spent "
        f"({fmt(left)} {currency} left)"
    )
    rules = [c for c in constraints if c.binding and c.name != "budget" and c.family != "lock"]
    rules.sort(key=lambda c: -abs(c.shadow_price))
    full = [ln for ln in lines if ln.spend >= ln.max_spend * (1 - 1e-9)]
    if rules:
        names = [c.name for c in rules[:MAX_RULES_NAMED]]
        more = len(rules) - len(names)
        named = ", ".join(names) + (f" and {more} more" if more else "")
        if len(rules) == 1:
            reason = f"rule {named} binds and stops more spend; loosen it to spend more"
        else:
            reason = f"rules {named} bind and stop more spend; loosen them to spend more"
    elif len(full) == len(lines):
        cap = sum(ln.max_spend for ln in lines)
        reason = f"every line is at the most its curve can absorb ({fmt(cap)} {currency} in all)"
    else:
        what = "results" if objective == "results" else "value"
        reason = (
            f"more spend would bring no more {what} ({len(full)} of {len(lines)} lines are at "
            "the most their curves can absorb; the rest of the curves are flat)"
        )
    return (f"{head}: {reason}",)
