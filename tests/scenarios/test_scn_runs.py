"""Scenario runs: plans per variant, overrides, infeasible variants, the finance workbook."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest
import yaml

from scenarios.errors import ScenarioFileError
from scenarios.exports.people import machine_name
from scenarios.runs import run_scenario


def _spend(plan, **match):
    return sum(ln.spend for ln in plan.lines if all(getattr(ln, k) == v for k, v in match.items()))


def _results(plan, **match):
    return sum(
        ln.expected_results
        for ln in plan.lines
        if all(getattr(ln, k) == v for k, v in match.items())
    )


def _no_nan(name):
    raise AssertionError(f"{name} in the JSON")


def test_every_variant_writes_json_and_csv(example_run):
    run, out, calls = example_run
    assert [v.name for v in run.variants] == [
        "q1-2027",
        "budget-minus-10",
        "tiktok-dearer",
        "no-linkedin",
    ]
    for v in run.variants:
        assert v.ok, v.error
        plan = json.loads((out / v.name / "plan.json").read_text(), parse_constant=_no_nan)
        rows = list(csv.DictReader((out / v.name / "plan.csv").open()))
        assert sum(float(r["spend"]) for r in rows) == pytest.approx(plan["total_spend"], abs=0.05)
    for name in ("workbook.xlsx", "report.html", "comparison.json", "frontier.png"):
        assert (out / name).stat().st_size > 1000, name
    assert calls[-1][0] == "done" and calls[-1][1] == calls[-1][2]


def test_overrides_change_the_plans(example_run):
    run, _, _ = example_run
    base, cut, dear, nolink = (v.plan for v in run.variants)
    assert base.total_spend == pytest.approx(60000, rel=1e-6)
    assert cut.budget == pytest.approx(54000)
    assert cut.total_spend <= 54000 + 1e-6
    assert cut.expected_results < base.expected_results
    # tiktok 20% dearer: at the same spend its results are divided by 1.2
    assert _spend(dear, network="tiktok") == pytest.approx(_spend(base, network="tiktok"))
    assert _results(dear, network="tiktok") == pytest.approx(_results(base, network="tiktok") / 1.2)
    assert _spend(nolink, network="linkedin") == 0
    assert any("linkedin" in n for n in run.variants[3].notes)


def test_workbook_matches_the_json(example_run):
    run, out, _ = example_run
    wb = openpyxl.load_workbook(out / "workbook.xlsx")
    tables = {name: ws.title for ws in wb for name in ws.tables}
    for name in (
        "Summary",
        "Comparison",
        "MoneyMoved",
        "Lines",
        "Rules",
        "ForecastCPR",
        "CurvePoints",
        "Overrides",
        "Flighting_q1_2027",
        "Flighting_budget_minus_10",
    ):
        assert name in tables, name

    def table_rows(name):
        ws = wb[tables[name]]
        ref = ws.tables[name].ref
        cells = [[c.value for c in row] for row in ws[ref]]
        keys = [machine_name(h) for h in cells[0]]  # headers in words
        return [
            {**dict(zip(cells[0], r, strict=True)), **dict(zip(keys, r, strict=True))}
            for r in cells[1:]
        ]

    summary = {r["variant"]: r for r in table_rows("Summary")}
    lines = table_rows("Lines")
    for v in run.variants:
        plan = json.loads((out / v.name / "plan.json").read_text())
        assert summary[v.name]["total_spend"] == pytest.approx(plan["total_spend"], abs=0.005)
        assert summary[v.name]["expected_results"] == pytest.approx(
            plan["expected_results"], abs=0.05
        )
        mine = [r for r in lines if r["variant"] == v.name]
        assert sum(r["spend"] for r in mine) == pytest.approx(plan["total_spend"])
        # flighting: the grand total beside the table equals the plan's spend
        name = "Flighting_" + v.name.replace("-", "_")
        ws = wb[tables[name]]
        last_row = int(ws.tables[name].ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        total_row = [c.value for c in ws[last_row + 1]]
        assert total_row[0] == "Total"
        assert [x for x in total_row if x is not None][-1] == pytest.approx(plan["total_spend"])
    comp = {r["variant"]: r for r in table_rows("Comparison")}
    assert "spend Over/(under) base" in next(iter(comp.values()))
    assert comp["budget-minus-10"]["spend Over/(under) base"] == pytest.approx(-6000, abs=0.01)
    rules = table_rows("Rules")
    assert any(r["name"] == "budget" and r["binding"] for r in rules)
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate)


def test_text_is_neutralised_in_the_workbook(scenario_dir, tmp_path):
    curves = json.loads((scenario_dir / "curves.json").read_text())
    for ln in curves["lines"]:
        if ln["segment"] == "retargeting":
            ln["segment"] = "=cmd|' /C calc'!A0"
    (scenario_dir / "curves.json").write_text(json.dumps(curves))
    sc = yaml.safe_load((scenario_dir / "q1-2027.yaml").read_text())
    sc["spec"].pop("segments")
    sc["variants"][2]["spec"] = {}
    (scenario_dir / "q1-2027.yaml").write_text(yaml.safe_dump(sc))
    run_scenario(scenario_dir / "q1-2027.yaml", tmp_path / "out", frontier=False, report=False)
    wb = openpyxl.load_workbook(tmp_path / "out" / "workbook.xlsx")
    cells = [r[2] for r in wb["Lines"].iter_rows(min_row=2)]
    segs = {c.value for c in cells}
    assert "=cmd|' /C calc'!A0" in segs  # as written, a text cell with the quote prefix
    assert all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells if c.value.startswith("="))
    text = (tmp_path / "out" / "q1-2027" / "plan.csv").read_text()
    assert ",'=cmd|" in text


def test_infeasible_variant_is_reported_not_fatal(scenario_dir, tmp_path):
    sc = yaml.safe_load((scenario_dir / "q1-2027.yaml").read_text())
    sc["variants"].insert(
        0, {"name": "impossible", "spec": {"networks": {"linkedin": {"min": 90000}}}}
    )
    (scenario_dir / "q1-2027.yaml").write_text(yaml.safe_dump(sc))
    run = run_scenario(scenario_dir / "q1-2027.yaml", tmp_path / "out", frontier=False)
    bad = run.variants[1]
    assert bad.name == "impossible" and not bad.ok
    assert bad.diagnosis and bad.error
    assert all(v.ok for v in run.variants if v.name != "impossible")
    info = json.loads((tmp_path / "out" / "impossible" / "infeasible.json").read_text())
    assert info["status"] == "infeasible" and info["diagnosis"]
    assert not (tmp_path / "out" / "impossible" / "plan.json").exists()
    wb = openpyxl.load_workbook(tmp_path / "out" / "workbook.xlsx")
    assert "Infeasible" in wb["Infeasible"].tables
    html = (tmp_path / "out" / "report.html").read_text()
    assert "No plan:" in html


def test_unknown_override_names_are_errors(scenario_dir):
    sc = yaml.safe_load((scenario_dir / "q1-2027.yaml").read_text())
    sc["variants"][1]["overrides"]["cost_per_result"] = {"tiktokk": 1.2}
    (scenario_dir / "q1-2027.yaml").write_text(yaml.safe_dump(sc))
    with pytest.raises(
        ScenarioFileError,
        match=r"variant tiktok-dearer overrides\.cost_per_result\.tiktokk: no network or segment 'tiktokk'",
    ):
        run_scenario(scenario_dir / "q1-2027.yaml", None, frontier=False)


def test_a_rule_naming_nothing_names_the_variant(scenario_dir):
    sc = yaml.safe_load((scenario_dir / "q1-2027.yaml").read_text())
    sc["variants"].append({"name": "bad-net", "spec": {"networks": {"snapchat": {"min": 100}}}})
    (scenario_dir / "q1-2027.yaml").write_text(yaml.safe_dump(sc))
    with pytest.raises(ScenarioFileError, match=r"^q1-2027.yaml: variant bad-net\b.*'snapchat'"):
        run_scenario(scenario_dir / "q1-2027.yaml", None, frontier=False)
