"""Defects a user-level review found: period kinds, frontiers infeasible at every budget, the
budget's limits, --out overwriting an input, directories given as input files.
"""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from cli.main import app
from optimizer import (
    MAX_BUDGET,
    CurveError,
    CurveLine,
    Curves,
    PlanSpec,
    SpecError,
    allocate,
    frontier,
    load_curves,
    load_spec,
)
from optimizer.synthetic import synthetic_curves

runner = CliRunner()
PTS = [[0, 0], [100, 50], [200, 80]]


def _curves_dict(periods) -> dict:
    return {
        "currency": "EUR",
        "lines": [{"network": "meta", "segment": "s", "period": p, "points": PTS} for p in periods],
    }


@pytest.fixture
def files(tmp_path):
    curves = tmp_path / "curves.json"
    curves.write_text(json.dumps(synthetic_curves(3, 2, 2, 4, seed=1).to_dict()))
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 20000\n")
    return tmp_path, curves, spec


# ---------------------------------------------------------------- 1. period labels


def test_weeks_and_months_in_one_curves_file_are_refused_naming_the_line(tmp_path):
    f = tmp_path / "mix.json"
    f.write_text(json.dumps(_curves_dict(["Q1", "2027-W02", "2027-02"])))
    with pytest.raises(CurveError) as e:
        load_curves(f)
    msg = str(e.value)
    assert "mix.json: lines[2] (meta/s/2027-02)" in msg
    assert "month" in msg and "week '2027-W02'" in msg
    with pytest.raises(CurveError, match="meta/s/2027-02"):
        Curves(
            lines=(
                CurveLine("meta", "s", "2027-W02", PTS),
                CurveLine("meta", "s", "2027-02", PTS),
            )
        )
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 150\npacing: 0.2\n")
    r = runner.invoke(app, ["optimize", "--curves", str(f), "--spec", str(spec)])
    assert r.exit_code == 2 and "lines[2]" in r.output


@pytest.mark.parametrize(
    ("rule", "yaml"), [("pacing", "pacing: 0.2"), ("max_period_change", "max_period_change: 0.3")]
)
def test_labels_of_no_known_form_are_refused_by_rules_that_need_time_order(tmp_path, rule, yaml):
    curves = Curves.from_dict(_curves_dict(["2027-01", "Q1"]))
    spec = PlanSpec.from_dict({"budget": 150, rule: 0.2}, source="plan.yaml")
    with pytest.raises(SpecError) as e:
        allocate(curves, spec)
    assert f"plan.yaml: {rule}: period 'Q1' (curve line meta/s/Q1)" in str(e.value)
    cf, sf = tmp_path / "c.json", tmp_path / "s.yaml"
    cf.write_text(json.dumps(curves.to_dict()))
    sf.write_text(f"budget: 150\n{yaml}\n")
    r = runner.invoke(app, ["optimize", "--curves", str(cf), "--spec", str(sf)])
    assert r.exit_code == 2 and rule in r.output and "'Q1'" in r.output


def test_labels_of_no_known_form_still_plan_without_time_rules():
    curves = Curves.from_dict(_curves_dict(["p", "q"]))
    plan = allocate(curves, {"budget": 150, "periods": {"p": {"max": 100}}})
    assert plan.total_spend == pytest.approx(150)
    days = Curves.from_dict(_curves_dict(["2027-01-04", "2027-01-05"]))
    assert allocate(days, {"budget": 150, "pacing": 0.5}).total_spend == pytest.approx(150)


# ---------------------------------------------------------------- 2. frontier


@pytest.mark.parametrize("suffix", [".csv", ".png", ".json"])
def test_frontier_infeasible_at_every_budget_exits_1_with_the_largest_budgets_diagnosis(
    files, suffix
):
    d, curves, _ = files
    spec = d / "floor.yaml"
    spec.write_text("budget: 20000\nnetworks:\n  net00: {min: 15000}\n")
    out = d / f"frontier{suffix}"
    args = ["frontier", "--curves", str(curves), "--spec", str(spec), "--budgets", "5000,9000"]
    r = runner.invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "at any budget given; at the largest, 9,000" in r.output
    assert "net00" in r.output
    assert not out.exists()


@pytest.mark.parametrize("budgets", ["1000:2000:3000", ",".join(["100"] * 1001)])
def test_frontier_caps_the_number_of_budgets(files, budgets):
    _, curves, spec = files
    r = runner.invoke(
        app, ["frontier", "--curves", str(curves), "--spec", str(spec), "--budgets", budgets]
    )
    assert r.exit_code == 2
    assert "limit of 1,000" in r.output and len(r.output) < 1000


