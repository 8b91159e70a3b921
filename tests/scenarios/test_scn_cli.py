"""The CLI: scenario run / compare, replan; exit codes and small golden outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_help_lists_the_commands_and_stays_light():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("demo", "scenario", "replan"):
        assert cmd in r.output
    code = (
        "import sys, cli.main, cli.commands.scenario, cli.commands.demo;"
        "bad = [m for m in ('pandas', 'sklearn', 'matplotlib', 'openpyxl', 'optimizer') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scenario_run_writes_files_and_prints_tables(examples_dir, tmp_path):
    r = runner.invoke(
        app, ["scenario", "run", str(examples_dir / "q1-2027.yaml"), "--out", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert "Over/(under) base (q1-2027)" in r.stdout
    assert "budget-minus-10 │ (6,000.00) │" in r.stdout
    assert "Money moved between networks" in r.stdout
    assert (tmp_path / "tiktok-dearer" / "plan.csv").exists()
    assert (tmp_path / "report.html").exists()


def test_scenario_compare_golden(examples_dir):
    files = [str(examples_dir / "q1-2027.yaml"), str(examples_dir / "q1-2027-b2b.yaml")]
    r = runner.invoke(app, ["scenario", "compare", *files])
    assert r.exit_code == 0, r.output
    # the example curves carry no uncertainty: no P10-P90, no chance of beating the base
    assert "│ q1-2027     │ optimal │ 60,000.00 │ 2,847.93 │         │       21.07 │" in r.stdout
    assert "│ q1-2027-b2b │  0.00 │  (68.1) │        0.52 │                        - │" in r.stdout
    assert "│ linkedin │      4,000.00 │    5,000.00 │" in r.stdout
    assert "networks.linkedin.min_share" in r.stdout
    rj = runner.invoke(app, ["scenario", "compare", *files, "--json"])
    assert rj.exit_code == 0
    comp = json.loads(rj.stdout)  # stdout holds only the JSON
    assert [c["name"] for c in comp["cases"]] == ["q1-2027", "q1-2027-b2b"]
    assert round(comp["cases"][1]["delta"]["expected_results"], 1) == -68.1


def test_bad_scenario_file_exits_2_with_key_path(tmp_path, examples_dir):
    p = tmp_path / "bad.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "name": "bad",
                "curves": str(examples_dir / "curves.json"),
                "spec": {"budget": 100},
                "variants": [{"name": "v", "overrides": {"cost_per_result": {"tiktok": -1}}}],
            }
        )
    )
    r = runner.invoke(app, ["scenario", "run", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert (
        "bad.yaml: variants[0].overrides.cost_per_result.tiktok: must be a number > 0" in r.stderr
    )
    r = runner.invoke(app, ["scenario", "run", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "missing.yaml: scenario file not found" in r.stderr


def test_infeasible_base_exits_1_after_writing(tmp_path, examples_dir):
    p = tmp_path / "inf.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "name": "inf",
                "curves": str(examples_dir / "curves.json"),
                "spec": {"budget": 1000, "networks": {"linkedin": {"min": 5000}}},
                "variants": [{"name": "ok", "spec": {"networks": {"linkedin": None}}}],
            }
        )
    )
    r = runner.invoke(app, ["scenario", "run", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1, r.output
    assert "variant inf: no plan" in r.stderr
    assert (tmp_path / "o" / "inf" / "infeasible.json").exists()
    assert (tmp_path / "o" / "ok" / "plan.json").exists()


def test_replan_cli(tmp_path, examples_dir):
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2027-01-05,meta,f-25-34,purchases,3000,120\n"
        "2027-01-20,tiktok,f-25-34,purchases,4000,200\n"
    )
    out = tmp_path / "replan.json"
    args = [
        "replan",
        "--spec",
        str(examples_dir / "plan.yaml"),
        "--curves",
        str(examples_dir / "curves.json"),
        "--actuals",
        str(actuals),
        "--as-of",
        "2027-02-01",
        "--out",
        str(out),
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "Plan vs actual vs re-plan as of 2027-02-01 (EUR)" in r.stdout
    assert "2027-01 elapsed, 2027-02 open, 2027-03 open" in r.stdout.replace("\n", " ")
    plan = json.loads(out.read_text())
    jan = {
        (ln["network"], ln["segment"]): ln["spend"]
        for ln in plan["lines"]
        if ln["period"] == "2027-01"
    }
    assert jan[("meta", "f-25-34")] == 3000 and jan[("tiktok", "f-25-34")] == 4000
    assert sum(jan.values()) == 7000
    assert plan["total_spend"] <= 60000 + 1e-6
    r = runner.invoke(app, args[:-2] + ["--json"])
    assert json.loads(r.stdout)["replan"]["as_of"] == "2027-02-01"
    r = runner.invoke(app, args[:-4] + ["--as-of", "soon"])
    assert r.exit_code == 2 and "--as-of" in r.stderr


def test_replan_refuses_an_out_suffix_before_reading_or_solving(tmp_path, examples_dir):
    args = ["replan", "--spec", str(examples_dir / "plan.yaml"), "--as-of", "2027-02-01"]
    out = tmp_path / "r.txt"
    # the curves and actuals do not exist: the suffix is refused before they are read
    missing = ["--curves", str(tmp_path / "none.json"), "--actuals", str(tmp_path / "none.csv")]
    r = runner.invoke(app, [*args, *missing, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert f"--out {out}: cannot write a .txt file" in r.stderr.replace("\n", "")
    assert ".json, .csv, .xlsx or .html" in r.stderr.replace("\n", "")
    assert "none.json" not in r.stderr and not out.exists()


def test_names_are_printed_literally_not_as_rich_markup(scenario_dir, tmp_path):
    name = "[red]retargeting[/red]"
    for f in scenario_dir.iterdir():
        if f.suffix in (".json", ".yaml"):
            quoted = f'"{name}"' if f.suffix == ".yaml" else name
            f.write_text(f.read_text().replace("retargeting", quoted))
    r = runner.invoke(
        app,
        [
            "scenario",
            "compare",
            str(scenario_dir / "q1-2027.yaml"),
            str(scenario_dir / "q1-2027-b2b.yaml"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert name in r.stdout  # the segments table of money moved
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(
        f"date,network,segment,result_type,spend,results\n2027-01-05,meta,{name},purchases,30,1\n"
    )
    r = runner.invoke(
        app,
        [
            "replan",
            "--spec",
            str(scenario_dir / "plan.yaml"),
            "--curves",
            str(scenario_dir / "curves.json"),
            "--actuals",
            str(actuals),
            "--as-of",
            "2027-02-01",
        ],
        terminal_width=200,
    )
    assert r.exit_code == 0, r.output
    assert f"meta/{name}" in r.stdout
