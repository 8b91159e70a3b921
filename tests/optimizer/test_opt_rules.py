"""Rules on a mid-sized synthetic plan: every rule holds in the plan read back, JSON is clean."""

from __future__ import annotations

import json

import pytest

from optimizer import allocate, frontier
from optimizer.synthetic import synthetic_curves


@pytest.fixture(scope="module")
def curves():
    return synthetic_curves(4, 4, 4, 5, seed=7, value=True)


def test_many_rules_at_once_hold(curves):
    nets, segs, pers = curves.networks, curves.segments, curves.periods
    spec = {
        "budget": 40000,
        "networks": {nets[0]: {"min_share": 0.3}, nets[1]: {"max": 5000}},
        "segments": {segs[0]: {"min": 4000, "max_share": 0.5}},
        "periods": {pers[0]: {"max": 9000}},
        "lines": [{"network": nets[2], "segment": segs[1], "period": pers[1], "lock": 1234.5}],
        "exclude": {"segments": [segs[3]], "networks": [nets[3]]},
        "pacing": {"tolerance": 0.3},
        "max_period_change": 0.4,
        "max_cost_per_result": 40,
    }
    plan = allocate(curves, spec)
    t = plan.total_spend
    by_net, by_seg, by_per = (plan.totals_by(k) for k in ("network", "segment", "period"))
    eps = 1e-6 * t
    assert t <= 40000 + eps
    assert by_net[nets[0]]["spend"] >= 0.3 * t - eps
    assert by_net[nets[1]]["spend"] <= 5000 + eps
    assert nets[3] not in by_net and segs[3] not in by_seg
    assert 4000 - eps <= by_seg[segs[0]]["spend"] <= 0.5 * t + eps
    assert by_per[pers[0]]["spend"] <= 9000 + eps
    spends = [by_per[p]["spend"] for p in pers]
    for s in spends:
        assert 0.7 * t / 4 - eps <= s <= 1.3 * t / 4 + eps
    for a, b in zip(spends, spends[1:], strict=False):
        assert 0.6 * a - eps <= b <= 1.4 * a + eps
    locked = [
        ln
        for ln in plan.lines
        if (ln.network, ln.segment, ln.period) == (nets[2], segs[1], pers[1])
    ]
    assert locked[0].spend == pytest.approx(1234.5)
    assert plan.total_spend <= 40 * plan.expected_results + eps
    assert len(plan.excluded) == 4 * 4 + 4 * 4 - 4
    d = plan.to_dict()
    json.dumps(d, allow_nan=False)
    names = {c["name"] for c in d["constraints"]}
    assert {
        "budget",
        f"network_share_min__{nets[0]}",
        f"network_max__{nets[1]}",
        f"pacing_max__{pers[2]}",
        f"change_min__{pers[1]}",
        "max_cost_per_result",
    } <= names


def test_value_objective_prefers_valuable_lines(curves):
    by_value = allocate(curves, {"budget": 20000, "objective": "value"})
    by_results = allocate(curves, {"budget": 20000})
    assert by_value.expected_value > 0
    assert by_value.expected_results <= by_results.expected_results + 1e-6
    value_of = {ln.key: ln.value_per_result for ln in curves.lines}
    v_results_plan = sum(
        ln.expected_results * value_of[(ln.network, ln.segment, ln.period)]
        for ln in by_results.lines
    )
    assert by_value.expected_value >= v_results_plan - 1e-6


def test_milp_frontier_equals_fresh_solves(curves):
    spec = {"budget": 10000, "min_line_spend": 400, "max_active_lines": 12}
    budgets = [3000, 8000, 15000]
    points = frontier(curves, spec, budgets)
    for p in points:
        plan = allocate(curves, {**spec, "budget": p["budget"]})
        assert p["expected_results"] == pytest.approx(plan.expected_results, rel=1e-7)
        on = [ln for ln in plan.lines if ln.spend > 0]
        assert len(on) <= 12
        assert all(ln.spend >= 400 - 1e-6 for ln in on)
