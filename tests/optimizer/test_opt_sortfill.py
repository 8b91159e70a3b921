"""The sort (optimizer/sortfill.py) against the LP: the same plans, duals, reasons and costs.

Random instances of a budget and limits on single lines (caps, floors, locks, both, caps
past the curve's end, exclusions) under the three objectives: ``allocate`` and ``frontier``
with the sort give what they give with ``fast=False`` (the LP), under HiGHS and under CBC:
spend, results, every line's reason in words, every rule's binding flag, slack, shadow price
and measured cost. Degenerate cases (ties, limits on a tier's end) go to the LP.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

from optimizer import InfeasibleError, allocate, frontier
from optimizer.curves import CurveLine, Curves
from optimizer.model import build_model
from optimizer.sortfill import SortFill
from optimizer.spec import PlanSpec
from optimizer.synthetic import synthetic_curves

allocate_module = importlib.import_module("optimizer.allocate")  # the module, not the verb
OBJECTIVES = ("results", "value", "profit")
RTOL = {"highs": 1e-6, "cbc": 1e-5}
MONEY = {"spend", "room", "slack", "amount", "total_spend", "spent", "unspent", "low", "high"}


def _spec(curves, rng, objective: str) -> dict:
    """A budget and random limits on about a third of the lines (and one excluded line)."""
    cap = sum(ln.max_spend for ln in curves.lines)
    spec: dict = {"budget": round(cap * rng.uniform(0.1, 0.9), 2), "lines": []}
    if objective != "results":
        spec["objective"] = objective
    for ln in curves.lines[1:]:
        u, top = rng.uniform(), ln.max_spend
        rule = {"network": ln.network, "segment": ln.segment, "period": ln.period}
        if u < 0.15:
            rule["max"] = round(top * rng.uniform(0.05, 1.3), 2)
        elif u < 0.25:
            rule["min"] = round(top * rng.uniform(0.02, 0.4), 2)
        elif u < 0.3:
            rule["lock"] = round(top * rng.uniform(0.05, 0.9), 2)
        elif u < 0.35:
            rule["min"] = round(top * rng.uniform(0.02, 0.2), 2)
            rule["max"] = round(top * rng.uniform(0.4, 0.9), 2)
        else:
            continue
        spec["lines"].append(rule)
    first = curves.lines[0]
    spec["exclude"] = {"lines": [{"network": first.network, "segment": first.segment,
                                  "period": first.period}]}  # fmt: skip
    return spec


def _instance(seed: int):
    rng = np.random.default_rng([18, seed])
    objective = OBJECTIVES[seed % 3]
    curves = synthetic_curves(3, 3, 3, 5, seed=seed, value=objective != "results")
    return curves, _spec(curves, rng, objective)


def _same(a, b, where: str = "plan", rel: float = 1e-6, budget: float = 1.0) -> None:
    """Assert two JSON values equal: floats to ``rel`` (1e-9 absolute), the rest exactly.

    CBC's values carry about 8 digits, and a percentage made of a difference of two of them
    (``cheaper_by_pct``) about 6: against CBC floats are compared to 1e-5.
    """
    if isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a.keys() ^ b.keys())}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}", rel, budget)
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _same(u, v, f"{where}[{i}]", rel, budget)
    elif isinstance(a, float) and isinstance(b, float):
        # amounts of money: CBC's are off by up to ~1e-8 of the plan's budget
        money = rel > 1e-6 and where.rsplit(".", 1)[-1] in MONEY
        tol = 1e-8 * budget if money else 1e-9
        assert a == pytest.approx(b, rel=rel, abs=tol), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _plan(curves, spec, solver: str, fast: bool) -> dict:
    d = allocate(curves, spec, solver=solver, with_ranges=False, fast=fast).to_dict()
    method = d["solver"].pop("method")
    for k in ("seconds", "solve_seconds", "settings"):
        d["solver"].pop(k)
    return {**d, "method": method}


@pytest.mark.parametrize("seed", range(12))
def test_random_plans_equal_the_lp(seed, solver):
    curves, spec = _instance(seed)
    fast = _plan(curves, spec, solver, True)
    lp = _plan(curves, spec, solver, False)
    assert fast.pop("method") == "sort" and lp.pop("method") == "lp"
    _same(fast, lp, rel=RTOL[solver], budget=spec["budget"])


def test_binding_line_rules_are_costed_as_by_the_lp(solver):
    """Caps, floors and locks that bind: the gain of removing each, measured both ways."""
    found = 0
    for seed in range(12):
        curves, spec = _instance(seed)
        fast = allocate(curves, spec, solver=solver, with_ranges=False)
        lp = allocate(curves, spec, solver=solver, with_ranges=False, fast=False)
        for c, d in zip(fast.constraints, lp.constraints, strict=True):
            if c.binding and c.family in ("line_max", "line_min", "lock", "budget"):
                want = pytest.approx(d.gain_if_removed, rel=RTOL[solver], abs=1e-9)
                assert c.gain_if_removed == want
                found += c.gain_if_removed is not None and c.gain_if_removed > 0
    assert found >= 20  # the instances do bind rules of every kind


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frontiers_equal_the_lp(seed, solver):
    curves, spec = _instance(seed)
    cap = sum(ln.max_spend for ln in curves.lines)
    budgets = [cap * f for f in (0.05, 0.2, 0.45, 0.7, 0.95, 1.2)]
    fast = frontier(curves, spec, budgets, solver=solver)
    lp = frontier(curves, spec, budgets, solver=solver, fast=False)
    _same(fast, lp, "frontier", RTOL[solver], max(budgets))


def test_floors_above_the_budget_are_diagnosed_by_the_lp():
    curves, spec = _instance(0)
    spec = {**spec, "budget": 10.0}
    with pytest.raises(InfeasibleError) as fast:
        allocate(curves, spec)
    with pytest.raises(InfeasibleError) as lp:
        allocate(curves, spec, fast=False)
    assert str(fast.value) == str(lp.value) and fast.value.diagnosis == lp.value.diagnosis


def _model(curves, spec):
    return build_model(curves, PlanSpec.from_dict(spec))


def test_ties_and_limits_on_a_tier_end_go_to_the_lp():
    curves = synthetic_curves(1, 2, 1, 4, seed=3)
    a, b = curves.lines
    twin = type(curves)(lines=(a, a.__class__(**{**_fields(a), "segment": "twin"})),
                        currency=curves.currency, result_type=curves.result_type)  # fmt: skip
    budget = a.points[2][0] * 1.5  # both lines' third tier at the margin: a tie
    fill = SortFill.of(_model(twin, {"budget": budget}))
    assert fill is not None and fill.solve(budget) is None
    plan = allocate(twin, {"budget": budget})
    assert plan.solver["method"] == "lp"
    # a cap on a tier's end: the cap's price is not unique
    spec = {"budget": 1e9, "lines": [{"network": b.network, "segment": b.segment,
                                      "period": b.period, "max": b.points[2][0]}]}  # fmt: skip
    assert allocate(curves, spec).solver["method"] == "lp"
    # the budget exactly what every line can take
    whole = sum(ln.max_spend for ln in curves.lines)
    assert allocate(curves, {"budget": whole}).solver["method"] == "lp"
    assert allocate(curves, {"budget": whole * 0.5}).solver["method"] == "sort"


def _fields(line) -> dict:
    return {k: getattr(line, k) for k in line.__slots__ if not k.startswith("_")}


def test_other_rules_are_solved_by_the_lp():
    curves = synthetic_curves(2, 2, 2, 4, seed=1)
    cap = sum(ln.max_spend for ln in curves.lines)
    spec = {"budget": cap / 2, "networks": {"net00": {"max_share": 0.4}}}
    assert SortFill.of(_model(curves, spec)) is None
    assert allocate(curves, spec).solver["method"] == "lp"
    assert math.isfinite(allocate(curves, {"budget": cap / 2}).expected_results)


def test_every_line_locked_leaves_no_piece_to_sort(solver):
    """A re-plan whose open lines are all locked: nothing to sort; the LP's plan, no error."""
    curves = synthetic_curves(1, 2, 2, 3, seed=4)
    locks = [round(ln.max_spend / 3, 2) for ln in curves.lines]
    spec = {"budget": round(sum(locks), 2), "lines": [
        {"network": ln.network, "segment": ln.segment, "period": ln.period, "lock": v}
        for ln, v in zip(curves.lines, locks, strict=True)]}  # fmt: skip
    fast = _plan(curves, spec, solver, True)
    lp = _plan(curves, spec, solver, False)
    fast.pop("method"), lp.pop("method")
    _same(fast, lp, rel=RTOL[solver], budget=spec["budget"])


