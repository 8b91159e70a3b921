"""The frontier's reduced LP: points certified on it equal fresh solves of the full LP."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from optimizer import PlanSpec, allocate, frontier
from optimizer.allocate import solver_for, sweep_strategy
from optimizer.model import build_model
from optimizer.solvers import HighsSolver, make_solver
from optimizer.sweep import Reduced
from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

# the module (``optimizer.allocate`` the attribute is the function of that name)
allocate_module = importlib.import_module("optimizer.allocate")


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


@pytest.mark.parametrize("n", [3, 9])  # fewer than six budgets: no reduced LP
@pytest.mark.parametrize("restart_from", [0, 10**9])  # from the crash basis / warm
def test_each_strategy_gives_the_fresh_solves(case, monkeypatch, restart_from, n):
    curves, spec = case
    monkeypatch.setattr(allocate_module, "RESTART_COLUMNS", restart_from)
    model = build_model(curves, spec)
    want = "reduced" if n == 9 else "restart" if restart_from == 0 else "warm"
    assert sweep_strategy(model, HighsSolver(model), n) == want
    budgets = list(np.linspace(spec.budget * 0.3, spec.budget * 2.0, n))
    for p in frontier(curves, spec, budgets):
        fresh = allocate(curves, spec.with_budget(p["budget"]), with_ranges=False)
        assert p["expected_results"] == pytest.approx(fresh.expected_results, rel=1e-9)
        assert p["marginal_results_per_unit"] == pytest.approx(
            fresh.constraints[0].shadow_price, rel=1e-6
        )


def test_the_strategy_follows_the_rules_and_the_size(case):
    curves, spec = case
    model = build_model(curves, spec)
    assert sweep_strategy(model, HighsSolver(model), 9) == "reduced"
    assert sweep_strategy(model, HighsSolver(model), 3) == "warm"  # about 1,000 columns
    assert sweep_strategy(model, make_solver(model, "cbc"), 9) == "warm"
    budget_only = build_model(curves, PlanSpec.from_dict({"budget": spec.budget}))
    assert sweep_strategy(budget_only, solver_for(budget_only, None, None), 9) == "sort"
    assert sweep_strategy(budget_only, solver_for(budget_only, None, None, fast=False), 9) == (
        "reduced"
    )


def test_the_ledger_from_the_crash_basis_costs_the_rules_as_warm(case, monkeypatch):
    """Large models re-solve each removed rule from the crash basis: the same gains."""
    curves, spec = case
    ledger = importlib.import_module("optimizer.ledger")
    warm = allocate(curves, spec, with_ranges=False)
    monkeypatch.setattr(ledger, "RESTART_COLUMNS", 0)
    cold = allocate(curves, spec, with_ranges=False)
    gains = [(c.name, c.gain_if_removed) for c in warm.constraints if c.gain_if_removed]
    assert len(gains) >= 2
    for (name, gain), c in zip(
        gains, (c for c in cold.constraints if c.gain_if_removed), strict=True
    ):
        assert c.name == name and c.gain_if_removed == pytest.approx(gain, rel=1e-7, abs=1e-9)


def test_a_reduced_lp_cut_from_a_reduced_lp_is_the_one_cut_from_the_full(case):
    """Bisection cuts each span's LP from its outer span's: the same tiers fixed, the same LP."""
    curves, spec = case
    model = build_model(curves, spec)
    lo, hi = spec.budget * 0.5, spec.budget * 1.5
    x_lo, x_hi = _solve(model, lo).x, _solve(model, hi).x
    outer = Reduced(model, x_lo, x_hi)
    outer.model.row_ub[model.budget_row] = spec.budget * 0.6  # near lo: most tiers stay put
    sol = HighsSolver(outer.model).solve()
    assert sol.optimal and outer.certify(sol.row_dual)
    x_mid = outer.full_x(sol.x)
    inner, direct = outer.within(x_lo, x_mid), Reduced(model, x_lo, x_mid)
    assert inner.ok and direct.ok
    assert set(inner.up) == set(direct.up) and set(inner.low) == set(direct.low)
    assert np.array_equal(inner.keep, direct.keep)
    assert np.array_equal(inner.x_fixed, direct.x_fixed)
    assert inner.model.spent_offset == pytest.approx(direct.model.spent_offset, rel=1e-12)
    for name in ("c", "col_ub", "indptr", "indices", "data"):
        assert np.array_equal(getattr(inner.model, name), getattr(direct.model, name)), name
    rows = np.arange(model.n_row) != model.budget_row  # (each point sets the budget)
    assert np.allclose(inner.model.row_ub[rows], direct.model.row_ub[rows], rtol=1e-12, atol=1e-9)
    assert np.allclose(inner.model.row_lb, direct.model.row_lb, rtol=1e-12, atol=1e-9)
    budget = spec.budget * 0.55
    for r in (inner, direct):
        r.model.row_ub[model.budget_row] = budget
    a, b = HighsSolver(inner.model).solve(), HighsSolver(direct.model).solve()
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    assert inner.certify(a.row_dual)
    fresh = _solve(model, budget)
    assert a.objective + float(model.c @ inner.x_fixed) == pytest.approx(fresh.objective, rel=1e-9)
