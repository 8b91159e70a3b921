"""Known truth: the results a plan loses by being made from fitted curves, not the true ones.

History is drawn from the known law of test_known_truth_law.py (two years, 12 lines, spend
±45% week to week, Poisson results). Curves for the 13 weeks of Q1 2027 are forecast
(``model="glm"``) and the optimizer plans a budget on them (HiGHS and CBC). Independently,
the TRUE optimum is solved by hand: on each line-week the truth is a power law
``results = K·s^(1 - e_n)`` (strictly concave), so the best plan under the budget and the
same per-line-week caps (each fitted curve's last spend) gives every line below its cap
the same marginal results, ``K·b·s^(b-1) = lam``; ``lam`` is found by bisection
(``known_truth_tools.water_fill``), not by the LP. Both plans are valued on the true curves:

    loss = 1 - true(plan from the fitted curves) / true(optimum)   <= 0.5%

Budgets: the sum of the lines' reference spend over the quarter (1.0x) and 0.6x of it.

The test tells good curves from bad: a plan from the naive flat-CPR baseline
(``CPRBaseline(4)``, linear curves up to the same caps) must lose clearly more (measured
12-21%) and over-promise its results (measured +73% to +85%).

Each case prints its figures (``-s`` shows them). For diagnosis, ``disc_loss`` is the loss of
a plan made from the TRUE curves read only at the fitted curve's own spend points (so the
loss of the piecewise-linear, ``CURVE_POINTS``-point reading alone, without any fitting
error).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from forecasting.baselines import CPRBaseline
from forecasting.curves import forecast_curves
from forecasting.features import aggregate_panel
from optimizer import SOLVERS, CurveLine, Curves, allocate

from . import test_known_truth_law as law
from .known_truth_tools import water_fill, week_start

MAX_LOSS = 0.005
SEEDS = (0, 1)
BUDGET_MULTIPLES = (1.0, 0.6)


def _true_results(network: str, segment: str, period: str, spend: float) -> float:
    if spend <= 0:
        return 0.0
    return float(law.expected_results(network, segment, week_start(period), spend))


@functools.cache
def _forecast(seed: int):
    h = law.history(seed=seed)
    r = forecast_curves(h, "2027-01-04", "2027-03-31", period="week", model="glm")
    assert len(r.curves.periods) == 13 and r.curves.periods[0] == "2027-W01"
    return h, r


def _true_value(plan) -> float:
    return sum(_true_results(p.network, p.segment, p.period, p.spend) for p in plan.lines)


def _true_optimum(curves: Curves, budget: float) -> tuple[float, np.ndarray]:
    """Return the true optimum's results and spends (same caps as ``curves``), by hand."""
    lines = curves.lines
    caps = np.array([ln.max_spend for ln in lines])
    # K = results at spend 1 (results = K·s^b exactly), b = 1 - e_n
    k = np.array([_true_results(ln.network, ln.segment, ln.period, 1.0) for ln in lines])
    b = np.array([1.0 - law.NETWORKS[ln.network][1] for ln in lines])
    s = water_fill(k, b, caps, budget)
    # the optimum's conditions, checked: equal marginal results below the caps, no more at caps
    marginal = k * b * s ** (b - 1.0)
    free = s < caps * (1 - 1e-9)
    lam = marginal[free].mean()
    assert np.allclose(marginal[free], lam, rtol=1e-6)
    assert np.all(marginal[~free] >= lam * (1 - 1e-6))
    return float((k * s**b).sum()), s


def _baseline_curves(h: pd.DataFrame, curves: Curves) -> Curves:
    """Return linear curves (flat CPR of the last 4 weeks) up to the fitted curves' caps."""
    base = CPRBaseline(4).fit(aggregate_panel(h, "week"))
    rows = pd.DataFrame(
        {
            "network": [ln.network for ln in curves.lines],
            "segment": [ln.segment for ln in curves.lines],
            "spend": [ln.max_spend for ln in curves.lines],
            "start": [week_start(ln.period) for ln in curves.lines],
        }
    )
    at_cap = base.predict(rows)
    lines = [
        CurveLine(ln.network, ln.segment, ln.period, [(0.0, 0.0), (ln.max_spend, float(r))])
        for ln, r in zip(curves.lines, at_cap, strict=True)
    ]
    return Curves(tuple(lines), currency=curves.currency, result_type=curves.result_type)


def _true_curves_at_fitted_points(curves: Curves) -> Curves:
    """Return the true curves read at each fitted curve's spend points (diagnosis only)."""
    lines = [
        CurveLine(
            ln.network,
            ln.segment,
            ln.period,
            [(s, _true_results(ln.network, ln.segment, ln.period, s)) for s, _ in ln.points],
        )
        for ln in curves.lines
    ]
    return Curves(tuple(lines), currency=curves.currency, result_type=curves.result_type)


def _budget(curves: Curves, multiple: float) -> float:
    return multiple * sum(law.ref_spend(ln.network, ln.segment) for ln in curves.lines)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("multiple", BUDGET_MULTIPLES)
@pytest.mark.parametrize("seed", SEEDS)
def test_plan_from_fitted_curves_loses_at_most_half_a_percent(seed, multiple, solver):
    assert solver in SOLVERS
    h, r = _forecast(seed)
    budget = _budget(r.curves, multiple)
    best, _ = _true_optimum(r.curves, budget)
    plan = allocate(r.curves, {"budget": budget}, solver=solver)
    assert plan.status == "optimal"
    assert plan.total_spend == pytest.approx(budget, rel=1e-6)
    got = _true_value(plan)
    loss = 1.0 - got / best
    promise = plan.expected_results / got - 1.0
    disc = allocate(_true_curves_at_fitted_points(r.curves), {"budget": budget}, solver=solver)
    disc_loss = 1.0 - _true_value(disc) / best
    figures = (
        f"seed={seed} budget={multiple}x ({budget:,.0f}) solver={solver}: loss={loss:.4%} "
        f"promised/true={promise:+.3%} disc_loss={disc_loss:.4%}"
    )
    print(figures)
    # the harness: no feasible plan can beat the true optimum
    assert loss >= -1e-9 and disc_loss >= -1e-9, figures
    # what the plan promises is what it gets, within 2%
    assert abs(promise) < 0.02, figures
    assert loss <= MAX_LOSS, figures


@pytest.mark.parametrize("multiple", BUDGET_MULTIPLES)
@pytest.mark.parametrize("seed", SEEDS)
def test_a_flat_cpr_plan_loses_clearly_more_and_over_promises(seed, multiple):
    h, r = _forecast(seed)
    budget = _budget(r.curves, multiple)
    best, _ = _true_optimum(r.curves, budget)
    loss = 1.0 - _true_value(allocate(r.curves, {"budget": budget})) / best
    for solver in SOLVERS:
        naive = allocate(_baseline_curves(h, r.curves), {"budget": budget}, solver=solver)
        got = _true_value(naive)
        naive_loss = 1.0 - got / best
        over = naive.expected_results / got - 1.0
        figures = (
            f"seed={seed} budget={multiple}x solver={solver}: curves loss={loss:.4%} "
            f"mean_cpr_4 loss={naive_loss:.3%} over-promise={over:+.1%}"
        )
        print(figures)
        assert naive_loss > 0.05, figures
        assert naive_loss > 10 * loss, figures
        assert over > 0.25, figures