def _line(name: str, points, value: float | None = None):
    return CurveLine(network=name, segment="s", period="2027-W01", points=tuple(points),
                     value_per_result=value)  # fmt: skip


def _costs(curves, spec, solver="highs") -> list[tuple]:
    """(method, {rule: gain if removed}) of the sort's plan and of the LP's (gains 0 if none)."""
    out = []
    for fast in (True, False):
        plan = allocate(curves, spec, solver=solver, with_ranges=False, fast=fast)
        gains = {c.name: c.gain_if_removed or 0.0 for c in plan.constraints}
        out.append((plan.solver["method"], gains))
    return out


def test_a_floor_on_tiers_worth_less_than_nothing_frees_money_to_leave_unspent():
    """Profit: dropping the floor saves its loss even where no tier can take the money."""
    curves = Curves(lines=(_line("a", [(0, 0), (10, 5)], 1.0), _line("b", [(0, 0), (10, 20)], 1.0)),
                    currency="EUR", result_type="r")  # fmt: skip
    floor = {"network": "a", "segment": "s", "period": "2027-W01", "min": 5.0}
    spec = {"budget": 14.0, "objective": "profit", "lines": [floor]}
    (m1, fast), (m2, lp) = _costs(curves, spec)
    assert fast == pytest.approx(lp) and lp["line_min__a/s/2027-W01"] == 3.5


