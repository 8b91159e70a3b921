"""Spend stops where the next result is not worth it: marginal ceilings and the profit objective.

Curves of the ``ab`` fixture: A costs 0.5 per result for its first 100 EUR (slope 2), then 1
up to 200; B costs 0.667 (slope 1.5) up to 100. Every optimum below is derived by hand.
"""

from __future__ import annotations

import json

import pytest

from optimizer import PlanSpec, SpecError, allocate, frontier, min_budget_for_results

from .conftest import make_curves

A = {"network": "a", "segment": "all", "period": "2027-01"}
B = {"network": "b", "segment": "all", "period": "2027-01"}


def spend(plan) -> dict[str, float]:
    return {ln.network: ln.spend for ln in plan.lines}


def rule(plan, name: str):
    (c,) = [c for c in plan.constraints if c.name == name]
    return c


def test_a_plan_wide_marginal_ceiling_stops_dear_spend(ab, solver):
    """Ceiling 0.8: A's second tier (1 per result) is cut; A1 100 + B 100, 800 EUR unspent.

    Removing the ceiling adds A2: 100 EUR for 100 more purchases.
    """
    plan = allocate(ab, {"budget": 1000, "max_marginal_cost_per_result": 0.8}, solver=solver)
    assert spend(plan) == pytest.approx({"a": 100.0, "b": 100.0}, abs=1e-6)
    assert plan.expected_results == pytest.approx(350.0, rel=1e-9)
    ceiling = rule(plan, "max_marginal_cost")
    assert ceiling.binding and ceiling.gain_if_removed == pytest.approx(100.0, rel=1e-6)
    assert ceiling.shadow_price == pytest.approx(1.0, rel=1e-6)
    assert plan.unspent["amount"] == pytest.approx(800.0, rel=1e-9)
    first = plan.unspent["stopped_by"][0]
    assert (first["rule"], first["lines"], first["room"]) == ("max_marginal_cost", 1, 100.0)
    (note,) = plan.notes
    assert "800 EUR left" in note and "max_marginal_cost" in note
    a = next(ln for ln in plan.lines if ln.network == "a").limited_by
    assert (a.cause, a.rule) == ("rule", "max_marginal_cost")


def test_a_ceiling_that_the_budget_makes_moot_does_not_bind(ab, solver):
    """Budget 100 all goes to A1 (0.5 per result): the 0.8 ceiling stops nothing."""
    plan = allocate(ab, {"budget": 100, "max_marginal_cost_per_result": 0.8}, solver=solver)
    ceiling = rule(plan, "max_marginal_cost")
    assert not ceiling.binding and ceiling.gain_if_removed is None
    assert "max_marginal_cost" not in [e["rule"] for e in plan.to_dict()["ledger"]]
    assert plan.unspent == {"amount": 0.0, "stopped_by": []}


@pytest.mark.parametrize(
    ("ceilings", "want"),
    [
        ({"networks": {"a": 0.4}}, {"a": 0.0, "b": 100.0}),  # A1 costs 0.5 > 0.4
        ({"networks": {"b": 0.6}}, {"a": 200.0, "b": 0.0}),  # B costs 0.667 > 0.6
        ({"all": 2, "networks": {"a": 0.9}}, {"a": 100.0, "b": 100.0}),  # the lowest holds
        ({"lines": [{**B, "max": 0.6}]}, {"a": 200.0, "b": 0.0}),
        ({"segments": {"all": 0.9}}, {"a": 100.0, "b": 100.0}),
    ],
)
def test_ceilings_per_network_segment_and_line(ab, solver, ceilings, want):
    spec = {"budget": 1000, "max_marginal_cost_per_result": ceilings}
    plan = allocate(ab, spec, solver=solver)
    assert spend(plan) == pytest.approx(want, abs=1e-6)
    assert PlanSpec.from_dict(spec).to_dict() == spec


def test_a_ceiling_equal_to_a_tier_cost_keeps_that_tier(ab, solver):
    """A2 costs exactly 1 per result: a ceiling of 1 allows it."""
    plan = allocate(ab, {"budget": 1000, "max_marginal_cost_per_result": 1}, solver=solver)
    assert spend(plan) == pytest.approx({"a": 200.0, "b": 100.0}, abs=1e-6)


