"""Scenario files: validation, key paths in errors, relative paths, merges."""

from __future__ import annotations

import pytest
import yaml

from scenarios.errors import ScenarioError, ScenarioFileError
from scenarios.files import apply_budget_change, deep_merge, load_scenario, scenario_from_dict


def _write(d, data, name="q1.yaml"):
    p = d / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


BASE = {"name": "q1", "curves": "curves.json", "spec": {"budget": 1000}}


def test_examples_load(examples_dir):
    sc = load_scenario(examples_dir / "q1-2027.yaml")
    assert sc.variant_names == ["q1-2027", "budget-minus-10", "tiktok-dearer", "no-linkedin"]
    assert sc.curves_path == examples_dir / "curves.json"
    assert sc.overrides.cost_per_result == {"google": 1.05}
    b2b = load_scenario(examples_dir / "q1-2027-b2b.yaml")
    assert b2b.spec["budget"] == 60000  # read from plan.yaml beside it


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {
                "variants": [
                    {"name": "a"},
                    {"name": "b", "overrides": {"cost_per_result": {"tiktok": 0}}},
                ]
            },
            "q1.yaml: variants[1].overrides.cost_per_result.tiktok: must be a number > 0 (got 0)",
        ),
        (
            {"variants": [{"name": "b", "overrides": {"cost_per_result": {"tiktok": "dear"}}}]},
            "q1.yaml: variants[0].overrides.cost_per_result.tiktok: must be a number (got 'dear')",
        ),
        (
            {"overides": {}},
            "q1.yaml: overides: unknown key; allowed here: cap_multiple, curves, description",
        ),
        (
            {"overrides": {"exclude": {"network": ["x"]}}},
            "q1.yaml: overrides.exclude.network: unknown key; allowed here: networks, segments",
        ),
        ({"overrides": {"budget": "-10 percent"}}, "q1.yaml: overrides.budget: must be an amount"),
        (
            {"variants": [{"name": "cut", "spec": {"budget": None}}]},
            "q1.yaml: variants[0].spec.budget: the budget cannot be removed; give a number",
        ),
        (
            {"variants": [{"name": "a"}, {"name": "b", "overrides": {"rules": {"budget": None}}}]},
            "q1.yaml: variants[1].overrides.rules.budget: the budget cannot be removed",
        ),
        (
            {"overrides": {"rules": {"budget": None}}},
            "q1.yaml: overrides.rules.budget: the budget cannot be removed",
        ),
        ({"name": "q 1"}, "q1.yaml: name: 'q 1' is not a valid name"),
        ({"variants": [{"name": "q1"}]}, "q1.yaml: variants[0].name: 'q1' is already used"),
        ({"curves": None}, "q1.yaml: give exactly one of 'curves'"),
        (
            {"curves": None, "history": "h.csv", "from": "2027-01-01", "period": "week"},
            "q1.yaml: to: is required with 'history'",
        ),
        (
            {
                "curves": None,
                "history": "h.csv",
                "from": "2027-01-01",
                "to": "2027-03-31",
                "period": "day",
            },
            "q1.yaml: period: must be one of 'week' or 'month' (got 'day')",
        ),
    ],
)
def test_errors_name_file_and_key_path(patch, message):
    data = {**BASE, **patch}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ScenarioFileError) as ei:
        scenario_from_dict(data, source="q1.yaml")
    assert str(ei.value).startswith(message), str(ei.value)
    assert isinstance(ei.value, ScenarioError)


def test_yaml_syntax_error_names_line(tmp_path):
    p = _write(tmp_path, "name: q1\nspec: {budget: 1\n")
    with pytest.raises(ScenarioFileError, match=r"q1.yaml: line \d+, column \d+: not valid YAML"):
        load_scenario(p)