def test_lifting_a_cap_displaces_as_many_tiers_as_it_takes():
    """A cap on a big line: lifting it moves money out of 5,000 small lines (no cut-off)."""
    small = [_line(f"n{i:05d}", [(0, 0), (1, 2.0 - i * 1e-4)]) for i in range(5000)]
    big = _line("x", [(0, 0), (2, 20), (10002, 90020)])
    curves = Curves(lines=(*small, big), currency="EUR", result_type="r")
    cap = {"network": "x", "segment": "s", "period": "2027-W01", "max": 1.0}
    (m1, fast), (m2, lp) = _costs(curves, {"budget": 5000.5, "lines": [cap]})
    assert m1 == "sort" and fast == pytest.approx(lp, rel=1e-9)
    assert fast["line_max__x/s/2027-W01"] == pytest.approx(36247.00005, rel=1e-9)


def test_a_ruled_line_of_equal_tiers_goes_to_the_lp():
    """Value 0: every tier of the line has objective 0; the LP may split its floor any way."""
    curves = Curves(lines=(_line("a", [(0, 0), (1, 2), (4, 3.5), (6, 4.5)], 0.0),
                           _line("b", [(0, 0), (3, 9), (8, 12)], 2.0)),
                    currency="EUR", result_type="r")  # fmt: skip
    floor = {"network": "a", "segment": "s", "period": "2027-W01", "min": 1.5}
    plan = allocate(curves, {"budget": 3.25, "objective": "profit", "lines": [floor]})
    assert plan.solver["method"] == "lp"


def test_a_frontier_the_sort_cannot_decide_takes_the_lps_strategy(monkeypatch):
    """A lowest budget below a line's floor: the LP's strategy, that point infeasible."""
    curves = synthetic_curves(2, 2, 2, 4, seed=1)
    ln = curves.lines[3]
    floor = {"network": ln.network, "segment": ln.segment, "period": ln.period,
             "min": ln.max_spend / 2}  # fmt: skip
    cap = sum(x.max_spend for x in curves.lines)
    seen = []
    real = allocate_module.sweep_strategy
    monkeypatch.setattr(
        allocate_module, "sweep_strategy", lambda *a: seen.append(real(*a)) or seen[-1]
    )
    budgets = [ln.max_spend / 4, *(cap * f for f in (0.2, 0.4, 0.6, 0.8, 1.0))]
    points = frontier(curves, {"budget": cap / 2, "lines": [floor]}, budgets)
    assert seen == ["reduced"]
    assert [p["status"] for p in points] == ["infeasible", *["optimal"] * 5]


