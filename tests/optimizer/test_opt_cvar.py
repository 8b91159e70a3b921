"""The risk-aware plan (objective cvar, optimizer/cvar.py) against independent solves.

- The Rockafellar-Uryasev LP written again here, from the curve points, in PuLP and solved
  by CBC, reaches the objective the plan reports (HiGHS and CBC alike), and that objective
  is the mean of the worst alpha share of the plan's own scenario results, sorted by hand.
- Two one-tier lines and a binding budget: the best split found on a fine grid.
- A certain line beside a slightly cheaper, very uncertain one: the plan raises its P10 on
  scenarios it was not built on, and says what it gives up in mean results.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pulp
import pytest

from optimizer import Curves, allocate
from optimizer.curves import CurveLine, Spread
from optimizer.cvar import CVAR_SCENARIOS, scenario_slopes, tail_mean
from optimizer.errors import SpecError
from optimizer.model import build_model
from optimizer.risk import SEED, draw_world
from optimizer.spec import PlanSpec

SOLVERS = ("highs", "cbc")


def _curves() -> Curves:
    lines = []
    for i, (net, seg) in enumerate((("meta", "a"), ("meta", "b"), ("tiktok", "a"))):
        k = 1000.0 * (i + 1)
        pts = [(0.0, 0.0)] + [(k * t, k / (9 + i) * np.sqrt(t)) for t in (0.5, 1.0, 2.0, 4.0)]
        sp = Spread(0.01 * (i + 1), float(np.log(k)), 0.05 * (i + 1), 0.0)
        for period in ("2027-W01", "2027-W02"):
            lines.append(CurveLine(net, seg, period, pts, spread=sp))
    return Curves(tuple(lines), result_type="purchases")


SPEC = {"budget": 9000, "objective": "cvar", "alpha": 0.2, "networks": {"tiktok": {"max": 3000}}}


def _scenarios(curves: Curves, spec: dict) -> tuple[list, np.ndarray]:
    """Return the planned lines and the LP's scenario slopes (one row per scenario)."""
    mean = replace(PlanSpec.from_dict(spec), objective="results", alpha=None)
    model = build_model(curves, mean)
    world = draw_world(model.lines, CVAR_SCENARIOS, SEED + 1, with_noise=False, antithetic=True)
    return model.lines, scenario_slopes(model, world)


def _independent_cvar(lines, a: np.ndarray, spec: dict) -> float:
    """Solve max CVaR by the Rockafellar-Uryasev LP in PuLP/CBC, tiers from the points."""
    k, alpha = a.shape[0], spec["alpha"]
    prob = pulp.LpProblem("cvar", pulp.LpMaximize)
    tiers, col = [], 0
    for i, ln in enumerate(lines):
        for j in range(len(ln.points) - 1):
            width = ln.points[j + 1][0] - ln.points[j][0]
            tiers.append((ln, pulp.LpVariable(f"x{i}_{j}", 0, width), col))
            col += 1
    eta = pulp.LpVariable("eta", 0)
    u = [pulp.LpVariable(f"u{s}", 0) for s in range(k)]
    prob += eta - pulp.lpSum(u) / (alpha * k)
    prob += pulp.lpSum(x for _, x, _ in tiers) <= spec["budget"]
    prob += pulp.lpSum(x for ln, x, _ in tiers if ln.network == "tiktok") <= 3000
    for s in range(k):
        prob += u[s] >= eta - pulp.lpSum(float(a[s, c]) * x for _, x, c in tiers)
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[prob.status] == "Optimal"
    return float(pulp.value(prob.objective))


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_cvar_lp_matches_an_independent_solve(solver):
    curves = _curves()
    plan = allocate(curves, SPEC, solver=solver)
    lines, a = _scenarios(curves, SPEC)
    want = _independent_cvar(lines, a, SPEC)
    assert plan.risk["lp"]["objective"] == pytest.approx(want, rel=1e-6)
    # ... and it is the mean of the worst 20% of the plan's scenario results, sorted here
    spend = {(p.network, p.segment, p.period): p.spend for p in plan.lines}
    res = np.zeros(a.shape[0])
    col = 0
    for ln in lines:
        left = spend[ln.key]
        for j in range(len(ln.points) - 1):
            width = ln.points[j + 1][0] - ln.points[j][0]
            res += a[:, col] * min(max(left, 0.0), width)
            left -= width
            col += 1
    worst = np.sort(res)[: int(0.2 * len(res))]
    assert worst.mean() == pytest.approx(want, rel=1e-6)
    assert plan.total_spend <= 9000 * (1 + 1e-9)
    tiktok = sum(p.spend for p in plan.lines if p.network == "tiktok")
    assert tiktok <= 3000 * (1 + 1e-9)


