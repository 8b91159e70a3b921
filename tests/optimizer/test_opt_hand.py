"""Problems small enough to solve by hand: optimum, shadow prices (one sign for every solver),
slack, marginal cost and unfunded lines. Each runs under HiGHS and CBC.
"""

from __future__ import annotations

import pytest

from optimizer import Plan, allocate

from .conftest import make_curves


def rule(plan: Plan, name: str):
    found = [c for c in plan.constraints if c.name == name]
    assert found, f"no rule {name} in {[c.name for c in plan.constraints]}"
    return found[0]


def spend(plan: Plan) -> dict[str, float]:
    return {f"{ln.network}/{ln.period}": ln.spend for ln in plan.lines}


def test_budget_only(ab, solver):
    plan = allocate(ab, {"budget": 150}, solver=solver)
    assert plan.status == "optimal"
    assert plan.expected_results == pytest.approx(275.0, abs=1e-6)
    assert spend(plan) == pytest.approx({"a/2027-01": 100.0, "b/2027-01": 50.0}, abs=1e-6)
    b = rule(plan, "budget")
    assert b.binding and b.slack == 0.0
    assert b.shadow_price == pytest.approx(1.5, abs=1e-7)  # the next unit goes to B at 1.5
    lines = {ln.network: ln for ln in plan.lines}
    assert lines["a"].marginal_cost_per_result == pytest.approx(0.5)  # last unit bought at slope 2
    assert lines["b"].marginal_cost_per_result == pytest.approx(1 / 1.5)
    assert lines["a"].cost_per_result == pytest.approx(0.5)
    assert plan.solver["name"] == solver


def test_floor_has_negative_price(ab, solver):
    plan = allocate(ab, {"budget": 150, "networks": {"b": {"min": 80}}}, solver=solver)
    assert plan.expected_results == pytest.approx(260.0, abs=1e-6)
    assert rule(plan, "budget").shadow_price == pytest.approx(2.0, abs=1e-7)
    # raising the floor by 1 moves a unit from A (slope 2) to B (1.5): -0.5
    assert rule(plan, "network_min__b").shadow_price == pytest.approx(-0.5, abs=1e-7)
    assert rule(plan, "network_min__b").binding


def test_max_share_price_per_unit_of_currency(ab, solver):
    plan = allocate(ab, {"budget": 150, "networks": {"a": {"max_share": 0.5}}}, solver=solver)
    assert plan.expected_results == pytest.approx(262.5, abs=1e-6)
    assert rule(plan, "budget").shadow_price == pytest.approx(1.75, abs=1e-7)
    assert rule(plan, "network_share_max__a").shadow_price == pytest.approx(0.5, abs=1e-7)


def test_budget_above_capacity_is_not_binding(ab, solver):
    plan = allocate(ab, {"budget": 400}, solver=solver)
    assert plan.total_spend == pytest.approx(300.0)
    b = rule(plan, "budget")
    assert not b.binding and b.slack == pytest.approx(100.0) and b.shadow_price == 0.0


def test_cost_per_result_ceiling(solver):
    c = make_curves({("a", "s", "p"): [[0, 0], [100, 200]], ("b", "s", "p"): [[0, 0], [100, 100]]})
    plan = allocate(c, {"budget": 200, "max_cost_per_result": 0.6}, solver=solver)
    # A full (100 -> 200); B x: (100 + x) / (200 + x) <= 0.6 -> x = 50
    assert plan.total_spend == pytest.approx(150.0, abs=1e-6)
    assert plan.cost_per_result == pytest.approx(0.6, abs=1e-7)
    assert rule(plan, "budget").shadow_price == 0.0
    assert rule(plan, "max_cost_per_result").shadow_price == pytest.approx(2.5, abs=1e-7)


def test_lock(ab, solver):
    plan = allocate(
        ab,
        {
            "budget": 150,
            "lines": [{"network": "b", "segment": "all", "period": "2027-01", "lock": 30}],
        },
        solver=solver,
    )
    assert spend(plan)["b/2027-01"] == pytest.approx(30.0)
    assert plan.expected_results == pytest.approx(265.0, abs=1e-6)
    assert rule(plan, "budget").shadow_price == pytest.approx(1.0, abs=1e-7)
    assert rule(plan, "lock__b/all/2027-01").shadow_price == pytest.approx(0.5, abs=1e-7)


def test_value_objective(solver):
    c = make_curves(
        {
            ("a", "s", "p"): ([[0, 0], [100, 200], [200, 300]], 1.0),
            ("b", "s", "p"): ([[0, 0], [100, 150]], 3.0),
        }
    )
    plan = allocate(c, {"budget": 150, "objective": "value"}, solver=solver)
    assert plan.expected_value == pytest.approx(550.0, abs=1e-6)
    assert spend(plan) == pytest.approx({"a/p": 50.0, "b/p": 100.0}, abs=1e-6)
    assert rule(plan, "budget").shadow_price == pytest.approx(2.0, abs=1e-7)  # value per unit


def test_unfunded_says_how_much_cheaper(solver):
    c = make_curves(
        {
            ("a", "s", "p"): [[0, 0], [100, 200], [200, 300]],
            ("b", "s", "p"): [[0, 0], [100, 150]],
            ("c", "s", "p"): [[0, 0], [100, 120]],
        }
    )
    plan = allocate(c, {"budget": 150}, solver=solver)
    (u,) = plan.unfunded
    assert (u["network"], u["segment"], u["period"]) == ("c", "s", "p")
    # the margin pays 1.5 results per unit; C gives 1.2: its results must cost 20% less
    assert u["cheaper_by_pct"] == pytest.approx(20.0, abs=1e-6)
    assert u["needed_cost_per_result"] == pytest.approx(1 / 1.5, abs=1e-7)