def test_frontier_at_the_budget_cap_still_runs(files):
    _, curves, spec = files
    args = ["frontier", "--curves", str(curves), "--spec", str(spec), "--json"]
    r = runner.invoke(app, [*args, "--budgets", "1000:2000:1000"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)) == 1000


# ---------------------------------------------------------------- 3. budget limits


@pytest.mark.parametrize(("budget", "shown"), [(1e13, "1e+13"), (0, "0"), (-5, "-5")])
def test_budget_limits_say_the_same_on_both_sides(budget, shown):
    want = f"budget must be above 0 and at most 1e12 (1,000,000,000,000), got {shown}"
    with pytest.raises(SpecError) as e:
        PlanSpec.from_dict({"budget": budget})
    assert want in str(e.value)
    with pytest.raises(SpecError) as e:
        PlanSpec(budget=budget)
    assert want in str(e.value)


def test_budget_of_exactly_one_trillion_is_accepted_and_frontier_refuses_more(ab):
    assert PlanSpec.from_dict({"budget": 1e12}).budget == MAX_BUDGET == 1e12
    with pytest.raises(SpecError, match="at most 1e12"):
        frontier(ab, {"budget": 100}, [100, 2e12])


def test_cli_refuses_a_budget_above_one_trillion(files):
    d, curves, _ = files
    spec = d / "big.yaml"
    spec.write_text("budget: 1e13\n")
    r = runner.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec)])
    assert r.exit_code == 2 and "at most 1e12" in r.output


# ---------------------------------------------------------------- 4. --out is an input


@pytest.mark.parametrize("command", ["optimize", "frontier"])
@pytest.mark.parametrize("which", ["curves", "spec", "history"])
def test_out_that_is_an_input_is_refused_and_the_input_kept(files, command, which):
    d, curves, spec = files
    spec_json = d / "plan.json"
    spec_json.write_text(json.dumps({"budget": 20000}))
    history = d / "history.csv"
    history.write_text("date,network\n")
    inputs = {"curves": curves, "spec": spec_json, "history": history}
    target = inputs[which]
    before = target.read_bytes()
    # the same file under another spelling: ./sub/../name
    (d / "sub").mkdir()
    out = d / "sub" / ".." / target.name
    args = [command, "--spec", str(spec_json), "--out", str(out)]
    if which == "history":
        args += ["--history", str(history), "--from", "2027-01-04", "--to", "2027-01-31"]
    else:
        args += ["--curves", str(curves)]
    if command == "frontier":
        args += ["--budgets", "1000,2000"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert f"same file as --{which}" in r.output
    assert target.read_bytes() == before


def test_out_through_a_link_to_the_curves_is_refused(files):
    d, curves, spec = files
    link = d / "link.json"
    os.link(curves, link)  # a hard link: another name, the same file
    before = curves.read_bytes()
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--out", str(link)]
    )
    assert r.exit_code == 2 and "same file as --curves" in r.output
    assert curves.read_bytes() == before


# ---------------------------------------------------------------- 5. directories, missing files


def test_directory_or_missing_input_files_are_named_plainly(files):
    d, curves, spec = files
    adir = d / "adir"
    adir.mkdir()
    with pytest.raises(CurveError, match="adir: is a directory; give the curves JSON file"):
        load_curves(adir)
    with pytest.raises(CurveError, match="nope.json: no such file; give the curves JSON file"):
        load_curves(d / "nope.json")
    with pytest.raises(SpecError, match="adir: is a directory; give the spec YAML or JSON"):
        load_spec(adir)
    cases = [
        (["--curves", str(adir), "--spec", str(spec)], "adir: is a directory; give the curves"),
        (["--curves", str(curves), "--spec", str(adir)], "adir: is a directory; give the spec"),
        (
            ["--history", str(adir), "--spec", str(spec), "--from", "2027-01-04"]
            + ["--to", "2027-01-31"],
            "adir: is a directory; give the history CSV file",
        ),
    ]
    for args, words in cases:
        r = runner.invoke(app, ["optimize", *args])
        assert r.exit_code == 2, r.output
        assert words in r.output and "Errno" not in r.output


def test_curves_file_that_is_not_utf8_exits_2(files):
    d, _, spec = files
    f = d / "latin1.json"
    f.write_bytes('{"lines": [], "currency": "\u20ac"}'.encode("cp1252"))
    r = runner.invoke(app, ["optimize", "--curves", str(f), "--spec", str(spec)])
    assert r.exit_code == 2 and "not UTF-8" in r.output
