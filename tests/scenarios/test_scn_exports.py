"""Exports of one plan: CSV, JSON, XLSX, HTML and the frontier chart."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.errors import ExportError, ScenarioError
from scenarios.exports import (
    neutralise_cell,
    plan_csv_text,
    plan_xlsx_bytes,
    write_frontier_chart,
    write_plan,
)


@pytest.fixture()
def plan(fixtures_dir):
    return json.loads((fixtures_dir / "scenarios" / "plan_small.json").read_text())


# a Plan JSON without ranges: its results_p10 / results_p90 cells are empty
GOLDEN_CSV = """\
network,segment,period,spend,expected_results,results_p10,results_p90,cost_per_result,\
marginal_cost_per_result
meta,f-25-34,2027-W01,3000.0,150.0,,,20.0,25.0
meta,f-25-34,2027-W02,2500.0,125.0,,,20.0,25.0
tiktok,"'=HYPERLINK(""http://x"")",2027-W01,2000.0,100.0,,,20.0,25.0
tiktok,'@retargeting,2027-W02,2500.0,75.0,,,33.333333333333336,40.0
linkedin,b2b-it,2027-W02,0.0,0.0,,,,
"""


def test_csv_matches_golden_and_has_no_totals_row(plan):
    text = plan_csv_text(plan)
    assert text == GOLDEN_CSV.replace("\n", "\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(plan["lines"])
    assert sum(float(r["spend"]) for r in rows) == plan["total_spend"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+33", "'+33"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        (" =1+2", "' =1+2"),
        ("\n=cmd", "'\n=cmd"),
        ("  \n @SUM(A1)", "'  \n @SUM(A1)"),
        ("\u00a0-2", "'\u00a0-2"),
        ("a=b", "a=b"),
        ("   ", "   "),
        ("meta", "meta"),
        ("", ""),
        (-5.0, -5.0),
        (None, None),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


def test_plan_object_with_to_dict_is_accepted(plan, tmp_path):
    class P:
        def to_dict(self):
            return plan

    assert plan_csv_text(P()) == plan_csv_text(plan)
    out = write_plan(P(), tmp_path / "p.json")
    assert json.loads(out.read_text())["total_spend"] == plan["total_spend"]


def test_json_never_writes_infinity(plan, tmp_path):
    plan["lines"][0]["marginal_cost_per_result"] = float("inf")
    p = write_plan(plan, tmp_path / "sub" / "plan.json")
    back = json.loads(p.read_text())  # strict JSON parses
    assert back["lines"][0]["marginal_cost_per_result"] is None
    assert "Infinity" not in p.read_text()


def test_xlsx_tables_values_and_neutralised_text(plan):
    wb = openpyxl.load_workbook(io.BytesIO(plan_xlsx_bytes(plan)))
    assert set(wb.sheetnames) >= {"Summary", "Lines", "Flighting", "Rules"}
    tables = {name for ws in wb for name in ws.tables}
    assert {"PlanSummary", "PlanLines", "Flighting", "PlanRules"} <= tables
    ws = wb["Lines"]
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert sum(r[3] for r in values) == pytest.approx(plan["total_spend"])
    segments = {r[1] for r in values}
    # text as written (a text cell; "=..." with Excel's quote prefix, never a formula)
    assert '=HYPERLINK("http://x")' in segments and "@retargeting" in segments
    link = next(r[1] for r in ws.iter_rows(min_row=2) if str(r[1].value).startswith("="))
    assert (link.data_type, link.quotePrefix) == ("s", True)
    for ws in wb:  # no cell is a formula
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    fl = wb["Flighting"]
    rows = [[c.value for c in r] for r in fl.iter_rows()]
    total_row = next(r for r in rows if r[0] == "Total")
    assert total_row[-1] == pytest.approx(plan["total_spend"])
    assert total_row[2] == pytest.approx(5000.0)  # 2027-W01 column


def test_write_plan_all_suffixes(plan, tmp_path):
    for suffix in (".json", ".csv", ".xlsx", ".html"):
        p = write_plan(plan, tmp_path / f"plan{suffix}")
        assert p.stat().st_size > 100
    page = (tmp_path / "plan.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    # the segment cells, escaped (HTML is not a spreadsheet: no quote prefix there)
    assert "<td>=HYPERLINK(&quot;http://x&quot;)</td>" in page
    assert "<td>@retargeting</td>" in page
    assert "<script" not in page


def test_unknown_suffix_is_a_clear_error(plan, tmp_path):
    with pytest.raises(ExportError, match=r"\.txt.*\.json, \.csv, \.xlsx, \.html"):
        write_plan(plan, tmp_path / "plan.txt")
    assert issubclass(ExportError, ScenarioError)
    with pytest.raises(ExportError, match="expected a Plan"):
        plan_csv_text(42)


def test_frontier_chart_is_a_png(tmp_path):
    pts = [
        {"budget": b, "expected_results": b**0.5, "marginal_cost_per_result": 2 * b**0.5}
        for b in (1000, 2000, 4000, 8000)
    ]
    p = tmp_path / "frontier.png"
    write_frontier_chart(pts, p)
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ExportError, match="PNG"):
        write_frontier_chart(pts, tmp_path / "frontier.jpg")
    with pytest.raises(ExportError, match="no points"):
        write_frontier_chart([], tmp_path / "empty.png")


@settings(max_examples=60, deadline=None)
@given(
    segments=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5),
    spends=st.lists(st.floats(0, 1e7, allow_nan=False), min_size=5, max_size=5),
)
def test_csv_round_trips_and_never_starts_a_formula(segments, spends):
    lines = [
        {
            "network": "meta",
            "segment": seg,
            "period": "2027-01",
            "spend": sp,
            "expected_results": sp / 20,
        }
        for seg, sp in zip(segments, spends, strict=False)
    ]
    text = plan_csv_text({"lines": lines})
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(lines)
    for row, ln in zip(rows, lines, strict=True):
        assert not row["segment"].startswith(("\t", "\r"))
        assert not row["segment"].lstrip().startswith(("=", "+", "-", "@"))
        assert row["segment"] in (ln["segment"], "'" + ln["segment"])
        assert float(row["spend"]) == ln["spend"]  # exact: round only for display