def test_scenario_curves_are_concave():
    curves = _curves()
    lines, a = _scenarios(curves, SPEC)
    col = 0
    for ln in lines:
        n = len(ln.points) - 1
        block = a[:, col : col + n]
        assert np.all(np.diff(block, axis=1) <= 1e-12) and np.all(block >= 0)
        col += n


def _two_lines(cheap_sd: float) -> Curves:
    certain = Spread(0.0004, 0.0, 0.0, 0.0)
    risky = Spread(cheap_sd**2, 0.0, 0.0, 0.0)
    return Curves(
        (
            CurveLine("meta", "a", "2027-W01", ((0, 0), (1000, 100)), spread=certain),
            CurveLine("tiktok", "a", "2027-W01", ((0, 0), (1000, 105)), spread=risky),
        ),
        result_type="purchases",
    )


def test_two_one_tier_lines_split_as_a_grid_search_says():
    curves = _two_lines(0.3)
    spec = {"budget": 1000, "objective": "cvar", "alpha": 0.1}
    plan = allocate(curves, spec)
    _, a = _scenarios(curves, spec)
    grid = np.linspace(0, 1000, 2001)  # tiktok's spend, the rest on meta
    tails = [tail_mean(a[:, 0] * (1000 - x) + a[:, 1] * x, 0.1) for x in grid]
    assert plan.risk["lp"]["objective"] == pytest.approx(max(tails), rel=1e-4)
    assert plan.risk["lp"]["objective"] >= max(tails) - 1e-9


def test_a_risk_aware_plan_raises_p10_and_says_what_it_costs():
    curves = _two_lines(0.3)
    mean = allocate(curves, {"budget": 1000})
    risky = next(p for p in mean.lines if p.network == "tiktok")
    assert risky.spend == pytest.approx(1000)  # the mean plan takes the cheaper, risky line
    plan = allocate(curves, {"budget": 1000, "objective": "cvar"})
    r = plan.risk
    assert r["alpha"] == 0.1 and r["scenarios"] == CVAR_SCENARIOS
    assert r["this_plan"]["p10"] > r["mean_plan"]["p10"] + 5  # on worlds it was not built on
    assert (
        0
        < r["mean_results_given_up"]
        == pytest.approx(r["mean_plan"]["mean"] - r["this_plan"]["mean"])
    )
    assert r["mean_plan"]["mean"] == pytest.approx(mean.expected_results)
    assert "gives up" in r["words"] and r["words"] not in plan.notes  # said once, in risk
    assert {"rows", "columns", "nonzeros", "seconds"} <= set(r["lp"])
    d = plan.to_dict()
    assert d["objective"] == "cvar" and d["risk"] == r and d["ranges"]["total"]["p10"] > 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"alpha": 0.1}, "only objective cvar has an alpha"),
        ({"objective": "cvar", "alpha": 1.5}, "must be above 0 and below 1"),
        ({"objective": "cvar", "alpha": 0}, "must be above 0 and below 1"),
        ({"objective": "cvar", "min_line_spend": 10}, "cannot be combined"),
    ],
)
def test_bad_cvar_specs_are_refused_with_what_to_do(spec, message):
    with pytest.raises(SpecError, match=message):
        PlanSpec.from_dict({"budget": 100, **spec})


def test_alpha_round_trips_in_the_spec():
    spec = PlanSpec.from_dict({"budget": 100, "objective": "cvar", "alpha": 0.05})
    assert spec.to_dict() == {"budget": 100, "objective": "cvar", "alpha": 0.05}
