"""Defects a reviewer found, each pinned: results floor slack, diagnosis at scale, period shares,
unspent budgets, file names in errors.
"""

from __future__ import annotations

import json
import re

import pytest

from optimizer import CurveError, InfeasibleError, SpecError, allocate, load_curves, load_spec

from .conftest import make_curves
from .test_opt_hand import rule, spend


def test_results_floor_that_does_not_bind_reports_its_true_slack(ab, solver):
    leads = {
        "result_type": "leads",
        "lines": [
            {"network": "a", "segment": "all", "period": "2027-01", "points": [[0, 0], [200, 100]]},
            {"network": "b", "segment": "all", "period": "2027-01", "points": [[0, 0], [100, 50]]},
        ],
    }
    spec = {"budget": 150, "results_floors": [{"result_type": "leads", "min": 10, "curves": leads}]}
    plan = allocate(ab, spec, solver=solver)
    # same plan as without the floor: A 100 (50 leads), B 50 (25 leads)
    assert spend(plan) == pytest.approx({"a/2027-01": 100.0, "b/2027-01": 50.0}, abs=1e-6)
    assert plan.other_results["leads"] == pytest.approx(75.0, abs=1e-6)
    fl = rule(plan, "results_floor__leads")
    assert not fl.binding
    assert fl.slack == pytest.approx(65.0, abs=1e-6)
    assert fl.shadow_price == 0.0


def test_results_floor_that_binds_still_binds(ab, solver):
    leads = {
        "result_type": "leads",
        "lines": [
            {"network": "b", "segment": "all", "period": "2027-01", "points": [[0, 0], [100, 50]]}
        ],
    }
    spec = {"budget": 150, "results_floors": [{"result_type": "leads", "min": 40, "curves": leads}]}
    fl = rule(allocate(ab, spec, solver=solver), "results_floor__leads")
    assert fl.binding and fl.slack == 0.0
    assert fl.shadow_price == pytest.approx(-1.0, abs=1e-7)


@pytest.fixture
def replan():
    """200 past lines (2 networks x 25 segments x 4 weeks) locked at 250; one future week."""
    lines, locks = {}, []
    segs = [f"s{i:02d}" for i in range(25)]
    for n in ("meta", "tiktok"):
        for s in segs:
            for w in ("2026-W50", "2026-W51", "2026-W52", "2026-W53"):
                lines[(n, s, w)] = [[0, 0], [400, 40], [800, 60]]
                locks.append({"network": n, "segment": s, "period": w, "lock": 250})
            lines[(n, s, "2027-W01")] = [[0, 0], [1000, 90], [3000, 150]]
    return make_curves(lines), locks


def test_diagnosis_treats_locks_as_facts(replan):
    curves, locks = replan
    # the locks spend 50,000; the future week wants 20,000 more of a 60,000 budget
    spec = {"budget": 60000, "lines": locks, "periods": {"2027-W01": {"min": 20000}}}
    with pytest.raises(InfeasibleError) as e:
        allocate(curves, spec)
    msg = str(e.value)
    assert "lock__" not in msg
    assert all(not d["rule"].startswith("lock__") for d in e.value.diagnosis)
    assert msg == (
        "the 2027-W01 period floor (period_min__2027-W01) and the locked lines need 70,000 of "
        "a 60,000 budget: raise the budget by 10,000, or lower the 2027-W01 period floor by "
        "10,000"
    )
    assert [r["words"] for r in e.value.repairs] == [
        "raise the budget by 10,000",
        "lower the 2027-W01 period floor by 10,000",
    ]
    assert {d["rule"] for d in e.value.diagnosis} == {"budget", "period_min__2027-W01"}


def test_locks_over_the_budget_ask_for_budget_not_for_moving_past_spend(replan):
    curves, locks = replan
    with pytest.raises(InfeasibleError) as e:
        allocate(curves, {"budget": 45000, "lines": locks})
    assert str(e.value) == (
        "the locked lines need 50,000 of a 45,000 budget: raise the budget by 5,000"
    )
    assert [d["rule"] for d in e.value.diagnosis] == ["budget"]


def test_a_lock_no_curve_can_absorb_is_still_named():
    curves = make_curves({("x", "all", "2027-01"): [[0, 0], [100, 10]]})
    spec = {
        "budget": 500,
        "lines": [{"network": "x", "segment": "all", "period": "2027-01", "lock": 300}],
    }
    with pytest.raises(InfeasibleError) as e:
        allocate(curves, spec)
    assert "lock__x/all/2027-01" in str(e.value)
    assert e.value.diagnosis[0]["relax_alone_by"] == pytest.approx(200)


