"""Each line names the cause that really binds it; each rule's cost is measured, not guessed.

Every case is solved by hand in its docstring and run under HiGHS and CBC. Curves of the
``ab`` fixture: A costs 0.5 per result for its first 100 (slope 2), then 1 (slope 1) up to
200; B costs 0.667 (slope 1.5) up to 100.
"""

from __future__ import annotations

import pytest

from optimizer import allocate

from .conftest import make_curves

A = {"network": "a", "segment": "all", "period": "2027-01"}
B = {"network": "b", "segment": "all", "period": "2027-01"}


def why(plan, network: str, segment: str = "all"):
    (ln,) = [x for x in plan.lines if x.network == network and x.segment == segment]
    return ln.limited_by


def rule(plan, name: str):
    (c,) = [c for c in plan.constraints if c.name == name]
    return c


def test_price_says_how_much_cheaper(ab, solver):
    """Budget 150: A's first 100 (slope 2), then B's first 50 (1.5): money's price is 1.5.

    A's next result costs 1 (slope 1): it gets spend once it costs 1/1.5 = 0.667, 33.3% less.
    B takes the last of the budget: the budget binds it.
    """
    plan = allocate(ab, {"budget": 150}, solver=solver)
    a = why(plan, "a")
    assert a.cause == "price"
    assert a.cheaper_by_pct == pytest.approx(100 / 3, rel=1e-6)
    assert a.needed_cost_per_result == pytest.approx(2 / 3, rel=1e-6)
    assert "1 EUR" in a.words and "33.3% less" in a.words
    b = why(plan, "b")
    assert (b.cause, b.rule) == ("rule", "budget")
    budget = rule(plan, "budget")
    assert budget.per_1000 == pytest.approx(1500.0, rel=1e-6)  # 1.5 purchases per EUR
    assert budget.next_result_cost == pytest.approx(2 / 3, rel=1e-6)


def test_the_end_of_a_curve_is_a_limit_with_its_own_shadow_value(ab, solver):
    """Budget 250: A1 100, B 100 (its end), A2 50: money's price is A2's slope, 1.

    B is at the end of its curve; one more EUR there would bring 1.5 against 1 elsewhere:
    its cap's shadow value is 0.5. A takes the last of the budget.
    """
    plan = allocate(ab, {"budget": 250}, solver=solver)
    b = why(plan, "b")
    assert b.cause == "curve_end"
    assert b.shadow_value == pytest.approx(0.5, rel=1e-6)
    cap = rule(plan, "curve_end__b/all/2027-01")
    assert cap.binding and cap.shadow_price == pytest.approx(0.5, rel=1e-6)
    assert "the forecast's cap of 100 EUR" in cap.description
    assert [c.name for c in plan.curve_ends()] == ["curve_end__b/all/2027-01"]
    assert (why(plan, "a").cause, why(plan, "a").rule) == ("rule", "budget")
    assert "curve_end" not in {e["family"] for e in plan.to_dict()["ledger"]}


def test_a_user_rule_that_holds_a_line_is_named_before_its_price(solver):
    """Network x capped at 0; x's lines would be worth funding: the cap is named, not price.

    x/s1 costs 0.5 per result, y/s1 1: without the cap x gets the budget.
    """
    curves = make_curves(
        {
            ("x", "s1", "2027-01"): [[0, 0], [100, 200]],
            ("x", "s2", "2027-01"): [[0, 0], [100, 50]],
            ("y", "s1", "2027-01"): [[0, 0], [500, 500]],
        }
    )
    plan = allocate(curves, {"budget": 100, "networks": {"x": {"max": 0}}}, solver=solver)
    for seg in ("s1", "s2"):
        r = why(plan, "x", seg)
        assert (r.cause, r.rule) == ("rule", "network_max__x")
        assert "X at most 0 EUR (network_max__x)" in r.words  # x: the platform X
    (u,) = [u for u in plan.unfunded if u["segment"] == "s1"]
    assert u["rule"] == "network_max__x" and u["cause"] == "rule"


def test_a_line_s_own_cap_is_named_even_where_it_costs_nothing(ab, solver):
    """B capped at 0 and too dear anyway (budget 100 all goes to A1 at slope 2).

    No price could get B spend while its cap holds, so the cap is what binds it (the order of
    evidence), not "25% cheaper".
    """
    plan = allocate(ab, {"budget": 100, "lines": [{**B, "max": 0}]}, solver=solver)
    b = why(plan, "b")
    assert (b.cause, b.rule) == ("rule", "line_max__b/all/2027-01")
    assert b.cheaper_by_pct is None


