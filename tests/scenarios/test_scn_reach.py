"""Reach plans show no total across periods anywhere: comparisons, deltas, reports, the CLI.

The curves count reach per month (``additive: false``): people reached in January and in
February cannot be added (some are the same people). Every figure is worked out by hand
below; each test walks what is shown and checks that no total across periods appears.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import Curves, PlanSpec, allocate, min_budget_for_results
from optimizer.curves import CurveLine
from optimizer.errors import InfeasibleError
from scenarios.compare import PlanCase, compare_plans
from scenarios.delta import current_plan_from_dict, delta_plan
from scenarios.report import scenario_html_text
from scenarios.runs import run_scenario
from scenarios.solver import frontier_points

ADPLAN = Path(sys.executable).with_name("adplan")
SPREAD = {"level_var": 0.01, "log_spend_centre": 4.0, "elasticity_se": 0.0, "dispersion": 0.0}
#: each line's curve: reach per 100 EUR (slopes 2.11 then 0.89 for a in January ...)
POINTS = {
    ("a", "2027-01"): [[0, 0], [100, 211], [200, 300]],
    ("a", "2027-02"): [[0, 0], [100, 97], [200, 150]],
    ("b", "2027-01"): [[0, 0], [100, 150]],
    ("b", "2027-02"): [[0, 0], [100, 120]],
}
# at 300 EUR: a/01 100 (211), b/01 100 (150), b/02 100 (120); at 400 also a/02 100 (97)
BY_PERIOD = {
    300: {"2027-01": (200.0, 361.0), "2027-02": (100.0, 120.0)},
    400: {"2027-01": (200.0, 361.0), "2027-02": (200.0, 217.0)},
}
#: totals across periods that must never be shown: the plans' reach (481, 578), b's across
#: its two periods (270), a's at 400 (308), and the costs per result of the totals
SUMS = (481.0, 578.0, 270.0, 308.0, 300 / 481, 400 / 578)


@pytest.fixture(params=["highs", "cbc"])
def solver(request) -> str:
    return request.param


def reach(spread: bool = True) -> Curves:
    """Hand-built curves of monthly reach (``meta={"additive": False}``)."""
    lines = tuple(
        CurveLine(
            network=net,
            segment="s",
            period=period,
            points=tuple(map(tuple, pts)),
            spread=SPREAD if spread else None,
        )
        for (net, period), pts in POINTS.items()
    )
    return Curves(lines=lines, currency="EUR", result_type="reach", meta={"additive": False})


def numbers(x):
    """Yield every number in a JSON structure (keys aside)."""
    if isinstance(x, dict):
        for v in x.values():
            yield from numbers(v)
    elif isinstance(x, list | tuple):
        for v in x:
            yield from numbers(v)
    elif isinstance(x, int | float) and not isinstance(x, bool):
        yield float(x)


def assert_no_sum(data) -> None:
    shown = [v for v in numbers(data) if any(math.isclose(v, s, rel_tol=1e-9) for s in SUMS)]
    assert shown == [], f"totals across periods shown: {shown}"


def period_figures(by_period: dict) -> dict:
    """Return ``{(period, "spend"): ..., (period, "results"): ...}`` of a ``by_period``."""
    out = {}
    for p, t in by_period.items():
        out[(p, "spend")], out[(p, "results")] = t["spend"], t["expected_results"]
    return out


def hand(budget: int) -> dict:
    """Return :data:`BY_PERIOD` at ``budget`` as :func:`period_figures` gives it."""
    return {
        (p, k): v
        for p, sr in BY_PERIOD[budget].items()
        for k, v in zip(("spend", "results"), sr, strict=True)
    }


def case(name: str, budget: float, curves: Curves, solver: str) -> PlanCase:
    spec = PlanSpec.from_dict({"budget": budget})
    return PlanCase(name, spec, allocate(curves, spec, solver=solver), curves=curves)


# -- scenarios.compare ------------------------------------------------------------------------


def test_a_comparison_of_reach_plans_shows_each_period_and_no_total(solver):
    c = reach()
    comp = json.loads(
        json.dumps(compare_plans([case("base", 300, c, solver), case("more", 400, c, solver)]))
    )
    assert comp["results_additive"] is False
    assert "cannot be added across periods" in comp["results_note"]
    assert "person-periods" in comp["results_note"]
    for entry, budget in zip(comp["cases"], (300, 400), strict=True):
        for key in ("expected_results", "cost_per_result", "results_p10", "results_p90"):
            assert entry[key] is None, (entry["name"], key)
        assert period_figures(entry["by_period"]) == pytest.approx(hand(budget))
        assert entry["total_spend"] == pytest.approx(budget)  # spend adds up: it stays
    more = comp["cases"][1]
    assert more["delta"]["expected_results"] is None and more["delta"]["cost_per_result"] is None
    assert more["delta"]["total_spend"] == pytest.approx(100.0)
    assert more["beats_base_probability"] is None  # it would compare totals across periods
    for m in more["moved"]["networks"] + more["moved"]["segments"]:
        assert m["base_results"] is None and m["results"] is None
    assert {m["name"]: m["change"] for m in more["moved"]["networks"]} == {"a": 100.0, "b": 0.0}
    assert_no_sum(comp)


def test_a_comparison_of_additive_plans_keeps_its_totals(solver):
    """The same curves counting purchases (additive): every total is there (the test can tell)."""
    r = reach()
    c = Curves(lines=r.lines, currency="EUR", result_type="purchases")
    comp = compare_plans([case("base", 300, c, solver), case("more", 400, c, solver)])
    assert "results_additive" not in comp and "by_period" not in comp["cases"][0]
    assert comp["cases"][0]["expected_results"] == pytest.approx(481.0)
    assert comp["cases"][1]["delta"]["expected_results"] == pytest.approx(97.0)
    assert comp["cases"][1]["beats_base_probability"] == pytest.approx(1.0)


# -- scenarios.delta ---------------------------------------------------------------------------


def test_a_delta_plan_on_reach_gives_each_periods_change_and_no_total(solver):
    c = reach(spread=False)
    spec = PlanSpec.from_dict({"budget": 300})
    current = current_plan_from_dict(allocate(c, spec, solver=solver).to_dict(), "plan.json")
    result = delta_plan(c, spec, current, 100, solver=solver)
    d = json.loads(json.dumps(result.to_dict()))
    delta = d["delta"]
    for key in ("current_results", "expected_results", "results_change", "cost_per_extra_result"):
        assert delta[key] is None, key
    assert delta["results_additive"] is False and "person-periods" in delta["results_note"]
    feb = delta["by_period"]["2027-02"]
    assert (feb["current_spend"], feb["spend"], feb["spend_change"]) == pytest.approx(
        (100, 200, 100)
    )
    assert (feb["current_results"], feb["expected_results"]) == pytest.approx((120.0, 217.0))
    assert feb["results_change"] == pytest.approx(97.0)
    assert delta["by_period"]["2027-01"]["results_change"] == pytest.approx(0.0)
    assert delta["spend_change"] == pytest.approx(100.0)
    assert any("cannot be added across periods" in n for n in result.delta.notes)
    assert result.delta.cost_per_extra_result is None
    assert d["expected_results"] is None  # the new plan's own JSON, as the optimizer writes it
    assert_no_sum(d)


# -- the optimizer's words and frontier ------------------------------------------------------


def test_a_reach_frontier_point_has_no_total_but_each_period(solver):
    c = reach()
    points = frontier_points(c, PlanSpec.from_dict({"budget": 300}), [300, 400], solver=solver)
    for p, budget in zip(points, (300, 400), strict=True):
        for key in ("expected_results", "cost_per_result", "results_p10", "results_p50"):
            assert p[key] is None, key
        assert p["results_additive"] is False and "person-periods" in p["results_note"]
        assert period_figures(p["by_period"]) == pytest.approx(hand(budget))
        assert p["total_spend"] == pytest.approx(budget) and p["status"] == "optimal"
        plan = allocate(c, {"budget": budget}, solver=solver).to_dict()
        assert period_figures(p["by_period"]) == pytest.approx(period_figures(plan["by_period"]))
    # the next result's cost at the margin is one period's: at 400 a/02's first tier is just
    # full (0.97 per EUR), a/01's second next (0.89): the price is either, or between
    assert 100 / 97 - 1e-9 <= points[1]["marginal_cost_per_result"] <= 100 / 89 + 1e-9
    assert_no_sum(points)


def test_a_reach_cvar_plan_and_target_say_person_periods(solver):
    c = reach()
    plan = allocate(c, {"budget": 300, "objective": "cvar", "alpha": 0.2}, solver=solver)
    assert "person-periods of reach" in plan.risk["words"]
    assert "person-periods" in plan.risk["results_note"]
    with pytest.raises(InfeasibleError, match="1,000 person-periods of reach is out of reach"):
        min_budget_for_results(c, {"budget": 300}, 1000, solver=solver)


# -- the scenario report ---------------------------------------------------------------------


def write_scenario(tmp_path: Path, name: str, budget: float, variant: float | None = None):
    curves = tmp_path / "reach.json"
    if not curves.exists():
        curves.write_text(json.dumps(reach().to_dict()))
    text = f"name: {name}\ncurves: reach.json\nspec: {{budget: {budget}}}\n"
    if variant is not None:
        text += f"variants:\n  - name: more\n    spec: {{budget: {variant}}}\n"
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_the_scenario_report_shows_not_additive_and_each_period(tmp_path, solver):
    run = run_scenario(write_scenario(tmp_path, "base", 300, 400), solver=solver)
    # the page's text, not its embedded charts (base64 can hold any digits)
    html = re.sub(r"data:image/[^\"']+", "", scenario_html_text(run))
    assert "not additive" in html and "cannot be added across periods" in html
    assert "Results by period" in html and "361.00" in html and "217.00" in html
    for total in ("481", "578", "270.00", "308.00"):
        assert total not in html, total
    assert "budget frontier" not in html  # its points have no total to chart
    assert_no_sum(run.comparison)


# -- the real executable ---------------------------------------------------------------------


def adplan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    p = subprocess.run(
        [str(ADPLAN), *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd,
        check=False,
    )  # fmt: skip
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def test_adplan_scenario_compare_on_reach_prints_null_totals(tmp_path, solver):
    a, b = write_scenario(tmp_path, "base", 300), write_scenario(tmp_path, "more", 400)
    args = ("scenario", "compare", str(a), str(b), "--solver", solver)
    comp = json.loads(adplan(*args, "--json", cwd=tmp_path).stdout)
    assert comp["results_additive"] is False and "person-periods" in comp["results_note"]
    base, more = comp["cases"]
    assert base["expected_results"] is None and more["expected_results"] is None
    assert more["delta"]["expected_results"] is None
    assert period_figures(more["by_period"]) == pytest.approx(hand(400))
    assert_no_sum(comp)
    text = " ".join(adplan(*args, cwd=tmp_path).stdout.split())
    assert "not additive" in text and "reach by period" in text
    assert "217.00" in text  # February's reach at 400 EUR
    for total in ("481", "578", "270.00", "308.00"):
        assert total not in text, total


def test_adplan_replan_on_reach_prints_no_total(tmp_path):
    write_scenario(tmp_path, "base", 300)  # writes reach.json
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 300\n")
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(
        "date,network,segment,result_type,spend,results\n2027-01-10,a,s,reach,100,200\n"
    )
    args = ("replan", "--spec", str(spec), "--curves", str(tmp_path / "reach.json"))
    p = adplan(*args, "--actuals", str(actuals), "--as-of", "2027-02-01", cwd=tmp_path)
    text = " ".join(p.stdout.split())
    assert "Totals" in text and "not additive" in text and "person-periods" in text
    # January locked at a's 100 EUR, valued at its actual reach (200, the forecast said 211);
    # February re-planned: b 100 (120), a 100 (97). No total across periods (417 = 200 + 217).
    for total in ("481", "428", "417"):
        assert total not in text, total
    # each period's reach, the only totals a reach plan has: plan 361 / 120, re-plan 200 / 217
    assert "reach by period" in text
    assert "2027-01 361.00 200.00" in " ".join(text.replace("│", " ").split())


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(ADPLAN), *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd,
        check=False,
    )  # fmt: skip


def test_a_reach_frontier_has_no_chart_and_says_why(tmp_path):
    write_scenario(tmp_path, "base", 300)
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 300\n")
    args = ("frontier", "--curves", "reach.json", "--spec", "plan.yaml", "--budgets", "300,400")
    p = run_cli(*args, "--out", "f.png", cwd=tmp_path)
    assert p.returncode == 2 and "cannot be added across periods" in p.stderr
    assert not (tmp_path / "f.png").exists()
    p = run_cli(*args, cwd=tmp_path)
    assert p.returncode == 0 and "cannot be added across periods" in " ".join(p.stderr.split())
    for total in ("481", "578"):
        assert total not in p.stdout, total


def test_a_reach_scenario_run_writes_its_report_but_no_frontier_chart(tmp_path):
    run = run_cli("scenario", "run", str(write_scenario(tmp_path, "base", 300)), "--out", "out",
                  cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "report.html").exists()
    assert not (tmp_path / "out" / "frontier.png").exists()


def test_a_reach_delta_and_ledger_say_no_total_and_person_periods(tmp_path):
    write_scenario(tmp_path, "base", 300)
    (tmp_path / "plan.yaml").write_text("budget: 300\nnetworks:\n  a: {max: 150}\n")
    p = run_cli("optimize", "--curves", "reach.json", "--spec", "plan.yaml", "--out",
                "plan.json", cwd=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.split())
    assert "person-periods of reach if removed" in text
    p = run_cli("optimize", "--curves", "reach.json", "--spec", "plan.yaml", "--from-plan",
                "plan.json", "--extra", "100", cwd=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.replace("│", " ").split())
    assert "not added across periods" in text and "total" in text and "not additive" in text


def test_a_reach_replan_json_has_no_original_total(tmp_path):
    write_scenario(tmp_path, "base", 300)
    (tmp_path / "plan.yaml").write_text("budget: 300\n")
    (tmp_path / "actuals.csv").write_text(
        "date,network,segment,result_type,spend,results\n2027-01-10,a,s,reach,100,200\n"
    )
    p = run_cli("replan", "--spec", "plan.yaml", "--curves", "reach.json", "--actuals",
                "actuals.csv", "--as-of", "2027-02-01", "--json", cwd=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["replan"]["original_expected_results"] is None
    assert d["expected_results"] is None and d["results_additive"] is False
