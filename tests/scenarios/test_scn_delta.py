"""Delta plans (scenarios.delta): where extra money, or a cut, goes against the current plan.

The numbers are derived by hand on two lines with linear tiers:

    meta    [0,0] [1000,50] [2000,80]   tiers cost 20, then 33.33 per purchase
    tiktok  [0,0] [500,20]  [1500,45]   tiers cost 25, then 40 per purchase

At a budget of 1000 everything goes to meta's first tier (the cheapest results: 50). The
next cheapest are tiktok's first tier (25 each, cheaper than meta's next at 33.33), so +500
goes there: 20 more purchases at 25 each. Also the rounding of shown money
(scenarios.money.round_to_total).
"""

from __future__ import annotations

import json
import math
import random

import pytest

from optimizer import Curves, InfeasibleError, PlanSpec, allocate
from scenarios.delta import (
    MIN_CHANGE,
    check_current_plan,
    cost_per_extra_result,
    current_plan_from_dict,
    delta_budget,
    delta_plan,
    plan_delta,
    read_current_plan,
)
from scenarios.errors import ScenarioError, ScenarioFileError
from scenarios.money import round_to_total
from tests.delta_case import CURVES

META = ("meta", "all", "2027-01")
TIKTOK = ("tiktok", "all", "2027-01")


@pytest.fixture
def curves() -> Curves:
    return Curves.from_dict(CURVES)


def _plan_file(tmp_path, curves, spec: dict, name: str = "plan.json"):
    """The Plan JSON ``adplan optimize --out plan.json`` writes, in tmp_path."""
    path = tmp_path / name
    path.write_text(json.dumps(allocate(curves, PlanSpec.from_dict(spec)).to_dict(), indent=2))
    return path


def _by_key(delta) -> dict:
    return {ln.key: ln for ln in delta.lines}


def test_extra_money_goes_to_the_line_whose_next_tier_is_cheaper(tmp_path, curves):
    current = read_current_plan(_plan_file(tmp_path, curves, {"budget": 1000}))
    assert current.budget == 1000 and current.total_spend == pytest.approx(1000)
    result = delta_plan(curves, PlanSpec.from_dict({"budget": 1000}), current, 500)
    d = result.delta
    assert result.plan.budget == 1500 and d.from_budget == 1000 and d.to_budget == 1500
    assert d.extra == 500
    assert d.spend_change == pytest.approx(500)
    assert d.current_results == pytest.approx(50) and d.expected_results == pytest.approx(70)
    assert d.results_change == pytest.approx(20)
    assert d.cost_per_extra_result == pytest.approx(25)
    assert [ln.key for ln in d.changed] == [TIKTOK]
    tiktok = _by_key(d)[TIKTOK]
    assert (tiktok.current_spend, tiktok.spend) == (0.0, pytest.approx(500))
    assert tiktok.change == pytest.approx(500) and tiktok.results_change == pytest.approx(20)
    # meta keeps its spend: listed (it has spend), after the line that moved, change 0
    assert [ln.key for ln in d.lines] == [TIKTOK, META]
    assert _by_key(d)[META].change == pytest.approx(0, abs=MIN_CHANGE)
    assert d.notes == ()


def test_a_cut_comes_from_the_dearest_results_first(tmp_path, curves):
    current = read_current_plan(_plan_file(tmp_path, curves, {"budget": 1500}))
    d = delta_plan(curves, PlanSpec.from_dict({"budget": 1500}), current, -700).delta
    # 800 left: all of it on meta's first tier (20 each); tiktok (25 each) loses all 500
    assert d.to_budget == 800 and d.spend_change == pytest.approx(-700)
    assert [ln.key for ln in d.lines] == [TIKTOK, META]  # |-500| before |-200|
    tiktok, meta = d.lines
    assert tiktok.change == pytest.approx(-500) and tiktok.results_change == pytest.approx(-20)
    assert meta.change == pytest.approx(-200) and meta.results_change == pytest.approx(-10)
    assert d.results_change == pytest.approx(-30)
    # each purchase given up saves 700 / 30
    assert d.cost_per_extra_result == pytest.approx(700 / 30)


def test_the_spec_rules_still_hold_only_the_budget_changes(tmp_path, curves):
    spec = {"budget": 1000, "networks": {"tiktok": {"max": 300}}}
    current = read_current_plan(_plan_file(tmp_path, curves, spec))
    result = delta_plan(curves, PlanSpec.from_dict(spec), current, 500)
    d = result.delta
    # tiktok is held at 300 (12 purchases); the other 200 go to meta's next tier (6)
    assert _by_key(d)[TIKTOK].spend == pytest.approx(300)
    assert _by_key(d)[META].spend == pytest.approx(1200)
    assert d.results_change == pytest.approx(18)
    assert d.cost_per_extra_result == pytest.approx(500 / 18)
    assert [c.name for c in result.plan.constraints if c.binding] == [
        "budget",
        "network_max__tiktok",
    ]