def test_profit_spends_only_where_a_result_is_worth_its_cost(ab, solver):
    """Value 0.8 per purchase: A1 (0.5) and B (0.667) pay, A2 (1) loses 0.2 per EUR.

    Spend 200 of 1,000: value (200 + 150) x 0.8 = 280, profit 80.
    """
    spec = {"budget": 1000, "objective": "profit", "value_per_result": 0.8}
    plan = allocate(ab, spec, solver=solver)
    assert spend(plan) == pytest.approx({"a": 100.0, "b": 100.0}, abs=1e-6)
    assert plan.expected_value == pytest.approx(280.0, rel=1e-9)
    assert plan.expected_profit == pytest.approx(80.0, rel=1e-9)
    a = next(ln for ln in plan.lines if ln.network == "a").limited_by
    assert a.cause == "not_worth" and "0.8 EUR it is worth" in a.words
    assert plan.unspent["stopped_by"][0]["cause"] == "not_worth"
    assert plan.to_dict()["expected_profit"] == pytest.approx(80.0)


def test_profit_with_a_binding_budget_says_how_much_cheaper(ab, solver):
    """Value 1.2, budget 150: profit per EUR A1 1.4, B 0.8, A2 0.2: A1 100 + B 50.

    Money's price is B's 0.8: A2 gets spend once 1.2 x slope - 1 >= 0.8, i.e. a result
    costs 1.2 / 1.8 = 0.667 instead of 1 (33.3% less).
    """
    spec = {"budget": 150, "objective": "profit", "value_per_result": 1.2}
    plan = allocate(ab, spec, solver=solver)
    assert spend(plan) == pytest.approx({"a": 100.0, "b": 50.0}, abs=1e-6)
    a = next(ln for ln in plan.lines if ln.network == "a").limited_by
    assert a.cause == "price"
    assert a.needed_cost_per_result == pytest.approx(2 / 3, rel=1e-6)
    assert a.cheaper_by_pct == pytest.approx(100 / 3, rel=1e-6)


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ({"purchases": 0.8}, {"a": 100.0, "b": 100.0}),
        ({"purchases": 0.8, "networks": {"a": 1.5}}, {"a": 200.0, "b": 100.0}),
        ({"purchases": 0.8, "lines": [{**B, "value": 0.5}]}, {"a": 100.0, "b": 0.0}),
        ({"leads": 5, "networks": {"a": 0.6, "b": 0.7}}, {"a": 100.0, "b": 100.0}),
    ],
)
def test_values_per_result_type_network_and_line(ab, solver, values, want):
    spec = {"budget": 1000, "objective": "profit", "value_per_result": values}
    plan = allocate(ab, spec, solver=solver)
    assert spend(plan) == pytest.approx(want, abs=1e-6)
    assert PlanSpec.from_dict(spec).to_dict() == spec


def test_a_curve_line_s_own_value_is_used_where_the_spec_gives_none(solver):
    curves = make_curves(
        {("a", "all", "2027-01"): [[0, 0], [100, 200], [200, 300]]},
    )
    raw = curves.to_dict()
    raw["lines"][0]["value_per_result"] = 0.8
    from optimizer import Curves

    plan = allocate(Curves.from_dict(raw), {"budget": 1000, "objective": "profit"}, solver=solver)
    assert spend(plan) == pytest.approx({"a": 100.0}, abs=1e-6)


def test_value_objective_spends_the_budget_profit_does_not(ab, solver):
    """Objective value maximises value, so it spends on A2 even at a loss; profit does not."""
    value = allocate(ab, {"budget": 1000, "objective": "value", "value_per_result": 0.8})
    assert value.total_spend == pytest.approx(300.0)
    assert value.expected_profit is None
    profit = allocate(ab, {"budget": 1000, "objective": "profit", "value_per_result": 0.8})
    assert profit.total_spend == pytest.approx(200.0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"max_marginal_cost_per_result": 0}, "must be above 0"),
        ({"max_marginal_cost_per_result": {"networks": {"a": -1}}}, "must be >= 0"),
        ({"max_marginal_cost_per_result": {"al": 3}}, r"unknown keys \['al'\]"),
        ({"max_marginal_cost_per_result": {"lines": [A]}}, "lacks max"),
        ({"value_per_result": -1, "objective": "profit"}, "must be >= 0"),
        ({"value_per_result": {"lines": [{**A, "max": 1}]}}, r"unknown keys \['max'\]"),
        ({"objective": "margin"}, "must be 'results', 'value', 'profit' or 'cvar'"),
    ],
)
def test_bad_economics_are_refused_with_what_to_do(spec, message):
    with pytest.raises(SpecError, match=message):
        PlanSpec.from_dict({"budget": 100, **spec})


def test_profit_without_a_value_says_where_to_give_one(ab):
    with pytest.raises(SpecError, match="has no value per result; give value_per_result"):
        allocate(ab, {"budget": 100, "objective": "profit"})