def test_pacing_even_split(solver):
    c = make_curves(
        {("a", "s", "2027-01"): [[0, 0], [100, 200]], ("b", "s", "2027-02"): [[0, 0], [100, 100]]}
    )
    plan = allocate(c, {"budget": 100, "pacing": {"tolerance": 0.2}}, solver=solver)
    assert spend(plan) == pytest.approx({"a/2027-01": 60.0, "b/2027-02": 40.0}, abs=1e-6)
    assert plan.expected_results == pytest.approx(160.0, abs=1e-6)
    # degenerate: "period 1 <= 60%" and "period 2 >= 40%" are the same cut, so a solver may
    # price either; their difference is fixed
    price = rule(plan, "pacing_max__2027-01").shadow_price
    price -= rule(plan, "pacing_min__2027-02").shadow_price
    assert price == pytest.approx(1.0, abs=1e-7)
    assert rule(plan, "budget").shadow_price == pytest.approx(1.6, abs=1e-7)


def test_pacing_weights(solver):
    c = make_curves(
        {("a", "s", "2027-01"): [[0, 0], [100, 200]], ("b", "s", "2027-02"): [[0, 0], [100, 100]]}
    )
    spec = {"budget": 100, "pacing": {"tolerance": 0.0, "weights": {"2027-01": 1, "2027-02": 3}}}
    plan = allocate(c, spec, solver=solver)
    assert spend(plan) == pytest.approx({"a/2027-01": 25.0, "b/2027-02": 75.0}, abs=1e-6)


def test_period_change_limit(solver):
    c = make_curves(
        {("a", "s", "2027-01"): [[0, 0], [100, 200]], ("b", "s", "2027-02"): [[0, 0], [100, 100]]}
    )
    plan = allocate(c, {"budget": 90, "max_period_change": 0.5}, solver=solver)
    # period 2 must be at least half of period 1: P1 = 60, P2 = 30
    assert spend(plan) == pytest.approx({"a/2027-01": 60.0, "b/2027-02": 30.0}, abs=1e-6)
    assert rule(plan, "change_min__2027-02").shadow_price == pytest.approx(-2 / 3, abs=1e-7)
    assert rule(plan, "budget").shadow_price == pytest.approx(5 / 3, abs=1e-7)


def test_results_floor_of_another_type(ab, solver):
    leads = {
        "result_type": "leads",
        "lines": [
            {"network": "b", "segment": "all", "period": "2027-01", "points": [[0, 0], [100, 50]]}
        ],
    }
    spec = {"budget": 150, "results_floors": [{"result_type": "leads", "min": 40, "curves": leads}]}
    plan = allocate(ab, spec, solver=solver)
    # 40 leads need 80 on B: same plan as a floor of 80 on B
    assert plan.expected_results == pytest.approx(260.0, abs=1e-6)
    assert plan.other_results["leads"] == pytest.approx(40.0, abs=1e-6)
    # one more lead = 2 more on B, each costing 0.5 results
    assert rule(plan, "results_floor__leads").shadow_price == pytest.approx(-1.0, abs=1e-7)
    assert rule(plan, "results_floor__leads").unit == "leads"


def test_min_line_spend_milp_then_lp_duals(ab, solver):
    plan = allocate(ab, {"budget": 150, "min_line_spend": 60}, solver=solver)
    # B at 50 is not allowed: B 60 + A 90 (270) beats B off (250); every line on is >= 60
    assert spend(plan) == pytest.approx({"a/2027-01": 90.0, "b/2027-01": 60.0}, abs=1e-6)
    assert plan.expected_results == pytest.approx(270.0, abs=1e-6)
    assert plan.solver["mip"] is True
    # duals come from the LP with the on/off choices fixed
    assert rule(plan, "budget").shadow_price == pytest.approx(2.0, abs=1e-7)
    assert rule(plan, "min_line_spend__b/all/2027-01").shadow_price == pytest.approx(-0.5, abs=1e-7)


def test_max_active_lines(ab, solver):
    plan = allocate(ab, {"budget": 150, "max_active_lines": 1}, solver=solver)
    assert spend(plan) == pytest.approx({"a/2027-01": 150.0, "b/2027-01": 0.0}, abs=1e-6)
    assert plan.expected_results == pytest.approx(250.0, abs=1e-6)
    assert [u["network"] for u in plan.unfunded] == ["b"]
    assert "max_active_lines" in plan.unfunded[0]["reason"]


def test_exclusions_drop_lines(ab, solver):
    plan = allocate(ab, {"budget": 150, "exclude": {"networks": ["a"]}}, solver=solver)
    assert [ln.network for ln in plan.lines] == ["b"]
    assert plan.total_spend == pytest.approx(100.0)
    assert plan.excluded == ({"network": "a", "segment": "all", "period": "2027-01"},)


def test_plan_json_contract(ab):
    d = allocate(ab, {"budget": 150}).to_dict()
    for key in (
        "status",
        "budget",
        "total_spend",
        "expected_results",
        "cost_per_result",
        "currency",
        "result_type",
        "lines",
        "constraints",
        "unfunded",
        "solver",
    ):
        assert key in d
    for key in (
        "network",
        "segment",
        "period",
        "spend",
        "expected_results",
        "cost_per_result",
        "marginal_cost_per_result",
    ):
        assert key in d["lines"][0]
    for key in ("name", "description", "binding", "slack", "shadow_price"):
        assert key in d["constraints"][0]
    assert d["total_spend"] == sum(ln["spend"] for ln in d["lines"])
    assert d["expected_results"] == sum(ln["expected_results"] for ln in d["lines"])
    assert {"name", "seconds"} <= set(d["solver"])
