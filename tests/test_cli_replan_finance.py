"""``adplan replan`` for finance, run as users run it: the real executable in a subprocess.

A re-plan of a 20,000 budget where 174.50 went to a line no curve has (snapchat): every
output shows the budget as set (20,000, not the 19,825.50 optimised) with the off-plan
spend on its own line, and January valued at its actual purchases (53, where the curves
forecast about 253 at that spend).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ADPLAN = Path(sys.executable).with_name("adplan")
EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"

ACTUALS = """\
date,network,segment,result_type,spend,results
2027-01-05,meta,f-25-34,purchases,3000,41
2027-01-12,tiktok,m-25-34,purchases,2500,12
2027-01-08,snapchat,f-25-34,purchases,174.5,3
2027-02-03,google,retargeting,purchases,1500,20
"""


def adplan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    env["COLUMNS"] = "200"
    p = subprocess.run(
        [str(ADPLAN), *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd,
        check=False,
    )  # fmt: skip
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("replan")
    (d / "spec.yaml").write_text("budget: 20000\nnetworks:\n  meta: {min_share: 0.25}\n")
    (d / "actuals.csv").write_text(ACTUALS)
    return d


def replan(folder: Path, out: str) -> subprocess.CompletedProcess:
    return adplan(
        "replan", "--spec", "spec.yaml", "--curves", str(EXAMPLES / "curves.json"),
        "--actuals", "actuals.csv", "--as-of", "2027-02-15", "--out", out, cwd=folder,
    )  # fmt: skip


def test_the_csv_shows_plan_actual_and_variance_with_the_off_plan_line(folder):
    p = replan(folder, "replan.csv")
    raw = (folder / "replan.csv").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # RFC 4180 line ends
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert list(rows[0]) == [
        "network", "segment", "period", "status", "planned_spend", "actual_spend",
        "replanned_spend", "spend_variance", "planned_results", "actual_results",
        "replanned_results", "results_variance",
    ]  # fmt: skip
    off = [r for r in rows if r["status"] == "off-plan"]
    assert [(r["network"], r["actual_spend"], r["planned_spend"]) for r in off] == [
        ("snapchat", "174.5", "0.0")
    ]
    money = math.fsum(float(r["replanned_spend"]) for r in rows)
    assert money == pytest.approx(20000.0)  # the budget as set, not 19,825.50
    jan = [r for r in rows if r["period"] == "2027-01" and r["status"] == "elapsed"]
    assert math.fsum(float(r["replanned_results"]) for r in jan) == pytest.approx(53.0)
    assert math.fsum(float(r["actual_results"]) for r in jan) == pytest.approx(53.0)
    meta = next(r for r in jan if r["network"] == "meta" and r["segment"] == "f-25-34")
    variance = float(meta["replanned_spend"]) - float(meta["planned_spend"])
    assert float(meta["spend_variance"]) == pytest.approx(variance)
    # the table and totals printed: the budget as set and the off-plan spend on its own line
    text = " ".join(p.stdout.replace("│", " ").split())
    assert "budget as set 20,000.00" in text
    assert "of which off-plan 174.50 3.00" in text
    assert "snapchat/f-25-34 (off-plan)" in text
    assert "re-plan (plan lines) 19,825.50" in text and "re-plan + off-plan 20,000.00" in text


def test_the_json_holds_actual_results_and_the_budget_as_set(folder):
    replan(folder, "replan.json")
    d = json.loads((folder / "replan.json").read_text())
    assert d["replan"]["budget_as_set"] == 20000
    assert d["replan"]["off_plan"][0]["network"] == "snapchat"
    assert d["by_period"]["2027-01"]["expected_results"] == 53.0
    forecast = math.fsum(ln.get("forecast_results", 0.0) for ln in d["lines"])
    assert forecast > 200  # the curves' forecast at the spend made: not what happened


def test_the_xlsx_has_the_plan_vs_actual_tables(folder):
    from openpyxl import load_workbook

    replan(folder, "replan.xlsx")
    wb = load_workbook(folder / "replan.xlsx")
    ws = wb["Plan vs actual"]
    assert set(ws.tables) == {"ReplanBudget", "ReplanPeriods"}
    assert set(wb["Plan vs actual by line"].tables) == {"ReplanLines"}
    top = int(ws.tables["ReplanBudget"].ref.split(":")[0][1:])
    assert ws.cell(row=top + 1, column=2).value == 20000
    assert ws.cell(row=top + 3, column=2).value == 174.5
    # the items under the budget as set add up to it, in cents as shown
    items = [ws.cell(row=top + i, column=2).value for i in range(2, 6)]
    assert round(sum(items), 2) == 20000
    # the Summary sheet: the budget as set and the off-plan spend beside it
    summary = wb["Summary"]
    head = [c.value for c in summary[1]]
    values = dict(zip(head, (c.value for c in summary[2]), strict=False))
    assert values["budget"] == 20000 and values["off-plan spend"] == 174.5
    assert values["total spend"] == pytest.approx(19825.5)


def test_the_html_summary_shows_the_budget_as_set(folder):
    replan(folder, "replan.html")
    text = " ".join((folder / "replan.html").read_text().split())
    assert "<th>off-plan spend</th>" in text
    assert (
        '<td class="n">20,000.00</td><td class="n">174.50</td><td class="n">19,825.50</td>' in text
    )
