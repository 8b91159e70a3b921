"""``adplan optimize`` and ``adplan frontier`` end to end: files in, files out, exit codes."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_optimize_writes_json_and_prints_summary(files):
    d, curves, spec = files
    out = d / "plan.json"
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    plan = json.loads(out.read_text())
    assert plan["status"] == "optimal"
    assert plan["total_spend"] == pytest.approx(20000)
    assert "By network" in r.output and "net00" in r.output
    assert "What each rule costs" in r.output and "network_max__net01" in r.output
    assert "re-solved without the rule" in r.output


def test_optimize_json_flag_prints_only_json(files):
    d, curves, spec = files
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--json", "--solver", "cbc"]
    )
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert plan["solver"]["name"] == "cbc"


def test_optimize_csv_through_scenarios_exports(files):
    d, curves, spec = files
    out = d / "plan.csv"
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert rows and "network" in rows[0]


def test_target_results(files):
    d, curves, spec = files
    r = runner.invoke(
        app,
        [
            "optimize",
            "--curves",
            str(curves),
            "--spec",
            str(spec),
            "--target-results",
            "300",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert plan["expected_results"] == pytest.approx(300, rel=1e-6)
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--target-results", "1e9"]
    )
    assert r.exit_code == 1
    assert "reachable" in r.output


def test_infeasible_exits_1_with_diagnosis(files):
    d, curves, _ = files
    spec = d / "bad.yaml"
    spec.write_text("budget: 1000\nnetworks:\n  net00: {min: 800}\n  net01: {min: 700}\n")
    r = runner.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec)])
    assert r.exit_code == 1
    assert "raise the budget by 500" in r.output


@pytest.mark.parametrize(
    ("spec_text", "words"),
    [
        ("budget: 1000\nnetworks:\n  meta: {min: 10}\n", "network 'meta'"),
        ("budget: -1\n", "budget"),
        ("budget: [1,\n", "not valid YAML"),
    ],
)
def test_bad_spec_exits_2(files, spec_text, words):
    d, curves, _ = files
    spec = d / "bad.yaml"
    spec.write_text(spec_text)
    r = runner.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec)])
    assert r.exit_code == 2
    assert words in r.output


def test_non_concave_curves_exit_2(files):
    d, _, spec = files
    curves = d / "bad.json"
    curves.write_text(
        json.dumps(
            {
                "lines": [
                    {
                        "network": "net00",
                        "segment": "s",
                        "period": "p",
                        "points": [[0, 0], [1, 1], [2, 5]],
                    }
                ]
            }
        )
    )
    r = runner.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec)])
    assert r.exit_code == 2
    assert "not concave" in r.output and "net00/s/p" in r.output


def test_missing_curves_file_exits_2(files):
    d, _, spec = files
    r = runner.invoke(app, ["optimize", "--curves", str(d / "nope.json"), "--spec", str(spec)])
    assert r.exit_code == 2


def test_frontier_csv(files):
    d, curves, spec = files
    out = d / "frontier.csv"
    r = runner.invoke(
        app,
        [
            "frontier",
            "--curves",
            str(curves),
            "--spec",
            str(spec),
            "--budgets",
            "10000:40000:4",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == [
        "budget",
        "expected_results",
        "results_p10",
        "results_p50",
        "results_p90",
        "total_spend",
        "cost_per_result",
        "marginal_cost_per_result",
        "status",
    ]
    assert {x["status"] for x in rows} == {"optimal"}
    assert [float(x["budget"]) for x in rows] == [10000, 20000, 30000, 40000]
    res = [float(x["expected_results"]) for x in rows]
    assert res == sorted(res)


def test_frontier_bad_budgets_exit_2(files):
    d, curves, spec = files
    r = runner.invoke(
        app,
        ["frontier", "--curves", str(curves), "--spec", str(spec), "--budgets", "40000:10000:3"],
    )
    assert r.exit_code == 2
    assert "LO:HI:N" in r.output


def test_optimize_from_history_forecasts_first(tmp_path):
    from forecasting import generate_sample_history, write_history

    hist = tmp_path / "history.csv"
    write_history(generate_sample_history(seed=1), hist)
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 30000\nnetworks:\n  meta: {min_share: 0.2}\n")
    out = tmp_path / "plan.json"
    args = [
        "optimize",
        "--history",
        str(hist),
        "--from",
        "2027-01-04",
        "--to",
        "2027-02-28",
        "--period",
        "month",
        "--spec",
        str(spec),
        "--out",
        str(out),
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    plan = json.loads(out.read_text())
    assert plan["total_spend"] == pytest.approx(30000)
    assert {ln["period"] for ln in plan["lines"]} == {"2027-01", "2027-02"}
    meta = sum(ln["spend"] for ln in plan["lines"] if ln["network"] == "meta")
    assert meta >= 0.2 * plan["total_spend"] - 1e-6
    r = runner.invoke(app, ["optimize", "--history", str(hist), "--spec", str(spec)])
    assert r.exit_code == 2
