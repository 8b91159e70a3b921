"""``adplan demo`` end to end into tmp_path, and a scenario forecast from history."""

from __future__ import annotations

import json

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "[bold]adplan-demo"  # printed as is, not markup
    r = CliRunner().invoke(app, ["demo", "--out", str(out)], terminal_width=400)
    return r, out


def test_demo_runs_every_step(demo):
    r, out = demo
    assert r.exit_code == 0, r.output
    for name in (
        "sample-history.csv",
        "ingest-report.json",
        "backtest.json",
        "curves.json",
        "spec.yaml",
        "plan.json",
        "plan.csv",
        "plan.xlsx",
        "plan.html",
        "scenario.yaml",
        "scenario/q1-2027/plan.json",
        "scenario/budget-minus-10/plan.json",
        "scenario/tiktok-dearer/plan.json",
        "scenario/workbook.xlsx",
        "scenario/report.html",
        "scenario/frontier.png",
    ):
        assert (out / name).is_file(), name
        assert str(out / name) in r.stdout.replace("\n", ""), f"{name} not printed"
    assert "not available" not in r.stdout  # every part of adplan is there
    assert f"adplan demo -> {out}" in r.stdout


def test_demo_outputs_hang_together(demo):
    _, out = demo
    rp = json.loads((out / "replan.json").read_text())
    assert rp["replan"]["as_of"] == "2027-02-01"
    assert rp["replan"]["actual_spend"] > 0
    assert rp["total_spend"] <= rp["budget"] + 1e-6
    plan = json.loads((out / "plan.json").read_text())
    spec = yaml.safe_load((out / "spec.yaml").read_text())
    curves = json.loads((out / "curves.json").read_text())
    assert plan["status"] == "optimal"
    assert plan["total_spend"] <= spec["budget"] + 1e-6
    assert {ln["period"] for ln in curves["lines"]} == {f"2027-W{w:02d}" for w in range(1, 14)}
    base = json.loads((out / "scenario/q1-2027/plan.json").read_text())
    cut = json.loads((out / "scenario/budget-minus-10/plan.json").read_text())
    dear = json.loads((out / "scenario/tiktok-dearer/plan.json").read_text())
    assert base["expected_results"] == pytest.approx(plan["expected_results"], rel=1e-6)
    assert cut["budget"] == pytest.approx(0.9 * spec["budget"])
    assert cut["expected_results"] < base["expected_results"]
    assert dear["expected_results"] < base["expected_results"]
    bt = json.loads((out / "backtest.json").read_text())
    assert bt["chosen"] and any(m["baseline"] for m in bt["models"])
    wb = openpyxl.load_workbook(out / "scenario" / "workbook.xlsx", read_only=False)
    summary = wb["Summary"]
    rows = list(summary.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["q1-2027", "budget-minus-10", "tiktok-dearer"]
    assert rows[0][3] == pytest.approx(base["total_spend"])


def test_scenario_from_history(demo, tmp_path):
    """A scenario file with `history:` forecasts the curves itself."""
    _, out = demo
    sc = {
        "name": "from-history",
        "history": str(out / "sample-history.csv"),
        "from": "2027-01-01",
        "to": "2027-02-28",
        "period": "month",
        "spec": {"budget": 300000, "networks": {"meta": {"min_share": 0.3}}},
        "variants": [{"name": "no-snapchat", "overrides": {"exclude": {"networks": ["snapchat"]}}}],
    }
    p = tmp_path / "h.yaml"
    p.write_text(yaml.safe_dump(sc))
    from scenarios.runs import run_scenario

    run = run_scenario(p, None, frontier=False)
    assert run.curves.periods == ["2027-01", "2027-02"]
    base, nosnap = run.variants
    assert base.ok and nosnap.ok
    meta = sum(ln.spend for ln in base.plan.lines if ln.network == "meta")
    assert meta >= 0.3 * base.plan.total_spend - 1e-6
    assert all(ln.spend == 0 for ln in nosnap.plan.lines if ln.network == "snapchat")


def test_the_demo_floor_costs_less_than_its_price_times_its_size(demo):
    """docs/optimizer.md: the LinkedIn floor's price x size says 743; removing it gains 521.

    The ledger's number is the re-solve; the naive product is not what the rule costs.
    """
    _, out = demo
    plan = json.loads((out / "plan.json").read_text())
    (floor,) = [e for e in plan["ledger"] if e["rule"] == "network_min__linkedin"]
    spec = yaml.safe_load((out / "spec.yaml").read_text())
    naive = -floor["shadow_price"] * spec["networks"]["linkedin"]["min"]
    assert round(naive) == 743 and round(floor["gain_if_removed"]) == 521
    assert floor["words"] == "LinkedIn at least 43,900 EUR" and floor["gain_proven"]
    ends = [c for c in plan["constraints"] if c["family"] == "curve_end"]
    held = sum(ln["spend"] for ln in plan["lines"] if ln["limited_by"]["cause"] == "curve_end")
    assert len(ends) == 29 and round(100 * held / plan["total_spend"]) == 29
