"""Comparisons: money moved, deltas, spec diff and shadow prices, on hand-made plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer import Plan, PlanConstraint, PlanLine, PlanSpec
from scenarios.compare import PlanCase, compare_plans, spec_diff
from scenarios.errors import ScenarioError
from scenarios.runs import compare_files


def _plan(lines, cons, budget):
    spend = sum(x[2] for x in lines)
    res = sum(x[3] for x in lines)
    return Plan(
        status="optimal",
        budget=budget,
        total_spend=spend,
        expected_results=res,
        cost_per_result=spend / res,
        currency="EUR",
        result_type="purchases",
        objective="results",
        lines=tuple(
            PlanLine(n, s, "2027-01", sp, r, sp / r, None, 2 * sp) for n, s, sp, r in lines
        ),
        constraints=tuple(
            PlanConstraint(k, f"the rule {k}", k, "EUR", b, 0.0, sp) for k, b, sp in cons
        ),
        unfunded=(),
    )


def _spec(data):
    return PlanSpec.from_dict(data)


BASE = _plan(
    [("meta", "a", 600.0, 30.0), ("tiktok", "a", 300.0, 20.0), ("tiktok", "b", 100.0, 5.0)],
    [("budget", True, 0.04), ("network_max__tiktok", True, 0.01)],
    1000,
)
OTHER = _plan(
    [("meta", "a", 500.0, 26.0), ("tiktok", "a", 350.0, 22.0), ("tiktok", "b", 50.0, 3.0)],
    [("budget", True, 0.05), ("network_max__tiktok", False, 0.0)],
    900,
)


def test_compare_golden():
    comp = compare_plans(
        [
            PlanCase("base", _spec({"budget": 1000, "networks": {"tiktok": {"max": 400}}}), BASE),
            PlanCase(
                "cut",
                _spec({"budget": 900, "networks": {"tiktok": {"max": 400}}}),
                OTHER,
                overrides={"cost_per_result": {"tiktok": 1.2}},
            ),
        ]
    )
    assert comp["base"] == "base"
    cut = comp["cases"][1]
    assert cut["delta"] == {
        "budget": -100.0,
        "total_spend": -100.0,
        "expected_results": -4.0,
        "cost_per_result": pytest.approx(900 / 51 - 1000 / 55, abs=1e-6),
    }
    assert cut["moved"]["networks"] == [
        {
            "name": "meta",
            "base_spend": 600.0,
            "spend": 500.0,
            "change": -100.0,
            "base_results": 30.0,
            "results": 26.0,
        },
        {
            "name": "tiktok",
            "base_spend": 400.0,
            "spend": 400.0,
            "change": 0.0,
            "base_results": 25.0,
            "results": 25.0,
        },
    ]
    assert [m["change"] for m in cut["moved"]["segments"]] == [-50.0, -50.0]
    assert cut["spec_changes"] == [
        {"path": "budget", "base": 1000, "variant": 900},
        {"path": "overrides.cost_per_result.tiktok", "base": None, "variant": 1.2},
    ]
    assert cut["rules"] == [
        {
            "name": "budget",
            "description": "the rule budget",
            "base_binding": True,
            "binding": True,
            "base_shadow_price": 0.04,
            "shadow_price": 0.05,
        },
        {
            "name": "network_max__tiktok",
            "description": "the rule network_max__tiktok",
            "base_binding": True,
            "binding": False,
            "base_shadow_price": 0.01,
            "shadow_price": 0.0,
        },
    ]


def test_infeasible_case_has_no_deltas():
    comp = compare_plans(
        [
            PlanCase("base", _spec({"budget": 1000}), BASE),
            PlanCase(
                "bad",
                _spec({"budget": 1000, "networks": {"x": {"min": 5000}}}),
                None,
                error="rules cannot hold",
                diagnosis=[{"message": "x min 5000 > budget"}],
            ),
        ]
    )
    bad = comp["cases"][1]
    assert bad["status"] == "infeasible" and "delta" not in bad
    assert bad["spec_changes"] == [{"path": "networks.x.min", "base": None, "variant": 5000}]


def test_spec_diff_lists_added_removed_changed():
    a = {"budget": 10, "networks": {"meta": {"min": 1}}, "pacing": {"tolerance": 0.2}}
    b = {"budget": 10.0, "networks": {"meta": {"min": 2}, "x": {"max": 3}}}
    assert spec_diff(a, b) == [
        {"path": "networks.meta.min", "base": 1, "variant": 2},
        {"path": "networks.x.max", "base": None, "variant": 3},
        {"path": "pacing.tolerance", "base": 0.2, "variant": None},
    ]


def test_compare_files_on_the_examples(examples_dir):
    comp = compare_files([examples_dir / "q1-2027.yaml", examples_dir / "q1-2027-b2b.yaml"])
    names = [c["name"] for c in comp["cases"]]
    assert names == ["q1-2027", "q1-2027-b2b"]
    b2b = comp["cases"][1]
    assert {"path": "networks.linkedin.min_share", "base": None, "variant": 0.15} in b2b[
        "spec_changes"
    ]
    linkedin = next(m for m in b2b["moved"]["networks"] if m["name"] == "linkedin")
    assert linkedin["spend"] == pytest.approx(0.15 * b2b["total_spend"], rel=1e-6)
    assert linkedin["change"] > 0
    assert sum(m["change"] for m in b2b["moved"]["networks"]) == pytest.approx(
        b2b["delta"]["total_spend"], abs=0.05
    )
    assert b2b["delta"]["expected_results"] < 0  # a forced share can only cost results


@pytest.mark.parametrize(
    "key, value, words",
    [("result_type", "leads", ("purchases", "leads")), ("currency", "USD", ("EUR", "USD"))],
)
def test_compare_refuses_other_result_type_or_currency(key, value, words):
    other = replace(OTHER, **{key: value})
    spec = PlanSpec(budget=1000)
    with pytest.raises(ScenarioError) as e:
        compare_plans([PlanCase("q1", spec, BASE), PlanCase("q1-us", spec, other)])
    msg = str(e.value)
    for w in ("q1", "q1-us", *words):
        assert w in msg
