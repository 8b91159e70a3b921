"""The plans' ranges (P10-P90) in every export, written to real files and read back.

Plans are made on small hand-made curves (a few lines, each with a forecast ``spread``), so
each test takes milliseconds; the scenario run (workbook, report) is made once per module.
"""

from __future__ import annotations

import csv
import html
import json
import re

import openpyxl
import pytest
import yaml

from optimizer import Curves, PlanSpec, allocate
from optimizer.allocate import frontier, min_budget_for_results
from scenarios.exports import write_frontier_chart, write_plan
from scenarios.exports.charts import frontier_band, frontier_png
from scenarios.exports.html import chance_text, range_text
from scenarios.exports.people import machine_name

SPREAD = {"level_var": 0.02, "log_spend_centre": 7.0, "elasticity_se": 0.05, "dispersion": 0.01}
NETWORKS = {"meta": 3.0, "tiktok": 2.0}  # results per 10 EUR on the first tier
SEGMENTS = ("f-25-34", "=cmd")  # a segment a spreadsheet would run: stays text
PERIODS = ("2027-W01", "2027-W02")


def _curves_dict(spread: bool = True) -> dict:
    lines = []
    for net, k in NETWORKS.items():
        for seg in SEGMENTS:
            for per in PERIODS:
                pts = [[0, 0], [1000, 100 * k], [2000, 160 * k], [4000, 240 * k]]
                ln: dict = {"network": net, "segment": seg, "period": per, "points": pts}
                if spread:
                    ln["spread"] = dict(SPREAD)
                lines.append(ln)
    return {"currency": "EUR", "result_type": "purchases", "lines": lines}


def _curves(spread: bool = True) -> Curves:
    return Curves.from_dict(_curves_dict(spread))


def _spec(**extra) -> PlanSpec:
    return PlanSpec.from_dict({"budget": 9000, "networks": {"meta": {"min_share": 0.25}}, **extra})


@pytest.fixture(scope="module")
def plan():
    return allocate(_curves(), _spec())


@pytest.fixture(scope="module")
def certain():
    """A plan on curves without uncertainty: its ranges have source none."""
    return allocate(_curves(spread=False), _spec())


@pytest.fixture(scope="module")
def cvar():
    return allocate(_curves(), _spec(objective="cvar"))


@pytest.fixture(scope="module")
def target():
    return min_budget_for_results(_curves(), _spec(), 1500, confidence=0.9)


def _xl(*values):
    """``values`` as read back from an XLSX file: rounded as shown (results to 0.1)."""
    out = tuple(pytest.approx(v, rel=0, abs=0.0501) for v in values)
    return out[0] if len(out) == 1 else out


def _table(wb, name: str) -> list[dict]:
    """The rows of the Excel Table ``name``, as dicts by header."""
    ws = next(ws for ws in wb if name in ws.tables)
    cells = [[c.value for c in row] for row in ws[ws.tables[name].ref]]
    keys = [machine_name(h) for h in cells[0]]  # headers in words, read by machine name too
    return [
        {**dict(zip(cells[0], r, strict=True)), **dict(zip(keys, r, strict=True))}
        for r in cells[1:]
    ]


def _cells(ws, name: str) -> list[list]:
    """The cells (objects) of the Excel Table ``name`` on ``ws``, header row first."""
    return [list(row) for row in ws[ws.tables[name].ref]]


