"""CLI defects a reviewer found: frontier status column, --out checked before solving, unspent
budget warnings, user text never read as Rich markup, totals rounded for display.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_frontier_csv_marks_infeasible_budgets(files):
    d, curves, _ = files
    spec = d / "floor.yaml"
    spec.write_text("budget: 20000\nnetworks:\n  net00: {min: 15000}\n")
    out = d / "frontier.csv"
    args = ["frontier", "--curves", str(curves), "--spec", str(spec)]
    r = runner.invoke(app, [*args, "--budgets", "10000,20000", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["status"] == "infeasible" and rows[0]["budget"] == "10000.0"
    assert rows[0]["expected_results"] == ""
    assert rows[1]["status"] == "optimal" and float(rows[1]["expected_results"]) > 0


@pytest.mark.parametrize(
    ("command", "extra", "known"),
    [
        ("frontier", ["--budgets", "1000:2000:3"], ".csv, .json or .png"),
        ("optimize", [], ".json, .csv, .xlsx or .html"),
    ],
)
def test_out_suffix_is_checked_before_anything_is_read(tmp_path, command, extra, known):
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 100\n")
    args = [command, "--curves", str(tmp_path / "missing.json"), "--spec", str(spec), *extra]
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "result.txt")])
    assert r.exit_code == 2
    assert known in r.output and "result.txt" in r.output
    assert "missing.json" not in r.output  # refused before the curves were read


def test_unspent_budget_warns_on_stderr_and_in_the_json(files):
    d, curves, _ = files
    spec = d / "cpr.yaml"
    spec.write_text("budget: 60000\nmax_cost_per_result: 0.01\n")
    out = d / "plan.json"
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "warning:" in r.stderr and "max_cost_per_result" in r.stderr
    assert "60,000" in r.stderr
    plan = json.loads(out.read_text())
    assert plan["total_spend"] == 0.0
    assert any("max_cost_per_result" in n for n in plan["notes"])
    r = runner.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--json"])
    assert r.exit_code == 0
    json.loads(r.stdout)  # stdout is only the JSON; the warning went to stderr
    assert "max_cost_per_result" in r.stderr


def test_user_text_is_not_read_as_markup(tmp_path):
    lines = [
        {"network": n, "segment": s, "period": "2027-01", "points": [[0, 0], [500, 50]]}
        for n in ("[b]net[/b]", "plain")
        for s in ("[/x]", "[red]s[/red]")
    ]
    curves = tmp_path / "curves.json"
    curves.write_text(json.dumps({"lines": lines}))
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 1500\nsegments:\n  '[/x]': {max: 200}\n")
    out = tmp_path / "[i]plan[/i].json"
    r = runner.invoke(
        app, ["optimize", "--curves", str(curves), "--spec", str(spec), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    for text in ("[b]net[/b]", "[/x]", "[red]s[/red]", "segment_max__[/x]", "[i]plan[/i].json"):
        assert text in r.output, text


def test_displayed_figures_are_rounded(files):
    d, curves, spec = files
    r = runner.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec)])
    assert r.exit_code == 0, r.output
    assert "20,000" in r.output
    # no float noise like 19999.999999999996 anywhere on screen
    assert not re.search(r"\d\.\d{7,}", r.output)