def test_spec_path_resolves_against_scenario_folder(tmp_path, monkeypatch):
    sub = tmp_path / "plans"
    sub.mkdir()
    (sub / "plan.yaml").write_text("budget: 5000\nnetworks: {meta: {min: 100}}\n")
    p = _write(sub, {**BASE, "spec": "plan.yaml", "history": None} | {"curves": "c.json"})
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    sc = load_scenario(p)
    assert sc.spec == {"budget": 5000, "networks": {"meta": {"min": 100}}}
    assert sc.curves_path == sub / "c.json"


def test_missing_spec_file_is_named(tmp_path):
    """The spec file is read as `adplan optimize --spec` reads it: the same message."""
    p = _write(tmp_path, {**BASE, "spec": "nope.yaml"})
    with pytest.raises(ScenarioFileError, match="nope.yaml: no such file; give the spec YAML"):
        load_scenario(p)


def test_history_dates_parse(tmp_path):
    data = {**BASE, "history": "h.csv", "from": "2027-01-01", "to": "2027-03-31", "period": "week"}
    del data["curves"]
    sc = scenario_from_dict(data, source="q1.yaml", folder=tmp_path)
    assert sc.history_path == tmp_path / "h.csv"
    assert (sc.start.isoformat(), sc.end.isoformat(), sc.period) == (
        "2027-01-01",
        "2027-03-31",
        "week",
    )


def test_deep_merge_and_budget_change():
    base = {"budget": 100, "networks": {"meta": {"min": 1, "max": 5}, "x": {"max": 2}}}
    patch = {"networks": {"meta": {"max": 9}, "x": None}, "pacing": {"tolerance": 0.2}}
    assert deep_merge(base, patch) == {
        "budget": 100,
        "networks": {"meta": {"min": 1, "max": 9}},
        "pacing": {"tolerance": 0.2},
    }
    assert base["networks"]["meta"]["max"] == 5  # the base is not changed
    assert apply_budget_change(60000, "-10%") == pytest.approx(54000)
    assert apply_budget_change(60000, "+5%") == pytest.approx(63000)
    assert apply_budget_change(60000, 1234) == 1234
    assert apply_budget_change(60000, None) == 60000


def test_variant_overrides_stack_on_base():
    data = {
        **BASE,
        "overrides": {
            "cost_per_result": {"meta": 1.1, "tiktok": 1.5},
            "exclude": {"networks": ["x"]},
        },
        "variants": [
            {"name": "v", "overrides": {"cost_per_result": {"tiktok": 2}, "budget": "-5%"}}
        ],
    }
    sc = scenario_from_dict(data, source="q1.yaml")
    ov = sc.overrides.then(sc.variants[0].overrides)
    assert dict(ov.cost_per_result) == {"meta": 1.1, "tiktok": 2.0}
    assert ov.exclude_networks == ("x",)
    assert ov.budget == "-5%"


def test_null_removes_optional_keys_in_the_variant_plan(tmp_path, examples_dir):
    """``null`` in a variant's spec removes the rule from the spec the variant is solved with."""
    from scenarios.runs import run_scenario

    (tmp_path / "curves.json").write_bytes((examples_dir / "curves.json").read_bytes())
    spec = {"budget": 60000, "networks": {"linkedin": {"min": 4000}, "meta": {"max": 40000}}}
    patch = {"networks": {"linkedin": None, "meta": {"max": None}}}
    data = {**BASE, "spec": spec, "variants": [{"name": "free", "spec": patch}]}
    sc = scenario_from_dict(data, source="q1.yaml", folder=tmp_path)
    run = run_scenario(sc, None, frontier=False, report=False)
    base, free = run.variants
    assert free.spec_as_written() == {"budget": 60000, "networks": {"meta": {}}}
    assert free.spec.to_dict() == {"budget": 60000.0, "networks": {"meta": {}}}
    names = [c.name for c in base.plan.constraints]
    assert "network_min__linkedin" in names and "network_max__meta" in names
    assert [c.name for c in free.plan.constraints] == ["budget"]
    assert free.plan.budget == 60000