def _text(page: str) -> str:
    """The text of an HTML page: tags dropped, entities read, blanks collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _html_table(page: str, first_header: str, header: str) -> list[dict]:
    """The rows (cell texts by header) of the first table headed ``first_header`` ...

    ... whose headers hold ``header``.
    """
    for t in re.findall(r"<table>(.*?)</table>", page):
        heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", t)]
        if heads and heads[0] == first_header and header in heads:
            body = re.findall(r"<tr>(.*?)</tr>", t.split("<tbody>")[1])
            rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in body]
            return [dict(zip(heads, r, strict=True)) for r in rows]
    raise AssertionError(f"no table with {first_header!r} and {header!r}")


# -- CSV ---------------------------------------------------------------------------------


def test_csv_has_each_lines_range_beside_its_expected_results(plan, tmp_path):
    rows = list(csv.reader(write_plan(plan, tmp_path / "plan.csv").open(newline="")))
    head = rows[0]
    i = head.index("expected_results")
    assert head[i + 1 : i + 3] == ["results_p10", "results_p90"]
    assert head[:3] == ["network", "segment", "period"]
    assert head[-2:] == ["cost_per_result", "marginal_cost_per_result"]
    lines = plan.to_dict()["lines"]
    assert len(rows) - 1 == len(lines)
    for r, ln in zip(rows[1:], lines, strict=True):
        got = dict(zip(head, r, strict=True))
        assert float(got["results_p10"]) == ln["results_p10"]  # exact, as every number
        assert float(got["results_p90"]) == ln["results_p90"]
        assert ln["results_p10"] <= ln["results_p90"]
    assert any(float(r[i + 1]) > 0 for r in rows[1:])


def test_csv_range_cells_are_empty_without_uncertainty(certain, fixtures_dir, tmp_path):
    assert certain.ranges["source"] == "none"
    old = json.loads((fixtures_dir / "scenarios" / "plan_small.json").read_text())
    for p in (certain, old):  # ranges of source none; a Plan JSON without ranges
        rows = list(csv.DictReader(write_plan(p, tmp_path / "p.csv").open(newline="")))
        assert rows and all(r["results_p10"] == r["results_p90"] == "" for r in rows)
        assert all(r["expected_results"] != "" for r in rows)


# -- XLSX --------------------------------------------------------------------------------


def test_xlsx_lines_carry_the_line_ranges(plan, tmp_path):
    wb = openpyxl.load_workbook(write_plan(plan, tmp_path / "plan.xlsx"))
    rows = _table(wb, "PlanLines")
    heads = [c.value for c in wb["Lines"][1]]  # the headers in words
    assert heads[4:7] == ["expected results", "results P10", "results P90"]
    for r, ln in zip(rows, plan.to_dict()["lines"], strict=True):
        assert (r["results_p10"], r["results_p90"]) == _xl(ln["results_p10"], ln["results_p90"])
    assert wb["Lines"]["F2"].number_format == "#,##0.0"
    (summary,) = _table(wb, "PlanSummary")
    assert summary["results_p10"] == _xl(plan.ranges["total"]["p10"])
    assert summary["results_p90"] == _xl(plan.ranges["total"]["p90"])


def test_xlsx_ranges_sheet_holds_every_range_as_numbers(plan, tmp_path):
    wb = openpyxl.load_workbook(write_plan(plan, tmp_path / "plan.xlsx"))
    assert wb.sheetnames[:4] == ["Summary", "Ledger", "Lines", "Ranges"]
    rows = _table(wb, "PlanRanges")
    r = plan.ranges
    want = [("total", "purchases", r["total"]), ("cost per result", None, r["cost_per_result"])]
    for key, kind in (("networks", "network"), ("segments", "segment"), ("periods", "period")):
        want += [(kind, name, q) for name, q in r[key].items()]
    assert len(rows) == len(want)
    for row, (kind, name, q) in zip(rows, want, strict=True):
        assert row["kind"] == kind and (name is None or row["name"] == name)
        assert (row["P10"], row["P50"], row["P90"]) == _xl(q["p10"], q["p50"], q["p90"])
    assert rows[0]["expected"] == _xl(plan.expected_results)
    assert rows[1]["expected"] == pytest.approx(plan.cost_per_result, abs=0.005)
    assert rows[1]["P10"] < rows[1]["P90"]  # P10: the low cost
    meta = next(x for x in rows if x["name"] == "meta")
    lines = [ln for ln in plan.lines if ln.network == "meta"]
    assert meta["expected"] == pytest.approx(sum(ln.expected_results for ln in lines))
    assert "=cmd" in {x["name"] for x in rows}  # text as written, never a formula
    ws = wb["Ranges"]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert [c.number_format for c in _cells(ws, "PlanRanges")[1][2:]] == ["#,##0.0"] * 4
    assert [c.number_format for c in _cells(ws, "PlanRanges")[2][2:]] == ['#,##0.00 "EUR"'] * 4
    notes = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert any(n.startswith(r["note"]) and "2,000 scenarios" in n for n in notes)
    assert "PlanRisk" not in ws.tables and "PlanChance" not in ws.tables


def test_xlsx_cvar_plan_shows_its_risk(cvar, tmp_path):
    wb = openpyxl.load_workbook(write_plan(cvar, tmp_path / "plan.xlsx"))
    risk = cvar.risk
    this, mean, gains = _table(wb, "PlanRisk")
    for row, key in ((this, "this_plan"), (mean, "mean_plan")):
        want = _xl(*(risk[key][k] for k in ("mean", "p10", "tail_mean")))
        assert (row["mean"], row["P10"], row["tail mean"]) == want
    assert gains["mean"] == _xl(-risk["mean_results_given_up"])
    assert (gains["P10"], gains["tail mean"]) == _xl(risk["p10_gained"], risk["tail_mean_gained"])
    ws = wb["Ranges"]
    label = next(c for c in ws["A"] if c.value == "mean results given up")
    assert ws.cell(row=label.row, column=2).value == _xl(risk["mean_results_given_up"])
    assert risk["words"].replace(" -> ", " → ") in [c.value for c in ws["A"]]  # in words
    assert _table(wb, "PlanSummary")[0]["objective"] == "cvar"


def test_xlsx_target_plan_shows_its_chance(target, tmp_path):
    wb = openpyxl.load_workbook(write_plan(target, tmp_path / "plan.xlsx"))
    (chance,) = _table(wb, "PlanChance")
    assert {
        k: chance[k] for k in ("target_results", "target_probability", "target_confidence")
    } == {
        "target_results": 1500,
        "target_probability": _xl(target.target_probability),
        "target_confidence": 0.9,
    }
    (summary,) = _table(wb, "PlanSummary")
    assert summary["target_probability"] == _xl(target.target_probability)
    ws = wb["Ranges"]
    cells = _cells(ws, "PlanChance")
    assert cells[1][1].number_format == "0.0%"


def test_xlsx_without_uncertainty_has_empty_range_cells(certain, fixtures_dir, tmp_path):
    wb = openpyxl.load_workbook(write_plan(certain, tmp_path / "plan.xlsx"))
    rows = _table(wb, "PlanRanges")
    assert {x["name"] for x in rows if x["kind"] == "network"} == set(NETWORKS)
    assert all(x["P10"] is None and x["P50"] is None and x["P90"] is None for x in rows)
    assert rows[0]["expected"] == _xl(certain.expected_results)
    assert all(x["results_p10"] is None for x in _table(wb, "PlanLines"))
    notes = [c.value for c in wb["Ranges"]["A"] if isinstance(c.value, str)]
    assert any(n.startswith("no range:") for n in notes)
    old = json.loads((fixtures_dir / "scenarios" / "plan_small.json").read_text())
    wb = openpyxl.load_workbook(write_plan(old, tmp_path / "old.xlsx"))
    assert [x["kind"] for x in _table(wb, "PlanRanges")] == ["total", "cost per result"]
    assert "results_p10" not in _table(wb, "PlanSummary")[0]


# -- HTML --------------------------------------------------------------------------------


def test_html_summary_and_tables_show_the_ranges(plan, tmp_path):
    page = write_plan(plan, tmp_path / "plan.html").read_text()
    r = plan.ranges
    (summary,) = _html_table(page, "status", "results P10-P90")
    assert summary["results P10-P90"] == range_text(r["total"]["p10"], r["total"]["p90"])
    cpr = r["cost_per_result"]
    assert summary["cost per result P10-P90"] == range_text(cpr["p10"], cpr["p90"], 2)
    p10, p90 = f"{r['total']['p10']:,.0f}", f"{r['total']['p90']:,.0f}"
    assert summary["results P10-P90"] == f"{p10} – {p90}"
    for field, key in (("network", "networks"), ("segment", "segments")):
        rows = _html_table(page, field, "results P10-P90")
        assert {x[field] for x in rows} == set(r[key])
        for x in rows:
            q = r[key][x[field]]
            assert x["results P10-P90"] == range_text(q["p10"], q["p90"])
    lines = _html_table(page, "network", "results_p10")
    assert [x["results_p10"] for x in lines] == [f"{ln.results_p10:,.2f}" for ln in plan.lines]
    text = _text(page)
    assert r["note"] in text and "Chance of reaching" not in text and "Risk:" not in text
    assert "'" not in page.split("<h3>Ranges")[1].split("</p>")[0]  # the note is escaped


def test_html_cvar_and_target_plans_say_risk_and_chance(cvar, target, tmp_path):
    text = _text(write_plan(cvar, tmp_path / "cvar.html").read_text())
    assert f"Risk: {cvar.risk['words']}." in text
    text = _text(write_plan(target, tmp_path / "target.html").read_text())
    chance = chance_text(target.target_probability)
    assert f"Chance of reaching the target: {chance} that the plan reaches its target" in text
    assert "1,500 purchases (asked for: 90.0%)" in text


def test_html_without_uncertainty_shows_dashes(certain, fixtures_dir, tmp_path):
    page = write_plan(certain, tmp_path / "plan.html").read_text()
    (summary,) = _html_table(page, "status", "results P10-P90")
    assert summary["results P10-P90"] == summary["cost per result P10-P90"] == "-"
    assert {x["results P10-P90"] for x in _html_table(page, "network", "results P10-P90")} == {"-"}
    assert "no range:" in _text(page)
    old = json.loads((fixtures_dir / "scenarios" / "plan_small.json").read_text())
    page = write_plan(old, tmp_path / "old.html").read_text()
    assert "P10-P90" not in page and "<h3>Lines</h3>" in page


# -- the frontier chart ------------------------------------------------------------------


def test_frontier_band_keeps_the_points_with_a_range():
    pts: list[dict] = [
        {"budget": 3000, "expected_results": 30, "results_p10": 25, "results_p90": 36},
        {"budget": 1000, "expected_results": 10, "results_p10": 8, "results_p90": 12},
        {"budget": 9e9, "expected_results": None, "results_p10": None, "results_p90": None},
        {"budget": 2000, "expected_results": 20},  # no band
    ]
    assert frontier_band(pts) == ([1000.0, 3000.0], [8.0, 25.0], [12.0, 36.0])
    assert frontier_band(pts[3:]) == ([], [], [])


def test_frontier_chart_draws_the_band(tmp_path):
    points = frontier(_curves(), _spec(), [3000, 6000, 9000, 12000])
    assert all(p["results_p10"] <= p["results_p50"] <= p["results_p90"] for p in points)
    xs, lo, hi = frontier_band(points)
    assert xs == [3000, 6000, 9000, 12000] and lo == [p["results_p10"] for p in points]
    path = write_frontier_chart(points, tmp_path / "frontier.png", currency="EUR")
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    bare = [{k: v for k, v in p.items() if not k.startswith("results_p")} for p in points]
    assert frontier_png(bare, "EUR") != png  # the band (and its legend) is drawn


# -- the scenario workbook and report ----------------------------------------------------


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory):
    """A scenario on the hand-made curves: the base, two variants and one with no plan."""
    from scenarios.runs import run_scenario

    d = tmp_path_factory.mktemp("ranges-scenario")
    (d / "curves.json").write_text(json.dumps(_curves_dict()))
    sc = {
        "name": "base",
        "curves": "curves.json",
        "spec": {"budget": 9000, "networks": {"meta": {"min_share": 0.25}}},
        "variants": [
            {"name": "cut", "overrides": {"budget": "-10%"}},
            {"name": "tiktok-dearer", "overrides": {"cost_per_result": {"tiktok": 1.2}}},
            {"name": "impossible", "spec": {"networks": {"meta": {"min": 20000}}}},
        ],
    }
    (d / "sc.yaml").write_text(yaml.safe_dump(sc))
    run = run_scenario(d / "sc.yaml", d / "out", frontier=False)
    return run, d / "out"


def test_scenario_workbook_shows_ranges_and_chance_to_beat_the_base(scenario_run):
    run, out = scenario_run
    wb = openpyxl.load_workbook(out / "workbook.xlsx")
    cases = {c["name"]: c for c in run.comparison["cases"]}
    assert 0 < cases["tiktok-dearer"]["beats_base_probability"] < 1  # a chance to show
    for table in ("Summary", "Comparison"):
        rows = {x["variant"]: x for x in _table(wb, table)}
        assert set(rows) == {"base", "cut", "tiktok-dearer", "impossible"}
        for v in run.variants:
            row = rows[v.name]
            if v.plan is None:
                assert row["results_p10"] is None and row["chance_beats_base"] is None
                continue
            total = v.plan.ranges["total"]
            assert (row["results_p10"], row["results_p90"]) == _xl(total["p10"], total["p90"])
            want = None if v.name == "base" else cases[v.name].get("beats_base_probability")
            assert row["chance_beats_base"] == (None if want is None else _xl(want))
    ws = wb["Summary"]
    heads = [c.value for c in ws[1]]
    assert (
        ws.cell(row=3, column=heads.index("chance of beating the base") + 1).number_format == "0.0%"
    )
    assert ws.cell(row=2, column=heads.index("results P10") + 1).number_format == "#,##0.0"


def test_scenario_report_shows_ranges_and_chance_to_beat_the_base(scenario_run):
    run, out = scenario_run
    page = (out / "report.html").read_text()
    cases = {c["name"]: c for c in run.comparison["cases"]}
    rows = {x["variant"]: x for x in _html_table(page, "variant", "chance it beats the base")}
    for v in run.variants:
        row = rows[v.name]
        if v.plan is None:
            assert row["results P10-P90"] == row["chance it beats the base"] == "-"
            continue
        total = v.plan.ranges["total"]
        assert row["results P10-P90"] == range_text(total["p10"], total["p90"])
        chance = None if v.name == "base" else cases[v.name].get("beats_base_probability")
        assert row["chance it beats the base"] == chance_text(chance)
    assert rows["base"]["chance it beats the base"] == "-"
    # each variant's own totals table says the same
    section = page.split("<h2>cut</h2>")[1]
    (own,) = _html_table(section, "status", "chance it beats the base")
    assert own["results P10-P90"] == rows["cut"]["results P10-P90"]
    assert own["chance it beats the base"] == rows["cut"]["chance it beats the base"]
    note = html.escape(run.variants[0].plan.ranges["note"])
    assert page.count(note) == 1  # how the ranges were made: said once