def test_the_delta_json_is_the_plan_json_with_a_delta_key(tmp_path, curves):
    current = read_current_plan(_plan_file(tmp_path, curves, {"budget": 1000}))
    d = delta_plan(curves, PlanSpec.from_dict({"budget": 1000}), current, 500).to_dict()
    assert d["budget"] == 1500 and d["status"] == "optimal" and "lines" in d
    delta = json.loads(json.dumps(d["delta"], allow_nan=False))
    assert set(delta) >= {
        "from_budget",
        "to_budget",
        "extra",
        "spend_change",
        "results_change",
        "cost_per_extra_result",
        "lines",
        "notes",
    }
    first = delta["lines"][0]
    assert list(first) == [
        "network",
        "segment",
        "period",
        "current_spend",
        "spend",
        "change",
        "current_results",
        "expected_results",
        "results_change",
    ]
    assert first["network"] == "tiktok" and first["change"] == pytest.approx(500)
    # a delta plan's JSON is a plan: it reads back as the current plan of the next delta
    again = current_plan_from_dict(d, source="delta.json")
    assert again.budget == 1500


def test_lines_with_no_spend_in_either_plan_are_left_out(tmp_path, curves):
    current = read_current_plan(_plan_file(tmp_path, curves, {"budget": 600}))
    d = delta_plan(curves, PlanSpec.from_dict({"budget": 600}), current, 100).delta
    assert [ln.key for ln in d.lines] == [META]  # tiktok has no spend before or after
    assert d.lines[0].change == pytest.approx(100)


def test_results_are_valued_again_on_the_curves_and_a_note_gives_both(tmp_path, curves):
    path = _plan_file(tmp_path, curves, {"budget": 1000})
    data = json.loads(path.read_text())
    data["expected_results"] = 55.0  # made on other curves, or edited
    path.write_text(json.dumps(data))
    d = delta_plan(curves, PlanSpec.from_dict({"budget": 1000}), read_current_plan(path), 500)
    delta = d.delta
    assert delta.current_results == pytest.approx(50)  # meta's 1000 on these curves
    assert delta.results_change == pytest.approx(20)  # the change in spend only
    (note,) = delta.notes
    assert str(path) in note and "55" in note and "50" in note


def test_without_a_total_the_lines_results_are_compared(curves):
    line = {"network": "meta", "segment": "all", "period": "2027-01", "spend": 1000}
    said = current_plan_from_dict({"budget": 1000, "lines": [{**line, "expected_results": 60}]})
    new = allocate(curves, PlanSpec.from_dict({"budget": 1500}))
    (note,) = plan_delta(said, new, curves, 500).notes
    assert "says its spend brings 60 purchases" in note
    unsaid = current_plan_from_dict({"budget": 1000, "lines": [line]})
    assert plan_delta(unsaid, new, curves, 500).notes == ()


def test_a_spend_change_other_than_the_extra_is_explained_in_a_note(curves):
    # this current plan spent 900 of its 1000 (say, a rule held it); the new plan spends 1500
    current = current_plan_from_dict(
        {
            "budget": 1000,
            "lines": [{"network": "meta", "segment": "all", "period": "2027-01", "spend": 900}],
        }
    )
    new = allocate(curves, PlanSpec.from_dict({"budget": 1500}))
    d = plan_delta(current, new, curves, 500)
    assert d.spend_change == pytest.approx(600)
    assert _by_key(d)[META].change == pytest.approx(100)
    (note,) = d.notes
    assert "the spend changes by +600.00 EUR, not by the +500.00 asked" in note


def test_a_current_line_no_curve_has_is_refused_naming_the_line_and_file(tmp_path, curves):
    path = _plan_file(tmp_path, curves, {"budget": 1000})
    data = json.loads(path.read_text())
    data["lines"][1]["network"] = "snapchat"
    path.write_text(json.dumps(data))
    current = read_current_plan(path)
    with pytest.raises(ScenarioFileError) as e:
        delta_plan(curves, PlanSpec.from_dict({"budget": 1000}), current, 500)
    assert str(path) in str(e.value) and "snapchat/all/2027-01" in str(e.value)
    assert e.value.key == "lines[1]" and e.value.file == str(path)