def test_a_conflict_of_many_rules_is_named_by_their_kind():
    segs = [f"s{i:02d}" for i in range(12)]
    curves = make_curves({("meta", s, "2027-01"): [[0, 0], [9000, 900]] for s in segs})
    spec = {"budget": 60000, "segments": {s: {"min": 6000} for s in segs}}
    with pytest.raises(InfeasibleError) as e:
        allocate(curves, spec)
    msg = str(e.value)
    assert not re.findall(r"segment_min__s\d\d", msg)  # 12 ids are hard to act on
    assert msg == (
        "12 segment floors need 72,000 of a 60,000 budget: raise the budget by 12,000, or "
        "lower the 12 segment floors by 12,000 together"
    )
    assert len(e.value.diagnosis) == 13  # the full list: budget + 12 floors


def test_design_example_reads_well():
    pts = [[0, 0], [40000, 2000], [80000, 3000]]
    curves = make_curves({(n, "all", "2027-01"): pts for n in ("meta", "tiktok", "x")})
    spec = {"budget": 60000, "networks": {"meta": {"min": 40000}, "tiktok": {"min": 32000}}}
    with pytest.raises(InfeasibleError) as e:
        allocate(curves, spec)
    assert str(e.value) == (
        "the Meta and TikTok network floors (network_min__meta, network_min__tiktok) need "
        "72,000 of a 60,000 budget: raise the budget by 12,000, or lower the TikTok network "
        "floor by 12,000, or lower the Meta network floor by 12,000"
    )


def test_period_shares_solved_by_hand(solver):
    # A (2027-01) brings 2 per EUR, B (2027-02) 1 per EUR, each up to 100; budget 100
    c = make_curves(
        {("a", "s", "2027-01"): [[0, 0], [100, 200]], ("b", "s", "2027-02"): [[0, 0], [100, 100]]}
    )
    plan = allocate(c, {"budget": 100, "periods": {"2027-02": {"min_share": 0.3}}}, solver=solver)
    assert spend(plan) == pytest.approx({"a/2027-01": 70.0, "b/2027-02": 30.0}, abs=1e-6)
    assert plan.expected_results == pytest.approx(170.0, abs=1e-6)
    # one more EUR of room on the floor: B +1, A -1 -> -1 result
    assert rule(plan, "period_share_min__2027-02").shadow_price == pytest.approx(-1.0, abs=1e-7)
    # one more EUR of budget goes 70/30: 0.7 x 2 + 0.3 x 1
    assert rule(plan, "budget").shadow_price == pytest.approx(1.7, abs=1e-7)
    plan = allocate(c, {"budget": 100, "periods": {"2027-01": {"max_share": 0.6}}}, solver=solver)
    assert spend(plan) == pytest.approx({"a/2027-01": 60.0, "b/2027-02": 40.0}, abs=1e-6)
    assert rule(plan, "period_share_max__2027-01").shadow_price == pytest.approx(1.0, abs=1e-7)
    assert rule(plan, "budget").shadow_price == pytest.approx(1.6, abs=1e-7)


def test_period_share_floors_over_100_percent_are_refused():
    c = make_curves({("a", "s", "2027-01"): [[0, 0], [100, 200]]})
    spec = {"budget": 10, "periods": {"2027-01": {"min_share": 0.7}, "2027-02": {"min_share": 0.5}}}
    with pytest.raises(SpecError, match="120%"):
        allocate(c, spec)


def test_unspent_budget_is_explained(ab):
    # every tier costs 0.5 EUR per result or more: a 0.4 ceiling allows no spend at all
    plan = allocate(ab, {"budget": 150, "max_cost_per_result": 0.4})
    assert plan.total_spend == 0.0
    assert plan.notes and "max_cost_per_result" in plan.notes[0]
    assert "150" in plan.notes[0]
    assert plan.to_dict()["notes"] == list(plan.notes)
    # more budget than the curves absorb (300)
    plan = allocate(ab, {"budget": 1000})
    assert plan.total_spend == pytest.approx(300.0)
    assert "every line is at the end of its curve" in " ".join(plan.notes)
    # spent in full: nothing to say
    assert allocate(ab, {"budget": 150}).notes == ()


def test_spec_errors_against_the_curves_name_the_spec_file(tmp_path, ab):
    f = tmp_path / "plan.yaml"
    f.write_text("budget: 100\nnetworks:\n  snapchat: {max: 10}\n")
    with pytest.raises(SpecError) as e:
        allocate(ab, load_spec(f))
    assert str(e.value).startswith(f"{f}: networks.snapchat: no curve has network 'snapchat'")
    assert "known networks: a, b" in str(e.value)


def test_duplicate_curve_line_names_the_file(tmp_path):
    line = {"network": "a", "segment": "s", "period": "2027-01", "points": [[0, 0], [1, 1]]}
    f = tmp_path / "curves.json"
    f.write_text(json.dumps({"lines": [line, line]}))
    with pytest.raises(CurveError) as e:
        load_curves(f)
    assert str(e.value).startswith(f"{f}: lines[1]: line a/s/2027-01 appears twice")