def test_a_shared_cap_that_costs_nothing_on_a_dear_line_leaves_the_price(solver):
    """Network x capped at 100: x/s1 (slope 2) takes it; x/s2 (slope 0.1) is too dear anyway.

    Without the cap x/s2 would still get nothing (y/s1 at slope 1 sets money's price): price
    binds it. Its price includes the cap's share: within x it competes with x/s1's 0.5 per
    result, so it gets spend once its results cost 0.5 instead of 10: 95% less.
    """
    curves = make_curves(
        {
            ("x", "s1", "2027-01"): [[0, 0], [500, 1000]],
            ("x", "s2", "2027-01"): [[0, 0], [100, 10]],
            ("y", "s1", "2027-01"): [[0, 0], [500, 500]],
        }
    )
    plan = allocate(curves, {"budget": 300, "networks": {"x": {"max": 100}}}, solver=solver)
    s2 = why(plan, "x", "s2")
    assert s2.cause == "price"
    assert s2.cheaper_by_pct == pytest.approx(95.0, rel=1e-6)
    s1 = why(plan, "x", "s1")
    assert (s1.cause, s1.rule) == ("rule", "network_max__x")


def test_equal_costs_are_a_tie_with_bounds_never_a_tiny_difference(solver):
    """Three identical lines, budget 150: any split with each line in [0, 100] is as good."""
    pts = [[0, 0], [100, 100]]
    curves = make_curves({("m", s, "2027-01"): pts for s in ("s1", "s2", "s3")})
    plan = allocate(curves, {"budget": 150}, solver=solver)
    for seg in ("s1", "s2", "s3"):
        r = why(plan, "m", seg)
        assert r.cause == "tie", r
        assert (r.low, r.high) == (pytest.approx(0.0, abs=1e-6), pytest.approx(100.0, rel=1e-6))
        assert r.tied_with == 2
        assert "equal cost: the split between these 3 lines is arbitrary" in r.words
        assert "e-" not in r.words
    for u in plan.unfunded:
        assert u["cause"] == "tie" and u["cheaper_by_pct"] is None


def test_an_off_line_worth_funding_blames_the_on_off_minimum(ab, solver):
    """Budget 120, min_line_spend 50: A alone (100 at 2, 20 at 1: 220) beats A 70 + B 50 (215).

    B's first result costs 0.667 against the 1 money buys on A: B is off for its minimum.
    """
    plan = allocate(ab, {"budget": 120, "min_line_spend": 50}, solver=solver)
    assert plan.expected_results == pytest.approx(220.0, rel=1e-6)
    b = why(plan, "b")
    assert (b.cause, b.rule) == ("on_off", "min_line_spend")


def test_an_off_line_too_dear_blames_its_price_not_the_on_off_rule(solver):
    """C costs 2 per result, A's next 1: C is off for its price, whatever the minimum."""
    curves = make_curves(
        {("a", "all", "2027-01"): [[0, 0], [100, 200], [200, 300]],
         ("c", "all", "2027-01"): [[0, 0], [100, 50]]}
    )  # fmt: skip
    plan = allocate(curves, {"budget": 150, "min_line_spend": 10}, solver=solver)
    c = why(plan, "c")
    assert c.cause == "price"
    assert c.cheaper_by_pct == pytest.approx(50.0, rel=1e-6)
    assert " 0.0%" not in c.words and "50.0% less" in c.words


def test_a_count_of_lines_on_is_named(ab, solver):
    """Budget 150, at most 1 line on: A (200 + 50) beats B alone (150); B would be worth it."""
    plan = allocate(ab, {"budget": 150, "max_active_lines": 1}, solver=solver)
    b = why(plan, "b")
    assert (b.cause, b.rule) == ("on_off", "max_active_lines")


