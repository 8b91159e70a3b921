"""Specs and curves that must be refused, with messages that name the rule or line."""

from __future__ import annotations

import json

import pytest

from optimizer import CurveError, Curves, PlanSpec, SpecError, allocate, load_curves, load_spec


def test_spec_round_trip_through_yaml_and_json(tmp_path):
    d = {
        "budget": 60000,
        "networks": {"meta": {"min_share": 0.2, "max_share": 0.6}, "tiktok": {"max": 12000}},
        "segments": {"f-25-34": {"min": 3000}},
        "periods": {"2027-01": {"max": 25000}},
        "max_cost_per_result": 30,
        "lines": [{"network": "linkedin", "segment": "b2b-it", "period": "2027-02", "min": 2000}],
        "exclude": {"networks": ["x"]},
        "pacing": {"tolerance": 0.2},
        "max_period_change": 0.5,
        "min_line_spend": 500,
        "max_active_lines": 40,
    }
    spec = PlanSpec.from_dict(d)
    assert PlanSpec.from_dict(spec.to_dict()) == spec
    y = tmp_path / "plan.yaml"
    y.write_text(
        "budget: 60000\nnetworks:\n  meta: {min_share: 0.2, max_share: 0.6}\n"
        "  tiktok: {max: 12000}\nperiods:\n  2027-01: {max: 25000}\n"
    )
    s = load_spec(y)
    assert s.budget == 60000 and s.networks["tiktok"].max == 12000
    assert s.periods["2027-01"].max == 25000
    j = tmp_path / "plan.json"
    j.write_text(json.dumps(spec.to_dict()))
    assert load_spec(j) == spec


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, ["budget", "missing"]),
        ({"budget": -5}, ["budget", "above 0 and at most 1e12"]),
        ({"budget": "lots"}, ["budget", "number"]),
        ({"budget": 10, "networks": {"meta": {"min": 5, "max": 2}}}, ["networks.meta", "min 5"]),
        ({"budget": 10, "networks": {"meta": {"max_share": 1.5}}}, ["max_share", "<= 1"]),
        ({"budget": 10, "networks": {"meta": {"maxx": 1}}}, ["networks.meta", "unknown keys"]),
        ({"budget": 10, "colour": "red"}, ["unknown keys", "colour"]),
        ({"budget": 10, "objective": "clicks"}, ["objective"]),
        ({"budget": 10, "periods": {"2027-01": {"max_share": 1.5}}}, ["periods.2027-01", "<= 1"]),
        ({"budget": 10, "lines": [{"network": "a", "segment": "s"}]}, ["lines[0]", "period"]),
        ({"budget": 10, "max_active_lines": 2.5}, ["max_active_lines", "whole"]),
        ({"budget": 10, "pacing": {"weights": {"p": 1}}}, ["pacing", "tolerance"]),
    ],
)
def test_bad_specs_are_refused_naming_the_rule(data, words):
    with pytest.raises(SpecError) as e:
        PlanSpec.from_dict(data)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize(
    ("rules", "words"),
    [
        ({"networks": {"meta": {"min": 1}}}, ["spec: networks.meta", "network 'meta'", "no curve"]),
        ({"segments": {"f-99": {"max": 1}}}, ["segment 'f-99'"]),
        ({"periods": {"2030-01": {"max": 1}}}, ["period '2030-01'"]),
        ({"exclude": {"networks": ["x"]}}, ["network 'x'"]),
        (
            {"lines": [{"network": "a", "segment": "all", "period": "2031-01", "max": 1}]},
            ["period '2031-01'"],
        ),
        ({"pacing": {"tolerance": 0.1, "weights": {"2027-01": 1}}}, ["pacing.weights", "2027-02"]),
        ({"objective": "value"}, ["value_per_result", "a/all/2027-01"]),
    ],
)
def test_rules_naming_what_no_curve_has(rules, words):
    c = Curves.from_dict(
        {
            "lines": [
                {
                    "network": "a",
                    "segment": "all",
                    "period": "2027-01",
                    "points": [[0, 0], [10, 5]],
                },
                {
                    "network": "b",
                    "segment": "all",
                    "period": "2027-02",
                    "points": [[0, 0], [10, 5]],
                },
            ]
        }
    )
    with pytest.raises(SpecError) as e:
        allocate(c, {"budget": 10, **rules})
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize(
    ("points", "words"),
    [
        ([[0, 0], [10, 5], [20, 15]], ["not concave", "meta/all/2027-01"]),
        ([[1, 0], [10, 5]], ["first point", "[0, 0]"]),
        ([[0, 0], [10, 5], [10, 6]], ["strictly increase"]),
        ([[0, 0], [10, 5], [20, 4]], ["fall"]),
        ([[0, 0]], ["at least two"]),
        ([[0, 0], ["x", 1]], ["not a pair of numbers"]),
    ],
)
def test_malformed_or_non_concave_curves_name_the_line(tmp_path, points, words):
    f = tmp_path / "curves.json"
    f.write_text(
        json.dumps(
            {
                "lines": [
                    {"network": "meta", "segment": "all", "period": "2027-01", "points": points}
                ]
            }
        )
    )
    with pytest.raises(CurveError) as e:
        load_curves(f)
    for w in words:
        assert w in str(e.value)


def test_unreadable_spec_names_the_file(tmp_path):
    f = tmp_path / "plan.yaml"
    f.write_text("budget: [1,\n")
    with pytest.raises(SpecError, match="plan.yaml"):
        load_spec(f)
    with pytest.raises(SpecError, match="missing.yaml: no such file"):
        load_spec(tmp_path / "missing.yaml")


def test_floor_curves_from_a_file_next_to_the_spec(tmp_path):
    (tmp_path / "leads.json").write_text(
        json.dumps(
            {
                "result_type": "leads",
                "lines": [
                    {"network": "a", "segment": "all", "period": "p", "points": [[0, 0], [10, 4]]}
                ],
            }
        )
    )
    (tmp_path / "plan.yaml").write_text(
        "budget: 10\nresults_floors:\n  - {result_type: leads, min: 2, curves: leads.json}\n"
    )
    spec = load_spec(tmp_path / "plan.yaml")
    assert spec.results_floors[0].curves.result_type == "leads"
    c = Curves.from_dict(
        {
            "lines": [
                {"network": "a", "segment": "all", "period": "p", "points": [[0, 0], [10, 5]]},
                {"network": "b", "segment": "all", "period": "p", "points": [[0, 0], [10, 8]]},
            ]
        }
    )
    plan = allocate(c, spec.with_budget(10))
    assert plan.other_results["leads"] >= 2 - 1e-9
    assert {ln.network: ln.spend for ln in plan.lines}["a"] == pytest.approx(5.0)