def test_a_plan_in_another_result_type_is_refused(curves):
    current = current_plan_from_dict(
        {
            "budget": 10,
            "result_type": "leads",
            "lines": [{"network": "meta", "segment": "all", "period": "2027-01", "spend": 1}],
        },
        source="p.json",
    )
    with pytest.raises(ScenarioFileError, match="p.json: result_type: the plan is in 'leads'"):
        check_current_plan(current, curves)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "line 1, column 2: not valid JSON"),
        ("[1, 2]", "expected the Plan JSON object, got list"),
        ('{"lines": []}', "budget: is missing"),
        ('{"budget": 0, "lines": []}', "budget: expected a number above 0, got 0"),
        ('{"budget": 10, "lines": []}', "lines: expected a non-empty list of plan lines"),
        ('{"budget": 10, "lines": [3]}', "lines[0]: expected an object, got int"),
        (
            '{"budget": 10, "lines": [{"network": "meta", "segment": "all", "period": "p"}]}',
            "lines[0].spend: is missing",
        ),
        (
            '{"budget": 10, "lines": [{"network": "", "segment": "all", "period": "p", '
            '"spend": 1}]}',
            "lines[0].network: expected a non-empty string",
        ),
        (
            '{"budget": 10, "lines": [{"network": "m\\u0007", "segment": "a", "period": "p", '
            '"spend": 1}]}',
            "lines[0].network: 'm\\x07' holds the control character U+0007",
        ),
        (
            '{"budget": 10, "currency": 3, "lines": [{"network": "m", "segment": "a", '
            '"period": "p", "spend": 1}]}',
            "currency: expected a non-empty string, got 3",
        ),
        (
            '{"budget": 10, "lines": [{"network": "m", "segment": "a", "period": "p", '
            '"spend": -1}]}',
            "lines[0].spend: expected a number >= 0, got -1",
        ),
        (
            '{"budget": 10, "lines": [{"network": "m", "segment": "a", "period": "p", '
            '"spend": true}]}',
            "lines[0].spend: expected a number >= 0, got True",
        ),
        (
            '{"budget": 10, "lines": [{"network": "m", "segment": "a", "period": "p", '
            '"spend": 1}, {"network": "m", "segment": "a", "period": "p", "spend": 2}]}',
            "lines[1]: line m/a/p appears twice (first at lines[0])",
        ),
    ],
)
def test_a_malformed_plan_file_is_refused_naming_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "current.json"
    path.write_text(text)
    with pytest.raises(ScenarioFileError) as e:
        read_current_plan(path)
    assert str(e.value).startswith(f"{path}: ")
    assert message in str(e.value)


def test_a_missing_plan_file_is_refused(tmp_path):
    with pytest.raises(ScenarioFileError, match="no such file"):
        read_current_plan(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (-1000, "would make the budget 0 (the current plan's 1,000 plus -1,000)"),
        (-1500, "would make the budget -500"),
        (1e12, "a budget must be above 0 and at most 1e12"),
        (math.nan, "extra must be a finite number"),
        (math.inf, "extra must be a finite number"),
    ],
)
def test_a_new_budget_that_is_not_a_budget_is_refused(extra, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        delta_budget(1000, extra)


def test_the_new_budget_is_the_current_one_plus_the_extra():
    assert delta_budget(1000, 500) == 1500
    assert delta_budget(1000, -999.5) == 0.5


def test_infeasible_rules_at_the_new_budget_raise_the_optimizers_error(tmp_path, curves):
    spec = {"budget": 2000, "networks": {"meta": {"min": 1500}}}
    current = read_current_plan(_plan_file(tmp_path, curves, spec))
    with pytest.raises(InfeasibleError):
        delta_plan(curves, PlanSpec.from_dict(spec), current, -1000)


@pytest.mark.parametrize(
    ("spend", "results", "expected"),
    [
        (500, 20, 25.0),
        (-700, -30, 700 / 30),
        (500, 0, None),  # more money, no more results
        (500, -1, None),
        (-500, 0, None),  # a cut that loses nothing
        (0, 0, None),
    ],
)
def test_cost_per_extra_result(spend, results, expected):
    assert cost_per_extra_result(spend, results) == expected


# -- scenarios.money.round_to_total ------------------------------------------------------------


def test_three_thirds_add_up_to_the_rounded_total():
    assert round_to_total([100 / 3] * 3) == [34.0, 33.0, 33.0]
    assert sum(round_to_total([100 / 3] * 3)) == 100


def test_the_largest_remainders_get_the_missing_units():
    # floors 1, 2, 3 (sum 6); the sum 7.5 rounds to 8: .9 and .5 get the two units
    assert round_to_total([1.1, 2.9, 3.5]) == [1.0, 3.0, 4.0]
    assert round_to_total([0.44, 0.44, 0.12], 1) == [0.5, 0.4, 0.1]


def test_negative_values_and_mixed_signs():
    assert round_to_total([-100 / 3] * 3) == [-33.0, -33.0, -34.0]
    assert sum(round_to_total([500.4, -200.4, -299.6])) == 0
    assert round_to_total([]) == []


def test_shown_values_add_up_and_stay_within_one_unit():
    rng = random.Random(7)
    for _ in range(500):
        values = [rng.uniform(-5000, 5000) for _ in range(rng.randint(1, 30))]
        for digits in (0, 1, 2):
            shown = round_to_total(values, digits)
            unit = 10.0**-digits
            total = math.floor(abs(math.fsum(values)) / unit + 0.5) * unit
            assert math.isclose(sum(shown), math.copysign(total, math.fsum(values)), abs_tol=1e-6)
            assert all(abs(s - v) < unit + 1e-9 for s, v in zip(shown, values, strict=True))
