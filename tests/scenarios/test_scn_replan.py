"""Re-planning mid-quarter: locked periods equal the actuals, the total stays in budget."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from optimizer import load_curves
from scenarios.replan import period_bounds, period_of, replan

ACTUALS = [
    {
        "date": "2027-01-05",
        "network": "meta",
        "segment": "f-25-34",
        "result_type": "purchases",
        "spend": 3000.0,
    },
    {
        "date": "2027-01-19",
        "network": "meta",
        "segment": "f-25-34",
        "result_type": "purchases",
        "spend": 500.0,
    },
    {
        "date": "2027-01-12",
        "network": "tiktok",
        "segment": "m-25-34",
        "result_type": "purchases",
        "spend": 2500.0,
    },
    {
        "date": "2027-02-03",
        "network": "google",
        "segment": "retargeting",
        "result_type": "purchases",
        "spend": 1500.0,
    },
    {
        "date": "2027-01-08",
        "network": "snapchat",
        "segment": "f-25-34",
        "result_type": "purchases",
        "spend": 700.0,
    },
    {
        "date": "2027-02-20",
        "network": "meta",
        "segment": "m-25-34",
        "result_type": "purchases",
        "spend": 999.0,
    },
]


@pytest.fixture(scope="module")
def result(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    spec = yaml.safe_load((examples_dir / "plan.yaml").read_text())
    return curves, spec, replan(curves, spec, ACTUALS, dt.date(2027, 2, 15))


def test_elapsed_periods_are_locked_at_actuals(result):
    curves, spec, res = result
    spend = {(ln["network"], ln["segment"], ln["period"]): ln["spend"] for ln in res.plan["lines"]}
    jan = [k for k in spend if k[2] == "2027-01"]
    assert jan
    for k in jan:
        want = {("meta", "f-25-34"): 3500.0, ("tiktok", "m-25-34"): 2500.0}.get(k[:2], 0.0)
        assert spend[k] == pytest.approx(want, abs=1e-6), k
    # the current month: what was spent is a floor
    assert spend[("google", "retargeting", "2027-02")] >= 1500.0 - 1e-6
    rows = {(r["network"], r["segment"], r["period"]): r for r in res.rows}
    assert rows[("meta", "f-25-34", "2027-01")]["actual"] == 3500.0
    assert rows[("meta", "f-25-34", "2027-01")]["status"] == "elapsed"
    assert rows[("meta", "f-25-34", "2027-03")]["actual"] is None
    r = rows[("meta", "f-25-34", "2027-01")]
    assert r["over_under_plan"] == pytest.approx(r["replanned"] - r["planned"])


def test_total_within_budget_with_off_plan_spend(result):
    curves, spec, res = result
    # snapchat has no curve: its 700 is off-plan and taken off the budget
    assert res.off_plan_spend == pytest.approx(700.0)
    assert res.plan["total_spend"] + res.off_plan_spend <= spec["budget"] + 1e-6
    assert res.plan["total_spend"] == pytest.approx(spec["budget"] - 700.0, rel=1e-6)
    assert any("snapchat" in w for w in res.warnings)
    assert any("on or after 2027-02-15" in w for w in res.warnings)  # the 999 after as-of
    d = res.to_dict()
    assert d["replan"]["actual_spend"] == pytest.approx(3500 + 2500 + 1500 + 700)
    # locking January at less than planned cannot find more results than the free plan
    assert res.plan["expected_results"] <= res.original["expected_results"] + 1e-6


def test_period_helpers():
    assert period_bounds("2027-W01") == (dt.date(2027, 1, 4), dt.date(2027, 1, 11))
    assert period_bounds("2027-12") == (dt.date(2027, 12, 1), dt.date(2028, 1, 1))
    assert period_of(dt.date(2027, 1, 3), "week") == "2026-W53"
    assert period_of(dt.date(2027, 1, 3), "month") == "2027-01"
