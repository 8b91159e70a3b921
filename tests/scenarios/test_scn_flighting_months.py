"""Weekly flighting rolled up into calendar months for finance."""

from __future__ import annotations

import io

import openpyxl
import pytest

from scenarios.exports import plan_xlsx_bytes
from scenarios.exports.plan import weekly_to_monthly


def test_a_week_straddling_two_months_is_split_by_its_days():
    # 2027-W13 runs Monday 29 March to Sunday 4 April: 3 days in March, 4 in April
    rows = [
        {
            "network": "meta",
            "segment": "all",
            "period": "2027-W13",
            "spend": 700.0,
            "expected_results": 70.0,
        },
        {
            "network": "meta",
            "segment": "all",
            "period": "2027-W12",
            "spend": 100.0,
            "expected_results": 5.0,
        },
    ]
    months = {r["period"]: r for r in weekly_to_monthly(rows)}
    assert set(months) == {"2027-03", "2027-04"}
    assert months["2027-03"]["spend"] == pytest.approx(100.0 + 300.0)
    assert months["2027-04"]["spend"] == pytest.approx(400.0)
    assert months["2027-04"]["expected_results"] == pytest.approx(40.0)
    assert sum(m["spend"] for m in months.values()) == pytest.approx(800.0)


def test_monthly_periods_are_left_alone():
    assert (
        weekly_to_monthly([{"network": "x", "segment": "s", "period": "2027-01", "spend": 1.0}])
        is None
    )


def test_plan_workbook_has_a_month_table_that_adds_up_to_the_plan():
    lines = [
        {
            "network": n,
            "segment": "all",
            "period": f"2027-W{w:02d}",
            "spend": 1000.0 + 10 * w,
            "expected_results": 50.0,
        }
        for n in ("meta", "tiktok")
        for w in range(1, 14)
    ]
    total = sum(ln["spend"] for ln in lines)
    plan = {
        "status": "optimal",
        "budget": total,
        "total_spend": total,
        "expected_results": 50.0 * len(lines),
        "cost_per_result": total / (50.0 * len(lines)),
        "lines": lines,
        "constraints": [],
    }
    wb = openpyxl.load_workbook(io.BytesIO(plan_xlsx_bytes(plan)))
    ws = wb["Flighting by month"]  # its own sheet, its header repeated on each page
    assert "FlightingByMonth" in ws.tables
    ref = ws.tables["FlightingByMonth"].ref
    cells = ws[ref]
    header = [c.value for c in cells[0]]
    assert header[:2] == ["network", "segment"] and header[-1] == "total"
    assert header[2:-1] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert sum(row[-1].value for row in cells[1:]) == pytest.approx(total)
