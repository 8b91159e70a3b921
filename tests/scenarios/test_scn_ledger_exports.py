"""The ledger (what each rule really costs) in the XLSX and the HTML, read back as users do.

The workbook is read back with openpyxl from the file written; the report is opened in
headless Chromium (as ``test_scn_report.py`` does) and its DOM read back.
"""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser

import openpyxl
import pytest

from optimizer import Curves, PlanSpec, allocate
from scenarios.exports import write_plan
from scenarios.exports.people import machine_name

from .test_scn_report import _chromium

A = [[0, 0], [100, 200], [200, 300]]  # 2 purchases per EUR, then 1
B = [[0, 0], [100, 50]]  # 0.5 per EUR: only its floor buys it
C = [[0, 0], [60, 180]]  # 3 per EUR, but capped at 50 by a rule


def _curves(b_name: str = "b") -> Curves:
    return Curves.from_dict(
        {
            "currency": "EUR",
            "result_type": "purchases",
            "lines": [
                {"network": "a", "segment": "s", "period": "2027-01", "points": A},
                {"network": b_name, "segment": "s", "period": "2027-01", "points": B},
                {"network": "c", "segment": "s", "period": "2027-01", "points": C},
            ],
        }
    )


def _spec(budget: float = 250, b_name: str = "b", **extra) -> PlanSpec:
    nets: dict = {b_name: {"min": 50}, "c": {"max": 50}}
    return PlanSpec.from_dict({"budget": budget, "networks": nets, **extra})


def _results(spec: dict) -> float:
    return allocate(_curves(), PlanSpec.from_dict(spec)).expected_results


@pytest.fixture(scope="module")
def plan():
    return allocate(_curves(), _spec())


def _table(wb, name: str) -> list[dict]:
    """The rows of the Excel Table ``name``, as dicts by header."""
    ws = next(ws for ws in wb if name in ws.tables)
    cells = [[c.value for c in row] for row in ws[ws.tables[name].ref]]
    keys = [machine_name(h) for h in cells[0]]  # headers in words, read by machine name too
    return [
        {**dict(zip(cells[0], r, strict=True)), **dict(zip(keys, r, strict=True))}
        for r in cells[1:]
    ]


def _workbook(plan, tmp_path):
    return openpyxl.load_workbook(write_plan(plan, tmp_path / "plan.xlsx"))


def test_the_gains_are_what_exact_re_solves_say(plan):
    # A 150, B 50 (its floor), C 50 (its cap): 250 + 25 + 150 = 425 purchases
    assert plan.expected_results == pytest.approx(425.0)
    no_budget = {"budget": 1e6, "networks": {"b": {"min": 50}, "c": {"max": 50}}}
    no_floor = {"budget": 250, "networks": {"c": {"max": 50}}}
    no_cap = {"budget": 250, "networks": {"b": {"min": 50}}}
    gains = {e["rule"]: e["gain_if_removed"] for e in plan.to_dict()["ledger"]}
    assert gains["budget"] == pytest.approx(_results(no_budget) - 425.0)  # 75
    assert gains["network_min__b"] == pytest.approx(_results(no_floor) - 425.0)  # 25
    assert gains["network_max__c"] == pytest.approx(_results(no_cap) - 425.0)  # 20


def test_ledger_sheet_follows_summary_in_ledger_order(plan, tmp_path):
    wb = _workbook(plan, tmp_path)
    assert wb.sheetnames[:3] == ["Summary", "Ledger", "Lines"]
    rows = _table(wb, "PlanLedger")
    ledger = plan.to_dict()["ledger"]
    # sorted by what removing the rule gains, not by the shadow price (c's cap: 2 per EUR)
    assert [r["id"] for r in rows] == ["budget", "network_min__b", "network_max__c"]
    assert [r["id"] for r in rows] == [e["rule"] for e in ledger]
    for r, e in zip(rows, ledger, strict=True):
        assert r["rule"] == e["words"] and "network_" not in r["rule"]  # words, id beside
        assert r["purchases gained if removed"] == e["gain_if_removed"]  # exact, not rounded
        assert r["proven"] is True
        assert r["shadow price"] == e["shadow_price"]
        assert r["purchases per 1,000 EUR"] == e["per_1000"]
        assert r["next result costs (EUR)"] == e["next_result_cost"]
    assert [r["purchases gained if removed"] for r in rows] == pytest.approx([75, 25, 20])
    assert rows[0]["purchases per 1,000 EUR"] == pytest.approx(1000.0)
    assert rows[0]["next result costs (EUR)"] == pytest.approx(1.0)
    ws = wb["Ledger"]
    assert ws["C2"].number_format == "#,##0.0" and ws["E2"].number_format == "0.000000"
    notes = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert any(n.startswith("a shadow price is the rate at the margin") for n in notes)