def test_the_ledger_measures_what_a_floor_costs_not_price_times_size(solver):
    """Budget 200, C floored at 150 (C: slope 0.5 to 100, then 0.25): C 150 + A1 50 = 162.5.

    Without the floor A takes all 200: 300. The floor costs 137.5 purchases; its shadow price
    is -1.75 (one EUR moved from A1 at 2 to C2 at 0.25), and -1.75 x 150 = 262.5 is not it.
    """
    curves = make_curves(
        {("a", "all", "2027-01"): [[0, 0], [100, 200], [200, 300]],
         ("c", "all", "2027-01"): [[0, 0], [100, 50], [200, 75]]}
    )  # fmt: skip
    plan = allocate(curves, {"budget": 200, "networks": {"c": {"min": 150}}}, solver=solver)
    assert plan.expected_results == pytest.approx(162.5, rel=1e-6)
    floor = rule(plan, "network_min__c")
    assert floor.shadow_price == pytest.approx(-1.75, rel=1e-6)
    assert floor.gain_if_removed == pytest.approx(137.5, rel=1e-6)
    assert floor.gain_proven
    ledger = plan.to_dict()["ledger"]
    assert [e["rule"] for e in ledger] == ["budget", "network_min__c"]
    # removing the budget: A to 200 (300) and C to 200 (75): 375
    assert ledger[0]["gain_if_removed"] == pytest.approx(375 - 162.5, rel=1e-6)
    assert ledger[1]["words"] == "network c at least 150 EUR"
    assert ledger[0]["words"] == "the budget of 200 EUR"


def test_the_ledger_re_solves_an_on_off_plan(ab, solver):
    """max_active_lines 1 at budget 150 gives 250; both lines on give A1 100 + B 50 = 275."""
    plan = allocate(ab, {"budget": 150, "max_active_lines": 1}, solver=solver)
    count = rule(plan, "max_active_lines")
    assert count.gain_if_removed == pytest.approx(25.0, rel=1e-6)
    assert count.gain_proven


def test_tie_bounds_are_what_the_others_can_absorb(solver):
    """Two identical lines of 100, budget 150: each gets between 50 and 100 (the other the rest)."""
    pts = [[0, 0], [100, 100]]
    curves = make_curves({("m", s, "2027-01"): pts for s in ("s1", "s2")})
    plan = allocate(curves, {"budget": 150}, solver=solver)
    for seg in ("s1", "s2"):
        r = why(plan, "m", seg)
        assert r.cause == "tie"
        assert (r.low, r.high) == (pytest.approx(50.0, rel=1e-6), pytest.approx(100.0, rel=1e-6))


def test_a_line_at_its_floor_is_limited_by_its_price_not_a_tie(solver):
    """Line b (2 per result) gets only its floor of 50; a costs 1 next: b needs 50% less.

    Curves a: 0.5 then 1 per result; b: 2; c: 1/3, capped at 50. Budget 250: c 50, b 50,
    a 150 (at the margin, the budget's). The floor's push leaves b's reduced cost at 0, but
    b is not tied with a: moving money from a to b loses 0.5 per EUR.
    """
    curves = make_curves(
        {
            ("a", "all", "2027-01"): [[0, 0], [100, 200], [200, 300]],
            ("b", "all", "2027-01"): [[0, 0], [100, 50]],
            ("c", "all", "2027-01"): [[0, 0], [60, 180]],
        }
    )
    spec = {"budget": 250, "networks": {"b": {"min": 50}, "c": {"max": 50}}}
    plan = allocate(curves, spec, solver=solver)
    b = why(plan, "b")
    assert b.cause == "price"
    assert b.cheaper_by_pct == pytest.approx(50.0, rel=1e-6)
    assert "beyond what its floors ask" in b.words
    assert (why(plan, "a").cause, why(plan, "a").rule) == ("rule", "budget")
    assert (why(plan, "c").cause, why(plan, "c").rule) == ("rule", "network_max__c")


def test_an_off_line_whose_curve_stops_below_the_minimum_says_so(solver):
    """min_line_spend 150 but b absorbs at most 100: off for that, not for money elsewhere."""
    curves = make_curves(
        {
            ("a", "all", "2027-01"): [[0, 0], [300, 300]],
            ("b", "all", "2027-01"): [[0, 0], [100, 400]],
        }
    )
    plan = allocate(curves, {"budget": 10000, "min_line_spend": 150}, solver=solver)
    b = why(plan, "b")
    assert b.cause == "on_off"
    assert "its curve absorbs at most 100 EUR, less than the 150 EUR" in b.words
