"""The frontier's reduced LP: points certified on it equal fresh solves of the full LP."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import PlanSpec, allocate, frontier
from optimizer.model import build_model
from optimizer.solvers import HighsSolver
from optimizer.sweep import Reduced
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves


@pytest.fixture(scope="module")
def case():
    curves = synthetic_curves(4, 6, 4, 6, seed=11)
    spec = PlanSpec.from_dict(benchmark_spec_dict(curves, 0.4))
    return curves, spec


def _solve(model, budget):
    model.row_ub[model.budget_row] = budget
    s = HighsSolver(model)
    return s.solve()


def test_reduced_model_fixes_tiers_and_certifies(case):
    curves, spec = case
    model = build_model(curves, spec)
    lo, hi, mid = spec.budget * 0.6, spec.budget * 1.4, spec.budget
    x_lo, x_hi = _solve(model, lo).x, _solve(model, hi).x
    red = Reduced(model, x_lo, x_hi)
    assert red.ok and red.model.n_col < model.n_col
    rsol = _solve(red.model, mid)
    full = _solve(model, mid)
    assert rsol.optimal and red.certify(rsol.row_dual)
    x = red.full_x(rsol.x)
    assert float(model.c @ x) == pytest.approx(full.objective, rel=1e-9)
    # duals that do not price the removed tiers right are refused
    bad = rsol.row_dual.copy()
    bad[0] += 10.0
    assert not red.certify(bad)


def test_many_budget_frontier_equals_fresh_solves(case):
    curves, spec = case
    budgets = list(np.linspace(spec.budget * 0.3, spec.budget * 2.0, 9))
    points = frontier(curves, spec, budgets)
    for p in points:
        fresh = allocate(curves, spec.with_budget(p["budget"]))
        assert p["expected_results"] == pytest.approx(fresh.expected_results, rel=1e-9)
        assert p["total_spend"] == pytest.approx(fresh.total_spend, rel=1e-9)
