"""Workbooks for people, printed and read back by LibreOffice (headless).

The real workbooks (a plan on the bundled example curves, its delta plan, the example
scenario run with four variants, and the demo's weekly plan, scenario and re-plan) are
converted with ``soffice`` to PDF (pages counted with ``pdfinfo``) and to CSV as shown
(every sheet, the cells as formatted), then checked: the pages printed, money shown in the
plan's currency whose lines add up exactly to the totals shown, headers in words, no
Python text in any cell, each printed page under the header of the table whose rows it
prints (``pdftotext -layout``, page by page); and with openpyxl: frozen header rows, print
set-up, formats.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from optimizer import allocate, load_curves, load_spec
from scenarios.delta import current_plan_from_dict, delta_plan
from scenarios.exports import write_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"

#: pages each workbook prints in (A4 landscape, fitted to the page's width), measured; each
#: long table on a sheet of its own (the flighting by month, each variant's flighting, the
#: money moved, the overrides, the curve points, a re-plan's lines) adds the pages of its sheet
PAGES = {
    "plan": 7,  # 7 sheets, one page each (before: 25)
    "delta": 7,  # before: 25
    "scenario": 15,  # the example run, four variants, 12 sheets (before: 57, then 11)
    "demo-plan": 20,  # 13 ISO weeks (before: 90, then 19)
    "demo-scenario": 80,  # three variants on weekly curves, 14 sheets (before: 1,156, then 66)
    "demo-replan": 33,  # the plan's sheets, Plan vs actual and by line (before: 29)
}
#: the CSV filter: UTF-8, cells as shown, every sheet to its own file (LibreOffice >= 7.2)
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
MONEY = re.compile(r"^(\()?(-?[\d,]+\.\d\d)\)? EUR$")
#: a page's footer: the sheet's name, the page's number and the number of pages
FOOTER = re.compile(r"^(\S.*): page \d+ of (\d+)$")


def _soffice(args: list[str], profile: Path) -> None:
    """Run LibreOffice headless with a private profile (parallel runs do not clash)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is needed: make test installs it (.ci/system-packages)"
    subprocess.run(
        [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", *args],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def books(tmp_path_factory, example_run) -> dict[str, Path]:
    """The workbooks by name, written by the real exports."""
    from scenarios.demo import run_demo

    d = tmp_path_factory.mktemp("books")
    curves, spec = load_curves(EXAMPLES / "curves.json"), load_spec(EXAMPLES / "plan.yaml")
    plan = allocate(curves, spec)
    out = {"plan": write_plan(plan, d / "plan.xlsx")}
    delta = delta_plan(curves, spec, current_plan_from_dict(plan.to_dict()), 5000)
    out["delta"] = write_plan(delta.to_dict(), d / "delta.xlsx")
    out["scenario"] = shutil.copy(example_run[1] / "workbook.xlsx", d / "scenario.xlsx")
    demo = run_demo(tmp_path_factory.mktemp("demo"))
    out["demo-plan"] = shutil.copy(demo.out_dir / "plan.xlsx", d / "demo-plan.xlsx")
    scenario = demo.out_dir / "scenario" / "workbook.xlsx"
    out["demo-scenario"] = shutil.copy(scenario, d / "demo-scenario.xlsx")
    replanned = json.loads((demo.out_dir / "replan.json").read_text())
    out["demo-replan"] = write_plan(replanned, d / "demo-replan.xlsx")
    return {k: Path(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def printed(books, tmp_path_factory) -> dict[str, Path]:
    """Each workbook printed to PDF by LibreOffice."""
    d = tmp_path_factory.mktemp("pdf")
    _soffice(["--convert-to", "pdf", "--outdir", str(d), *map(str, books.values())], d / "p")
    return {k: d / f"{p.stem}.pdf" for k, p in books.items()}


@pytest.fixture(scope="module")
def shown(books, tmp_path_factory) -> dict[str, dict[str, list[list[str]]]]:
    """Each workbook's sheets as LibreOffice shows them (CSV of the formatted cells)."""
    d = tmp_path_factory.mktemp("csv")
    _soffice(["--convert-to", CSV_FILTER, "--outdir", str(d), *map(str, books.values())], d / "p")
    out: dict[str, dict[str, list[list[str]]]] = {}
    for name, p in books.items():
        wb = openpyxl.load_workbook(p, read_only=True)
        out[name] = {
            ws: list(csv.reader((d / f"{p.stem}-{ws}.csv").open(encoding="utf-8")))
            for ws in wb.sheetnames
        }
    return out


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def test_each_workbook_prints_in_the_pages_measured(printed):
    assert {k: _pages(p) for k, p in printed.items()} == PAGES


def test_every_page_says_its_sheet_and_every_sheet_prints(printed, books):
    for name, pdf in printed.items():
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True)
        lines = (" ".join(ln.split()) for ln in text.stdout.decode().splitlines())
        footers = [m.groups() for ln in lines if (m := FOOTER.match(ln))]
        assert len(footers) == PAGES[name] and {n for _, n in footers} == {str(PAGES[name])}
        assert {s for s, _ in footers} == set(openpyxl.load_workbook(books[name]).sheetnames)


#: the long tables, each on a sheet of its own (its header frozen and repeated)
ALONE = (
    "PlanLines",
    "Flighting",
    "FlightingByMonth",
    "PlanRules",
    "ReplanLines",
    "Lines",
    "Flighting_q1_2027",
    "FlightingByMonth_q1_2027",
    "MoneyMoved",
    "Rules",
    "ForecastCPR",
    "Overrides",
    "CurvePoints",
)


def test_sheets_have_frozen_headers_and_print_setup(books):
    alone = set()
    for name, p in books.items():
        for ws in openpyxl.load_workbook(p):
            tops = [_top(t.ref) for t in ws.tables.values()]
            if len(tops) == 1:  # its one table's header: frozen, repeated where it prints
                alone |= set(ws.tables)
                assert ws.freeze_panes == f"A{tops[0] + 1}", (name, ws.title)
                printed = ws.title != "Curve points"
                want = f"${tops[0]}:${tops[0]}" if printed else None
                assert ws.print_title_rows == want, (name, ws.title)
            else:  # several tables: no header heads the others' rows
                assert (ws.freeze_panes, ws.print_title_rows) == (None, None), (name, ws.title)
            assert ws.print_area and ws.print_area.startswith(f"'{ws.title}'!$A$1:")
            ps = ws.page_setup
            assert (ps.orientation, ps.fitToWidth, ps.fitToHeight) == ("landscape", 1, 0)
            assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert alone >= set(ALONE)


def test_curve_points_stay_in_the_workbook_but_out_of_print(books):
    ws = openpyxl.load_workbook(books["demo-scenario"])["Curve points"]
    points = _top(ws.tables["CurvePoints"].ref)
    assert ws.print_area.endswith("$1") and points < ws.max_row - 10_000
    assert "not printed" in ws["A1"].value


def _tables_shown(ws, rows: list[list[str]]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Return each table's header and rows as printed words (the totals row under it too)."""
    out = {}
    for t in ws.tables.values():
        c0, r0, c1, r1 = range_boundaries(t.ref)
        grid = [r[c0 - 1 : c1] for r in rows[r0 - 1 : r1 + 1]]
        out[t.name] = (" ".join(grid[0]).split(), [" ".join(r).split() for r in grid[1:]])
    return out


def _alike(a: list[str], b: list[str]) -> int:
    """Return how many first words ``a`` and ``b`` share."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _page_faults(book: Path, pdf: Path, sheets: dict[str, list[list[str]]]) -> list[tuple]:
    """Return the pages whose heading is not the header of the table whose rows follow it.

    Page by page (``pdftotext -layout``): every line that is a table's header must be
    followed by a row of that table; a sheet that repeats a header prints it first on
    each of its pages after the first.
    """
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True)
    wb, faults, sheet_before = openpyxl.load_workbook(book), [], None
    for n, page in enumerate(text.stdout.decode().split("\f")[:-1], start=1):
        lines = [ln.split() for ln in page.splitlines() if ln.strip()]
        sheet = FOOTER.match(" ".join(lines[-1])).group(1)
        ws, tables = wb[sheet], _tables_shown(wb[sheet], sheets[sheet])
        heads = {t: h for t, (h, _) in tables.items()}
        if sheet == sheet_before and ws.print_title_rows and lines[0] not in heads.values():
            faults.append((n, sheet, "no header repeated", lines[0]))
        sheet_before = sheet
        for i, line in enumerate(lines[:-2]):
            mine = [t for t, h in heads.items() if h == line]
            fit = {
                t: max((_alike(lines[i + 1], r) for r in body), default=0)
                for t, (_, body) in tables.items()
            }
            best = max(fit, key=fit.__getitem__)  # the table the next line is a row of
            if mine and (fit[best] == 0 or max(fit[t] for t in mine) < fit[best]):
                faults.append((n, sheet, mine, " ".join(lines[i + 1])[:60], best))
    return faults


def test_each_printed_page_is_headed_by_the_header_of_its_rows(books, printed, shown):
    for name, pdf in printed.items():
        assert _page_faults(books[name], pdf, shown[name]) == [], name


def _top(ref: str) -> int:
    return int(re.sub(r"\D", "", ref.split(":")[0]))


def test_headers_are_words_and_cells_hold_no_python_text(books, shown):
    for name, p in books.items():
        for ws in openpyxl.load_workbook(p):
            for t in ws.tables.values():
                heads = [c.value for c in ws[t.ref][0]]
                assert not [h for h in heads if "_" in h], (name, t.name, heads)
        for sheet, rows in shown[name].items():
            for row in rows:
                for cell in row:
                    bad = ("None", "[", "]", "{", "->", "nan", "inf")
                    assert not any(b in cell for b in bad), (name, sheet, cell)
                    assert not re.search(r"\d\.\d{10,}", cell), (name, sheet, cell)


def test_numbers_are_written_rounded_with_formats(books):
    ws = openpyxl.load_workbook(books["scenario"])["Summary"]
    heads = [c.value for c in ws[1]]
    spend = ws.cell(row=2, column=heads.index("total spend") + 1)
    assert spend.number_format == '#,##0.00 "EUR"' and spend.value == round(spend.value, 2)
    assert ws.cell(row=2, column=heads.index("expected results") + 1).number_format == "#,##0.0"
    assert ws.cell(row=3, column=heads.index("chance of beating the base") + 1).number_format in (
        "0.0%",
        "General",  # empty: no ranges on the example curves
    )
    for p in books.values():
        for sheet in openpyxl.load_workbook(p):
            for row in sheet.iter_rows():
                for c in row:
                    if isinstance(c.value, float):
                        assert c.value == round(c.value, 9), (sheet.title, c.coordinate)


def _money(text: str) -> Decimal:
    m = MONEY.match(text)
    assert m, f"not money in EUR: {text!r}"
    value = Decimal(m.group(2).replace(",", ""))
    return -value if m.group(1) else value


def _flightings(rows: list[list[str]]) -> list[tuple[list[list[str]], list[str]]]:
    """Return each flighting table shown: its line rows and its Total row (its columns)."""
    out, lines, width = [], None, 0
    for row in rows:
        if row[:2] == ["network", "segment"]:
            lines, width = [], row.index("total") + 1
        elif lines is not None and row and row[0] == "Total":
            out.append(([r[:width] for r in lines], row[:width]))
            lines = None
        elif lines is not None:
            lines.append(row)
    return out


def test_flighting_lines_add_exactly_to_the_totals_shown(shown):
    for name in PAGES:
        sheets = [s for s in shown[name] if s.startswith(("Flighting", "By month"))]
        tables = [t for s in sheets for t in _flightings(shown[name][s])]
        assert tables and all(len(_flightings(shown[name][s])) == 1 for s in sheets), name
        for lines, total in tables:
            n = len(total)
            cells = [[_money(x) for x in r[2:n]] for r in lines]
            for r in cells:  # each line: its periods add to its total
                assert sum(r[:-1]) == r[-1]
            for j in range(n - 2):  # each period, and the grand total
                assert sum(r[j] for r in cells) == _money(total[2 + j])
    (weeks,) = _flightings(shown["demo-plan"]["Flighting"])
    (months,) = _flightings(shown["demo-plan"]["Flighting by month"])  # the same money
    assert _money(weeks[1][-1]) == _money(months[1][-1])


def test_lines_add_exactly_to_the_summary(shown):
    for name in ("plan", "delta", "demo-plan", "demo-replan"):
        (head, row, *_) = shown[name]["Summary"]
        total = _money(row[head.index("total spend")])
        lines = shown[name]["Lines"]
        col = lines[0].index("spend")
        assert sum(_money(r[col]) for r in lines[1:]) == total, name
        results = Decimal(row[head.index("expected results")].replace(",", ""))
        col = lines[0].index("expected results")
        assert sum(Decimal(r[col].replace(",", "")) for r in lines[1:]) == results, name
    for name in ("scenario", "demo-scenario"):
        head, *rows = shown[name]["Summary"]
        lines = shown[name]["Lines"]
        for row in rows:
            mine = [r for r in lines[1:] if r[0] == row[0]]
            spend = sum(_money(r[lines[0].index("spend")]) for r in mine)
            assert spend == _money(row[head.index("total spend")]), (name, row[0])


def test_rule_changes_are_said_in_words(shown):
    rows = shown["scenario"]["Comparison"]
    changes = {r[0]: r[rows[0].index("rule changes")] for r in rows[1:5]}
    assert changes["budget-minus-10"] == "budget: 60,000 → 54,000"
    assert "exclude.networks: none → linkedin" in changes["no-linkedin"]
    assert changes["tiktok-dearer"] == "overrides.cost_per_result.tiktok: none → 1.2"


def test_a_share_is_shown_as_a_percent(books, shown):
    ws = openpyxl.load_workbook(books["demo-plan"])["Ledger"]
    head, row = ws[ws.tables["PlanCurveEnds"].ref]
    share = row[[c.value for c in head].index("share of spend")]
    assert share.number_format == "0.0%" and 0 < share.value < 1
    rows = shown["demo-plan"]["Ledger"]
    at = next(i for i, r in enumerate(rows) if "share of spend" in r)
    assert re.fullmatch(r"\d+\.\d%", rows[at + 1][rows[at].index("share of spend")])


def test_text_is_shown_as_written_never_run(books, shown):
    overrides = shown["scenario"]["Overrides"]
    assert ["budget-minus-10", "budget", "", "-10%"] in overrides  # not '-10%
    for name in books:
        for sheet, rows in shown[name].items():
            assert not [c for r in rows for c in r if c.startswith("'")], (name, sheet)


def test_text_that_starts_with_equals_stays_text(tmp_path):
    from scenarios.exports.xlsx import plan_workbook

    line = {"network": "meta", "segment": "=1+2", "period": "2027-01", "spend": 100.0}
    line |= {"expected_results": 10.0, "cost_per_result": 10.0}
    plan = {"status": "optimal", "budget": 100.0, "total_spend": 100.0, "lines": [line]}
    plan |= {"expected_results": 10.0, "cost_per_result": 10.0, "constraints": []}
    plan_workbook(plan).save(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Lines"]
    cell = ws.cell(row=2, column=[c.value for c in ws[1]].index("segment") + 1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=1+2", "s", True)
    profile = tmp_path / "p"
    _soffice(
        ["--convert-to", CSV_FILTER, "--outdir", str(tmp_path), str(tmp_path / "t.xlsx")], profile
    )
    rows = list(csv.reader((tmp_path / "t-Lines.csv").open(encoding="utf-8")))
    assert rows[1][rows[0].index("segment")] == "=1+2"  # shown as written, not 3


def test_the_results_given_up_are_rounded_as_shown():
    from scenarios.exports.xlsx import plan_workbook

    line = {"network": "meta", "segment": "all", "period": "2027-01", "spend": 100.0}
    line |= {"expected_results": 10.0, "cost_per_result": 10.0}
    plan = {"status": "optimal", "budget": 100.0, "total_spend": 100.0, "lines": [line]}
    plan |= {"expected_results": 10.0, "cost_per_result": 10.0, "constraints": []}
    plan["risk"] = {"alpha": 0.1, "mean_results_given_up": 12.345678, "words": "w"}
    ws = plan_workbook(plan)["Ranges"]
    label = next(c for c in ws["A"] if c.value == "mean results given up")
    assert ws.cell(row=label.row, column=2).value == 12.3
