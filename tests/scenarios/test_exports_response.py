"""Carry-over, lift tests and reach in every export, written to real files and read back.

Plans are made on small hand-made curves: lines with the share of their results that lands
inside the plan (``inside``) and lift tests (``lift``), and reach curves whose results cannot
be added across periods (``additive: false``).
"""

from __future__ import annotations

import csv
import html
import json
import re
from decimal import Decimal

import openpyxl
import pytest

from optimizer import Curves, allocate
from scenarios.exports import CSV_COLUMNS, RESPONSE_COLUMNS, write_plan
from scenarios.exports.people import header_words, machine_name

LIFT = {"ratio": 0.5, "low": 0.3, "high": 0.7}
RESPONSE = ("results_inside", "results_attributed", "results_incremental")


def _curves(additive: bool = True, result_type: str = "purchases") -> Curves:
    """Four lines over two months; shares inside that make awkward decimals; c has no lift."""
    lines = [
        ("a", "s", "2027-01", 201.0, 1 / 3, LIFT),
        ("a", "t", "2027-02", 100.5, 1 / 3, LIFT),
        ("b", "s", "2027-01", 100.7, 2 / 3, {"ratio": 1.25, "low": 1.0, "high": 1.5}),
        ("c", "s", "2027-02", 100.3, None, None),
    ]
    out = []
    for net, seg, per, top, inside, lift in lines:
        ln: dict = {"network": net, "segment": seg, "period": per, "points": [[0, 0], [100, top]]}
        if inside is not None:
            ln["inside"] = inside
        if lift is not None:
            ln["lift"] = lift
        out.append(ln)
    return Curves.from_dict(
        {"currency": "EUR", "result_type": result_type, "additive": additive, "lines": out}
    )


@pytest.fixture(scope="module")
def plan():
    return allocate(_curves(), {"budget": 400})


@pytest.fixture(scope="module")
def reach():
    return allocate(_curves(additive=False, result_type="reach"), {"budget": 400})


def _table(wb, name: str) -> list[dict]:
    """The rows of the Excel Table ``name``, as dicts by header."""
    ws = next(ws for ws in wb if name in ws.tables)
    cells = [[c.value for c in row] for row in ws[ws.tables[name].ref]]
    keys = [machine_name(h) for h in cells[0]]  # headers in words, read by machine name too
    return [
        {**dict(zip(cells[0], r, strict=True)), **dict(zip(keys, r, strict=True))}
        for r in cells[1:]
    ]


def _html_table(page: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    """The headers and rows (cell texts) of the first table whose first header is given."""
    for t in re.findall(r"<table>(.*?)</table>", page):
        heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", t)]
        if heads and heads[0] == first_header:
            body = re.findall(r"<tr>(.*?)</tr>", t.split("<tbody>")[1])
            rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in body]
            return heads, rows
    raise AssertionError(f"no table headed {first_header!r}")


