"""On/off plans always finish: the Lagrangian guess, the bound, the time limit and the gap.

Every optimum and bound is checked against ``scipy.optimize.milp`` on the independent
formulation of ``test_opt_independent.py`` (docs/optimizer.md's rules, written apart).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from optimizer import Curves, allocate, frontier, min_budget_for_results
from optimizer.errors import SpecError
from optimizer.mip import lagrangian_switches, relative_gap
from optimizer.model import build_model
from optimizer.spec import PlanSpec
from optimizer.synthetic import synthetic_curves

from .test_opt_independent import formulate, random_curves, solve

SOLVERS = ["highs", "cbc"]
ADPLAN = str(Path(sys.executable).with_name("adplan"))


def _case(seed: int, rule: str, shares: bool) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    cd = random_curves(rng, value=False)
    cap = sum(d["points"][-1][0] for d in cd["lines"])
    spec: dict = {"budget": round(cap * float(rng.uniform(0.15, 0.5)))}
    if rule == "min_line_spend":
        spec["min_line_spend"] = round(float(rng.uniform(300, 1200)))
    else:
        spec["max_active_lines"] = int(rng.integers(1, len(cd["lines"])))
    if shares:  # a rule the Lagrangian guess leaves out: the LP repairs, the bound loosens
        first = cd["lines"][0]["network"]
        spec["networks"] = {first: {"min_share": 0.5}}
    return cd, spec


@pytest.mark.parametrize("rule", ["min_line_spend", "max_active_lines"])
@pytest.mark.parametrize("seed", range(12))
def test_lagrangian_bound_is_an_upper_bound(seed, rule):
    cd, spec = _case(seed, rule, shares=seed % 2 == 1)
    best, _ = solve(formulate(cd, spec))
    guess = lagrangian_switches(build_model(Curves.from_dict(cd), PlanSpec.from_dict(spec)))
    assert guess is not None and best is not None  # every draw here is feasible
    assert guess.bound >= best - 1e-6 * max(1.0, abs(best))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("rule", ["min_line_spend", "max_active_lines"])
@pytest.mark.parametrize("seed", range(6))
def test_optimum_and_proof(seed, rule, solver):
    cd, spec = _case(100 + seed, rule, shares=seed % 2 == 1)
    best, _ = solve(formulate(cd, spec))
    assert best is not None, "these draws are feasible: the plan must be compared"
    plan = allocate(Curves.from_dict(cd), spec, solver=solver)
    assert plan.status == "optimal"
    assert plan.expected_results == pytest.approx(best, rel=1e-6, abs=1e-6)
    info = plan.solver
    assert info["mip"] is True and info["search"] in ("lagrangian", "rounding", "branch and bound")
    assert info["gap"] <= 1e-6
    assert info["bound"] >= best - 1e-6 * abs(best)
    assert info["time_limit"] == 60.0


def test_many_lines_proven_by_the_guess():
    """1,000 lines, the budget and min_line_spend: the Lagrangian bound meets the plan.

    (On a handful of lines the relaxation has a duality gap; on many it closes.)
    """
    curves = synthetic_curves(8, 25, 5, seed=1)
    plan = allocate(curves, {"budget": 1_697_794, "min_line_spend": 1_900})
    assert plan.status == "optimal"
    assert plan.solver["search"] == "lagrangian"
    assert plan.solver["gap"] <= 1e-7
    spends = [ln.spend for ln in plan.lines]
    assert min(s for s in spends if s > 0) >= 1_900 - 1e-6
    assert sum(1 for s in spends if s == 0) > 100  # the minimum binds: many lines off


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_returns_best_plan_with_gap(solver):
    """A limit too short to prove optimality: the best plan found, its gap and a note."""
    cd, spec = _case(3, "min_line_spend", shares=True)
    curves = Curves.from_dict(cd)
    best, _ = solve(formulate(cd, spec))
    plan = allocate(curves, spec, solver=solver, time_limit=1e-3)
    info = plan.solver
    assert plan.status in ("time_limit", "optimal")
    assert plan.status == "time_limit", "this draw needs more than the guess to be proven"
    assert plan.expected_results <= best + 1e-6 * best
    assert info["bound"] >= best - 1e-6 * best
    assert info["gap"] == pytest.approx(relative_gap(info["bound"], plan.expected_results))
    assert info["gap"] > 1e-7
    assert any("time limit of 0.001 s" in n and "proven within" in n for n in plan.notes)
    # the plan keeps every rule: the share floor and the minimum per line switched on
    spend = {ln.network: 0.0 for ln in plan.lines}
    for ln in plan.lines:
        spend[ln.network] += ln.spend
        assert ln.spend == 0 or ln.spend >= spec["min_line_spend"] - 1e-6
    first = cd["lines"][0]["network"]
    assert spend[first] >= 0.5 * plan.total_spend - 1e-6


def test_frontier_points_carry_status_and_gap():
    cd, spec = _case(3, "min_line_spend", shares=True)
    pts = frontier(Curves.from_dict(cd), spec, [spec["budget"] * 0.8, spec["budget"]])
    assert all(p["status"] in ("optimal", "time_limit") for p in pts)
    short = frontier(Curves.from_dict(cd), spec, [spec["budget"]], time_limit=1e-3)
    assert short[0]["status"] == "time_limit" and short[0]["gap"] > 0


def test_target_plan_with_onoff_rules_finishes():
    cd, spec = _case(5, "max_active_lines", shares=False)
    curves = Curves.from_dict(cd)
    reach = allocate(curves, spec).expected_results
    plan = min_budget_for_results(curves, spec, 0.5 * reach, time_limit=30)
    assert plan.status in ("optimal", "time_limit")
    assert plan.expected_results >= 0.5 * reach - 1e-6


@pytest.mark.parametrize("bad", [0, -5, float("nan"), 1e9])
def test_time_limit_out_of_range_is_refused(bad):
    cd, spec = _case(1, "min_line_spend", shares=False)
    with pytest.raises(SpecError, match="time limit"):
        allocate(Curves.from_dict(cd), spec, time_limit=bad)


def _write_case(tmp_path: Path) -> tuple[Path, Path, dict]:
    cd, spec = _case(3, "min_line_spend", shares=True)
    (tmp_path / "c.json").write_text(json.dumps(cd))
    (tmp_path / "s.json").write_text(json.dumps(spec))
    return tmp_path / "c.json", tmp_path / "s.json", spec


def test_cli_time_limit_json(tmp_path):
    c, s, _ = _write_case(tmp_path)
    args = [ADPLAN, "optimize", "--curves", str(c), "--spec", str(s), "--json"]
    r = subprocess.run([*args, "--time-limit", "0.001"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["status"] == "time_limit" and plan["solver"]["gap"] > 0
    env = {"ADPLAN_TIME_LIMIT": "0.001", "PATH": ""}
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    assert json.loads(r.stdout)["status"] == "time_limit"


@pytest.mark.parametrize("bad", ["0", "-1", "abc"])
def test_cli_bad_time_limit_exits_2(tmp_path, bad):
    c, s, _ = _write_case(tmp_path)
    args = ["optimize", "--curves", str(c), "--spec", str(s), "--time-limit", bad]
    r = CliRunner().invoke(cli_app, args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "time" in r.stderr.lower()