def test_a_ceiling_on_a_network_no_curve_has_suggests_the_name(ab):
    spec = {"budget": 100, "max_marginal_cost_per_result": {"networks": {"aa": 1}}}
    with pytest.raises(SpecError, match="no curve has network 'aa'"):
        allocate(ab, spec)


def test_a_value_under_a_platform_alias_is_read_as_the_curves_network(solver):
    """Mutation: the plan reading the spec as written (NaN value and profit for 'facebook')."""
    curves = make_curves(
        {("meta", "all", "2027-01"): [[0, 0], [100, 200], [200, 300]],
         ("tiktok", "all", "2027-01"): [[0, 0], [100, 150]]}
    )  # fmt: skip
    base = {"budget": 1000, "objective": "profit"}
    alias = allocate(
        curves,
        {**base, "value_per_result": {"networks": {"facebook": 0.8, "tiktok": 0.8}}},
        solver=solver,
    )
    plain = allocate(
        curves,
        {**base, "value_per_result": {"networks": {"meta": 0.8, "tiktok": 0.8}}},
        solver=solver,
    )
    assert alias.expected_profit == pytest.approx(plain.expected_profit) == pytest.approx(80.0)
    assert "nan" not in json.dumps(alias.to_dict()).lower()


@pytest.mark.parametrize("objective", ["value", "profit"])
def test_a_target_is_reached_whatever_the_objective(ab, solver, objective):
    """400 purchases need A1 100 + B 100 + A2 50: 250 EUR, planned for results (a note says so)."""
    spec = {"budget": 1000, "objective": objective, "value_per_result": 0.8}
    plan = min_budget_for_results(ab, spec, 400, solver=solver)
    assert plan.total_spend == pytest.approx(250.0, rel=1e-6)
    assert plan.expected_results == pytest.approx(400.0, rel=1e-6)
    assert any(f"the objective '{objective}' does not apply" in n for n in plan.notes)


def test_a_frontier_under_profit_gives_no_marginal_cost_per_result(ab, solver):
    """The budget's price is profit per EUR there, not results per EUR."""
    spec = {"budget": 150, "objective": "profit", "value_per_result": 1.2}
    (point,) = frontier(ab, spec, [150], solver=solver)
    assert point["marginal_cost_per_result"] is None and point["marginal_results_per_unit"] is None
    (point,) = frontier(ab, {"budget": 150}, [150], solver=solver)
    assert point["marginal_cost_per_result"] == pytest.approx(2 / 3, rel=1e-6)


def test_a_ceiling_that_stops_nothing_is_not_blamed(solver):
    """Line a is flat after 100, b costs 12.5 per result: budget 1000, ceiling 1000.

    The ceiling changes nothing: a's flat tier brings nothing (no_results), and the 800 EUR
    left are not said to be stopped by the ceiling.
    """
    curves = make_curves(
        {("a", "all", "2027-01"): [[0, 0], [100, 10], [200, 10]],
         ("b", "all", "2027-01"): [[0, 0], [100, 8]]}
    )  # fmt: skip
    plan = allocate(curves, {"budget": 1000, "max_marginal_cost_per_result": 1000}, solver=solver)
    a = next(ln for ln in plan.lines if ln.network == "a").limited_by
    assert a.cause == "no_results"
    assert "max_marginal_cost" not in {g["rule"] for g in plan.unspent["stopped_by"]}
    assert "max_marginal_cost" not in plan.notes[0]


def test_a_ceiling_above_the_price_leaves_the_price_named(solver):
    """Ceiling 25, budget 250: a costs 2 per result for 100, then 25; b costs 50.

    a takes all 250 (its second tier costs exactly the ceiling, so it is allowed) and sets the
    price of money at 25 per result; b's 50 is dearer than that: price holds b, not the
    ceiling, though the ceiling also covers b.
    """
    curves = make_curves(
        {("a", "all", "2027-01"): [[0, 0], [100, 50], [300, 58]],
         ("b", "all", "2027-01"): [[0, 0], [100, 2]]}
    )  # fmt: skip
    plan = allocate(curves, {"budget": 250, "max_marginal_cost_per_result": 25}, solver=solver)
    b = next(ln for ln in plan.lines if ln.network == "b").limited_by
    assert b.cause == "price", b


def test_a_flat_tier_under_profit_brings_no_results(solver):
    curves = make_curves({("a", "all", "2027-01"): [[0, 0], [100, 10], [200, 10]]})
    plan = allocate(
        curves, {"budget": 1000, "objective": "profit", "value_per_result": 20}, solver=solver
    )
    a = plan.lines[0].limited_by
    assert a.cause == "no_results" and "- EUR" not in a.words