def _cents(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


# -- the plan itself (the exports read its JSON) ------------------------------------------


def test_the_plans_figures_by_hand(plan):
    # every line is funded in full (400 EUR for four lines of 100 EUR)
    d = plan.to_dict()
    assert d["total_spend"] == pytest.approx(400.0)
    inside = 201 / 3 + 100.5 / 3 + 100.7 * 2 / 3 + 100.3  # c has no share: wholly inside
    assert d["results_inside"] == pytest.approx(inside)
    assert d["results_after"] == pytest.approx(502.5 - inside)
    assert d["results_attributed"] == pytest.approx(502.5)
    assert "results_incremental" not in d  # c is funded and has no lift test: no total
    assert any("c/s/2027-02" in n for n in d["notes"])
    assert d["lines"][0]["results_incremental"] == pytest.approx(201 * 0.5)


# -- CSV -----------------------------------------------------------------------------------


def test_csv_adds_the_three_columns_at_the_end(plan, tmp_path):
    rows = list(csv.reader(write_plan(plan, tmp_path / "plan.csv").open(newline="")))
    head = rows[0]
    assert tuple(head) == (*CSV_COLUMNS, *RESPONSE_COLUMNS) and RESPONSE_COLUMNS == RESPONSE
    for r, ln in zip(rows[1:], plan.to_dict()["lines"], strict=True):
        got = dict(zip(head, r, strict=True))
        for k in RESPONSE:
            want = ln.get(k)
            assert got[k] == ("" if want is None else repr(want)), (ln["network"], k)
    c = next(dict(zip(head, r, strict=True)) for r in rows[1:] if r[0] == "c")
    assert c["results_incremental"] == ""  # no lift test on c
    assert float(c["results_inside"]) == float(c["expected_results"])
    # the columns add up to the plan's totals (exact numbers, no totals row)
    d = plan.to_dict()
    total = sum(float(dict(zip(head, r, strict=True))["results_inside"]) for r in rows[1:])
    assert total == pytest.approx(d["results_inside"], rel=1e-12)


def test_csv_of_curves_without_the_new_facts_keeps_its_nine_columns(tmp_path):
    plain = Curves.from_dict(
        {
            "lines": [
                {"network": "a", "segment": "s", "period": "2027-01", "points": [[0, 0], [1, 2]]}
            ]
        }
    )
    rows = list(csv.reader(write_plan(allocate(plain, {"budget": 1}), tmp_path / "p.csv").open()))
    assert tuple(rows[0]) == CSV_COLUMNS


# -- XLSX ----------------------------------------------------------------------------------


def test_xlsx_lines_and_summary_carry_the_new_figures(plan, tmp_path):
    wb = openpyxl.load_workbook(write_plan(plan, tmp_path / "plan.xlsx"))
    rows = _table(wb, "PlanLines")
    heads = [c.value for c in wb["Lines"][1]]  # the headers in words
    assert heads[-5:] == [*map(header_words, RESPONSE), "cause", "why no more"]
    for r, ln in zip(rows, plan.to_dict()["lines"], strict=True):
        for k in RESPONSE:  # shown to 0.1
            assert r[k] == (None if ln.get(k) is None else pytest.approx(ln[k], abs=0.1001))
    (s,) = _table(wb, "PlanSummary")
    d = plan.to_dict()
    for k in ("results_inside", "results_after", "results_attributed"):
        assert s[k] == pytest.approx(d[k], abs=0.0501)
    assert s["results_basis"] == "attributed"
    assert round(sum(r["results_inside"] for r in rows), 1) == s["results_inside"]  # exactly
    assert s["expected_results"] == pytest.approx(
        s["results_inside"] + s["results_after"], abs=0.11
    )


def test_xlsx_of_reach_has_no_total_but_each_periods(reach, tmp_path):
    wb = openpyxl.load_workbook(write_plan(reach, tmp_path / "reach.xlsx"))
    (s,) = _table(wb, "PlanSummary")
    assert s["expected_results"] is None and s["cost_per_result"] is None
    assert s["results_inside"] is None and s["results_p10"] is None
    periods = {r["period"]: r for r in _table(wb, "PlanByPeriod")}
    assert periods["2027-01"]["expected_results"] == pytest.approx(201.0 + 100.7)
    assert periods["2027-02"]["expected_results"] == pytest.approx(100.5 + 100.3)
    assert periods["2027-01"]["spend"] == pytest.approx(200.0)
    assert periods["2027-01"]["results_inside"] == pytest.approx(201 / 3 + 100.7 * 2 / 3, abs=0.05)
    notes = [c.value for c in wb["Summary"]["A"] if isinstance(c.value, str)]
    assert any("person-periods" in n for n in notes)
    ranges = {(r["kind"], r["name"]): r for r in _table(wb, "PlanRanges")}
    assert ranges[("total", "reach")]["expected"] is None
    assert ranges[("network", "a")]["expected"] is None  # a sum across periods
    assert ranges[("period", "2027-01")]["expected"] == pytest.approx(301.7)
    lines = _table(wb, "PlanLines")
    assert [r["expected_results"] for r in lines] == pytest.approx([201.0, 100.5, 100.7, 100.3])


# -- HTML ----------------------------------------------------------------------------------


def test_html_response_table_adds_up_to_its_shown_total(plan, tmp_path):
    page = write_plan(plan, tmp_path / "plan.html").read_text()
    assert "Results inside the plan and after it; attributed and incremental" in page
    heads, rows = _html_table(page, "network")
    assert heads[1:4] == ["expected results", "inside the plan", "after the plan"]
    assert "attributed" in heads
    body, total = rows[:-1], rows[-1]
    assert [r[0] for r in body] == ["a", "b", "c"] and total[0] == "total"
    for j, h in enumerate(heads[1:], start=1):
        if total[j] == "":  # unknown (a funded line without lift): no total shown
            continue
        assert sum(_cents(r[j]) for r in body) == _cents(total[j]), h
    i, r_, a_ = (heads.index(h) for h in ("inside the plan", "expected results", "after the plan"))
    for r in rows:  # shown inside + shown after = shown results, row by row
        assert _cents(r[i]) + _cents(r[a_]) == _cents(r[r_])
    # the shown total is the plan's results rounded
    assert _cents(total[r_]) == Decimal(f"{plan.expected_results:.2f}")
    assert _cents(total[i]) == Decimal(f"{plan.results_inside:.2f}")


def test_html_lines_table_shows_the_new_columns(plan, tmp_path):
    page = write_plan(plan, tmp_path / "plan.html").read_text()
    tables = re.findall(r"<table>(.*?)</table>", page)
    lines = next(t for t in tables if "why no more" in t)
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", lines)]
    assert heads[-4:] == [*RESPONSE, "why no more"]


def test_html_of_reach_shows_each_period_and_no_total(reach, tmp_path):
    page = write_plan(reach, tmp_path / "reach.html").read_text()
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "not additive" in text and "person-periods" in text
    assert "Results by period" in text
    heads, rows = _html_table(page, "period")
    assert [r[0] for r in rows] == ["2027-01", "2027-02"]  # no total row
    got = {r[0]: _cents(r[heads.index("expected results")]) for r in rows}
    assert got == {"2027-01": Decimal("301.70"), "2027-02": Decimal("200.80")}
    assert "502.50" not in page  # the sum across periods is shown nowhere
    # no table by network or segment of results (sums across periods)
    assert not any(
        re.search(r"<th>(network|segment)</th>.*expected results", t)
        for t in re.findall(r"<table>(.*?)</table>", page)
    )


def test_reach_plan_json_written_has_no_total(reach, tmp_path):
    d = json.loads(write_plan(reach, tmp_path / "reach.json").read_text())
    assert d["expected_results"] is None and d["results_additive"] is False
    assert d["by_period"]["2027-02"]["expected_results"] == pytest.approx(200.8)
