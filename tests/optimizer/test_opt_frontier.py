"""The frontier re-uses one model and is exact at every budget; the budget for a target."""

from __future__ import annotations

import pytest

from optimizer import allocate, frontier, min_budget_for_results
from optimizer.synthetic import synthetic_curves


@pytest.fixture(scope="module")
def curves():
    return synthetic_curves(4, 5, 3, 5, seed=3)


SPEC = {
    "budget": 30000,
    "networks": {"net00": {"max_share": 0.4}, "net01": {"min": 2000}},
    "periods": {"2027-W02": {"max": 15000}},
}


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_frontier_equals_fresh_solves(curves, solver):
    budgets = [5000, 15000, 30000, 60000, 120000, 400000]
    points = frontier(curves, SPEC, budgets, solver=solver)
    assert [p["budget"] for p in points] == budgets
    for p in points:
        plan = allocate(curves, {**SPEC, "budget": p["budget"]}, solver=solver)
        assert p["expected_results"] == pytest.approx(plan.expected_results, rel=1e-8)
        assert p["total_spend"] == pytest.approx(plan.total_spend, rel=1e-8)
        assert p["cost_per_result"] == pytest.approx(plan.cost_per_result, rel=1e-8)
        price = next(c.shadow_price for c in plan.constraints if c.name == "budget")
        if price > 0:
            assert p["marginal_cost_per_result"] == pytest.approx(1 / price, rel=1e-6)
        else:
            assert p["marginal_cost_per_result"] is None
    res = [p["expected_results"] for p in points]
    assert res == sorted(res)
    mc = [p["marginal_cost_per_result"] for p in points if p["marginal_cost_per_result"]]
    assert mc == sorted(mc)  # diminishing returns: each extra result costs more


def test_frontier_marks_infeasible_budgets(curves):
    points = frontier(curves, SPEC, [1000, 30000])
    assert points[0]["status"] == "infeasible" and points[0]["expected_results"] is None
    assert points[1]["status"] == "optimal"


def test_min_budget_for_results(curves):
    plan = allocate(curves, SPEC)
    target = plan.expected_results * 0.8
    best = min_budget_for_results(curves, SPEC, target)
    assert best.target_results == target
    assert best.expected_results == pytest.approx(target, rel=1e-7)
    assert best.total_spend < plan.total_spend
    less = allocate(curves, {**SPEC, "budget": best.total_spend * 0.99})
    assert less.expected_results < target