def test_lines_sheet_says_why_no_more(plan, tmp_path):
    wb = _workbook(plan, tmp_path)
    rows = _table(wb, "PlanLines")
    assert [c.value for c in wb["Lines"][1]][-2:] == ["cause", "why no more"]
    for r, ln in zip(rows, plan.to_dict()["lines"], strict=True):  # spend shown in cents
        assert (r["network"], r["spend"]) == (ln["network"], pytest.approx(ln["spend"], abs=0.01))
        assert r["cause"] == ln["limited_by"]["cause"]
        assert r["why no more"] == ln["limited_by"]["words"]
    c = next(r for r in rows if r["network"] == "c")
    assert c["cause"] == "rule" and "network_max__c" in c["why no more"]
    rules = _table(wb, "PlanRules")
    assert [c.value for c in wb["Rules"][1]][:2] == ["name", "rule in words"]
    cap = next(r for r in rules if r["name"] == "network_max__c")
    assert cap["words"] == next(
        e["words"] for e in plan.to_dict()["ledger"] if e["rule"] == cap["name"]
    )


def test_summary_says_what_is_unspent_and_the_ends_of_curves(tmp_path):
    # 1,000 EUR is more than the curves can take (A 200 + B 100 + C 50 at its cap)
    plan = allocate(_curves(), _spec(budget=1000))
    d = plan.to_dict()
    assert d["unspent"]["amount"] == pytest.approx(650.0)
    wb = _workbook(plan, tmp_path)
    (summary,) = _table(wb, "PlanSummary")
    assert summary["unspent"] == d["unspent"]["amount"]
    stopped = summary["unspent_stopped_by"]
    for g in d["unspent"]["stopped_by"]:
        assert g["words"] in stopped
    assert "end of their curves" in stopped
    (ends,) = _table(wb, "PlanCurveEnds")
    at_end = [ln for ln in d["lines"] if ln["limited_by"]["cause"] == "curve_end"]
    assert ends["lines at the end of their curves"] == len(at_end) == 2  # a and b
    assert ends["spend"] == pytest.approx(300.0)
    assert ends["share of spend"] == pytest.approx(300.0 / 350.0, abs=5e-5)  # shown 85.7%
    assert ends["on line"] == "a/s/2027-01"  # one more EUR there brings 1 purchase, b 0.5
    assert ends["most purchases per 1,000 EUR if the curve went on"] == pytest.approx(1000.0)
    assert "expected_profit" not in summary


def test_profit_plans_show_profit(tmp_path):
    plan = allocate(_curves(), _spec(objective="profit", value_per_result=3))
    d = plan.to_dict()
    wb = _workbook(plan, tmp_path)
    (summary,) = _table(wb, "PlanSummary")
    assert summary["expected_profit"] == round(d["expected_profit"], 2)
    assert summary["objective"] == "profit"
    rows = _table(wb, "PlanLedger")
    assert [r["profit gained if removed (EUR)"] for r in rows] == [
        round(e["gain_if_removed"], 2) for e in d["ledger"]
    ]
    assert wb["Ledger"]["C2"].number_format == '#,##0.00 "EUR"'


class _Cells(HTMLParser):
    """Collect the text of each table's cells and every element's tag from a DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _dom(path) -> _Cells:
    """Open ``path`` in headless Chromium and parse the DOM it built."""
    out = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    cells = _Cells()
    cells.feed(out.stdout)
    return cells


def test_html_ledger_in_order_and_escaped(tmp_path):
    bad = "<b>x</b>"
    plan = allocate(_curves(bad), _spec(b_name=bad))
    ledger = plan.to_dict()["ledger"]
    path = write_plan(plan, tmp_path / "plan.html")
    page = path.read_text()
    assert "<b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.index("What each rule costs") < page.index("<h3>Rules</h3>")
    assert '<p class="note">a shadow price is the rate at the margin' in page
    dom = _dom(path)
    assert "b" not in dom.tags  # the network name stayed text in the browser
    head = "rule", "id", "purchases gained if removed", "proven"
    ledger_t = next(t for t in dom.tables if tuple(t[0][:4]) == head)
    assert [r[1] for r in ledger_t[1:]] == [e["rule"] for e in ledger]
    assert [r[1] for r in ledger_t[1:]] == ["budget", f"network_min__{bad}", "network_max__c"]
    assert [r[0] for r in ledger_t[1:]] == [e["words"] for e in ledger]
    assert [r[2] for r in ledger_t[1:]] == ["75.00", "25.00", "20.00"]
    assert ledger_t[1][4:] == ["1,000.00", "1.00"]  # per 1,000 EUR; the next result costs
    lines_t = next(t for t in dom.tables if t[0][-1] == "why no more")
    words = [ln["limited_by"]["words"] for ln in plan.to_dict()["lines"]]
    assert [r[-1] for r in lines_t[1:]] == words


def test_html_unspent_and_curve_ends(tmp_path):
    plan = allocate(_curves(), _spec(budget=1000))
    page = write_plan(plan, tmp_path / "plan.html").read_text()
    text = "".join(_dom(tmp_path / "plan.html").text)
    assert "Unspent: 650.00 EUR of the 1,000.00 EUR budget is left unspent" in text
    assert "the end of their curves (the forecast's caps) (2 lines)" in text
    assert "2 lines holding 86% of spend are at the end of their curves" in text
    assert "<strong>Unspent:</strong>" in page