def test_a_frontier_splits_a_tie_its_own_way_at_the_lps_optimum():
    """Twin lines tie at the margin: a plan goes to the LP, a frontier point is sorted."""
    curves = synthetic_curves(1, 2, 1, 4, seed=3)
    a = curves.lines[0]
    twin = Curves(lines=(a, CurveLine(**{**_fields(a), "segment": "twin"})),
                  currency=curves.currency, result_type=curves.result_type)  # fmt: skip
    budget = a.points[2][0] * 1.5
    assert allocate(twin, {"budget": budget}).solver["method"] == "lp"
    fast = frontier(twin, {"budget": budget}, [budget, budget * 1.2])
    lp = frontier(twin, {"budget": budget}, [budget, budget * 1.2], fast=False)
    _same(fast, lp, "frontier", 1e-9, budget)


def _value_ties(rng) -> Curves:
    """Four lines whose tiers' value per unit repeat across lines of different values."""
    lines = []
    for i in range(4):
        v = float(rng.choice([1.0, 2.0, 4.0]))
        objective = sorted(rng.choice([8.0, 6.0, 4.0, 3.0, 2.0], size=3, replace=False))[::-1]
        widths = rng.uniform(5, 20, size=3)
        pts, x, y = [(0.0, 0.0)], 0.0, 0.0
        for o, w in zip(objective, widths, strict=True):
            x, y = x + float(w), y + float(w) * o / v
            pts.append((x, y))
        lines.append(_line(f"n{i}", pts, v))
    return Curves(lines=tuple(lines), currency="EUR", result_type="r")


def test_a_frontier_point_at_a_tie_is_the_plan_a_fresh_lp_gives():
    """Under value, tiers of equal value per unit may bring different results: the sort
    splits them in the crash basis's order, so each point equals a fresh LP's plan.
    """
    rng = np.random.default_rng(18)
    for _ in range(30):
        curves = _value_ties(rng)
        top = sum(ln.max_spend for ln in curves.lines)
        spec = {"budget": top / 2, "objective": "value"}
        budgets = list(np.linspace(0.1, 0.9, 9) * top)
        for b, p in zip(budgets, frontier(curves, spec, budgets), strict=True):
            fresh = allocate(curves, {**spec, "budget": b}, with_ranges=False, fast=False)
            assert p["expected_results"] == pytest.approx(fresh.expected_results, rel=1e-9)


def test_the_bounds_read_from_line_rows_are_the_rules():
    """Each line's floor and cap come from its own row (a lock sets both)."""
    curves = synthetic_curves(1, 3, 2, 4, seed=6)
    a, b, c = curves.lines[:3]

    def rule(ln, **limits):
        return {"network": ln.network, "segment": ln.segment, "period": ln.period, **limits}

    spec = {"budget": 1e4, "lines": [rule(a, min=10.0, max=50.0), rule(b, lock=20.0),
                                     rule(c, max=c.max_spend * 2)]}  # fmt: skip
    fill = SortFill.of(_model(curves, spec))
    assert fill is not None
    bounds, rows = fill.b, _model(curves, spec).rows
    assert bounds.lo[:3].tolist() == [10.0, 20.0, 0.0]
    assert bounds.hi[:3].tolist() == [50.0, 20.0, pytest.approx(c.max_spend)]
    assert bounds.cap[:3].tolist() == [50.0, 20.0, c.max_spend * 2]
    assert [rows[r].family for r in bounds.lo_row[:2]] == ["line_min", "lock"]
    assert [rows[r].family for r in bounds.hi_row[:3]] == ["line_max", "lock", "line_max"]
    assert bounds.lo_row[2] == -1 and bounds.lo_row[3:].tolist() == [-1] * 3
