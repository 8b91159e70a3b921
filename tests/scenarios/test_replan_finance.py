"""A re-plan for finance: elapsed periods at actual results, the budget as set, off-plan spend.

The actual results differ from the forecast at the spend made (41 purchases where the curve
says about 138), so a re-plan that kept the forecast for elapsed periods fails these tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import pytest
from openpyxl import Workbook, load_workbook

from optimizer import CurveLine, Curves, PlanSpec, load_curves
from optimizer.synthetic import synthetic_curves
from scenarios.exports.replan import (
    REPLAN_COLUMNS,
    is_replan,
    replan_budget,
    replan_csv_text,
    replan_lines,
    replan_periods,
    write_replan_sheets,
)
from scenarios.exports.tabular import plan_csv_text
from scenarios.replan import replan

AS_OF = dt.date(2027, 2, 15)  # January elapsed, February running, March open
SPEC = {"budget": 20000, "networks": {"meta": {"min_share": 0.25}}}


def row(day, net, seg, spend, results=None, rtype="purchases"):
    r = {"date": day, "network": net, "segment": seg, "result_type": rtype, "spend": spend}
    if results is not None:
        r["results"] = results
    return r


ACTUALS = [
    row("2027-01-05", "meta", "f-25-34", 3000.0, 41.0),
    row("2027-01-12", "tiktok", "m-25-34", 2500.0, 12.0),
    row("2027-01-08", "snapchat", "f-25-34", 174.5, 3.0),  # no curve: off-plan
    row("2027-02-03", "google", "retargeting", 1500.0, 20.0),  # the current month
]


@pytest.fixture(scope="module")
def res(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    return replan(curves, PlanSpec.from_dict(SPEC), ACTUALS, AS_OF)


def key(d):
    return (d["network"], d["segment"], d["period"])


def test_elapsed_lines_carry_actual_results_and_keep_the_forecast_beside(res):
    d = res.to_dict()
    lines = {key(ln): ln for ln in d["lines"]}
    meta = lines[("meta", "f-25-34", "2027-01")]
    assert meta["expected_results"] == 41.0 and meta["cost_per_result"] == 3000.0 / 41.0
    assert meta["forecast_results"] == pytest.approx(137.81, abs=0.01)  # the curve at 3,000
    assert lines[("tiktok", "m-25-34", "2027-01")]["expected_results"] == 12.0
    # the current month stays forecast: its lines have no forecast_results beside
    assert "forecast_results" not in lines[("google", "retargeting", "2027-02")]
    assert d["by_period"]["2027-01"]["expected_results"] == 53.0
    assert d["expected_results"] == pytest.approx(
        math.fsum(ln["expected_results"] for ln in d["lines"])
    )
    assert d["cost_per_result"] == pytest.approx(d["total_spend"] / d["expected_results"])
    assert any("valued at their actual results" in n and "53.00" in n for n in d["notes"])


def test_the_replan_section_keeps_its_keys_and_adds_the_finance_ones(res):
    r = res.to_dict()["replan"]
    assert set(r) == {
        "as_of", "budget_as_set", "actual_spend", "off_plan_spend", "original_expected_results",
        "original_total_spend", "warnings", "rows", "off_plan",
    }  # fmt: skip
    assert r["budget_as_set"] == 20000 and r["off_plan_spend"] == 174.5
    assert res.plan.budget == pytest.approx(19825.5)  # what was optimised
    (item,) = r["off_plan"]
    assert key(item) == ("snapchat", "f-25-34", "2027-01") and item["spend"] == 174.5
    assert "no curve" in item["why"] and item["actual_results"] == 3.0
    rows = {key(x): x for x in r["rows"]}
    meta = rows[("meta", "f-25-34", "2027-01")]
    assert meta["actual_results"] == 41.0 and meta["replanned_results"] == 41.0
    assert meta["results_over_under_plan"] == pytest.approx(41.0 - meta["planned_results"])
    assert rows[("google", "retargeting", "2027-02")]["actual_results"] == 20.0
    assert rows[("meta", "f-25-34", "2027-03")]["actual_results"] is None  # open


def test_lines_add_up_to_the_money_spent_and_the_budget_as_set(res):
    d = res.to_dict()
    lines = replan_lines(d)
    assert all(set(x) == set(REPLAN_COLUMNS) for x in lines)
    off = [x for x in lines if x["status"] == "off-plan"]
    assert [key(x) for x in off] == [("snapchat", "f-25-34", "2027-01")]
    assert off[0]["planned_spend"] == 0.0 and off[0]["actual_spend"] == 174.5
    actual = math.fsum(x["actual_spend"] or 0.0 for x in lines)
    assert actual == pytest.approx(3000 + 2500 + 174.5 + 1500)
    assert math.fsum(x["replanned_spend"] for x in lines) == pytest.approx(20000.0)
    assert math.fsum(x["actual_results"] or 0.0 for x in lines) == pytest.approx(41 + 12 + 3 + 20)
    periods = {p["period"]: p for p in replan_periods(d)}
    assert periods["2027-01"]["actual_spend"] == pytest.approx(5674.5)
    # January's re-planned spend holds the off-plan 174.50, so its results hold the 3 it
    # brought: 53 on the plan's lines + 3 off-plan
    assert periods["2027-01"]["replanned_results"] == pytest.approx(56.0)
    assert periods["2027-01"]["actual_results"] == pytest.approx(56.0)
    assert periods["2027-03"]["actual_spend"] is None and periods["2027-03"]["status"] == "open"
    budget = replan_budget(d)
    assert [b["item"] for b in budget] == [
        "budget as set", "actual spend on plan lines", "off-plan spend",
        "re-planned spend still to come", "left unspent",
    ]  # fmt: skip
    amounts = [b["amount"] for b in budget]
    assert amounts[0] == 20000 and amounts[1] == pytest.approx(7000) and amounts[2] == 174.5
    assert math.fsum(amounts[1:]) == pytest.approx(amounts[0], abs=1e-9)


def test_the_csv_of_a_replan_is_its_lines_exact(res):
    d = res.to_dict()
    assert is_replan(d) and not is_replan(res.plan)
    text = plan_csv_text(d)
    assert text == replan_csv_text(d) and text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == REPLAN_COLUMNS
    meta = next(r for r in rows if key(r) == ("meta", "f-25-34", "2027-01"))
    assert (meta["actual_spend"], meta["actual_results"], meta["replanned_results"]) == (
        "3000.0", "41.0", "41.0",
    )  # fmt: skip
    # off-plan: its spend and the results it brought, re-planned as spent
    assert rows[-1]["status"] == "off-plan" and rows[-1]["replanned_results"] == "3.0"
    assert next(r for r in rows if r["status"] == "open")["actual_spend"] == ""


def test_write_replan_sheets_adds_three_named_tables(res, tmp_path):
    wb = Workbook()
    write_replan_sheets(wb, res.to_dict())
    wb.save(tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    ws = wb["Plan vs actual"]
    refs = dict(ws.tables.items())
    assert list(refs) == ["ReplanBudget", "ReplanPeriods"]
    refs |= dict(wb["Plan vs actual by line"].tables.items())  # the long table: its own sheet
    top = int(refs["ReplanBudget"].split(":")[0][1:])
    assert ws.cell(row=top + 1, column=2).value == 20000
    assert ws.cell(row=top + 3, column=2).value == 174.5  # off-plan spend, its own line
    last = int(refs["ReplanLines"].split(":")[1][1:])
    ws = wb["Plan vs actual by line"]
    assert ws.cell(row=last, column=1).value == "snapchat"
    assert ws.cell(row=last, column=4).value == "off-plan"
    assert refs["ReplanLines"].startswith("A") and refs["ReplanLines"].split(":")[1][0] == "L"


def test_spend_above_a_curve_splits_results_pro_rata(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    ln = next(x for x in curves.lines if x.period == "2027-01" and x.network == "meta")
    over = ln.max_spend + 5000.0
    acts = [row("2027-01-05", ln.network, ln.segment, over, 100.0)]
    d = replan(curves, PlanSpec.from_dict({"budget": 60000}), acts, AS_OF).to_dict()
    plan_line = next(x for x in d["lines"] if key(x) == ln.key)
    assert plan_line["spend"] == pytest.approx(ln.max_spend)
    assert plan_line["expected_results"] == pytest.approx(100.0 * ln.max_spend / over)
    rows = [x for x in replan_lines(d) if key(x) == ln.key]
    assert [x["status"] for x in rows] == ["elapsed", "off-plan"]
    assert rows[0]["actual_spend"] == pytest.approx(ln.max_spend)
    assert rows[1]["actual_spend"] == pytest.approx(5000.0)
    assert rows[0]["actual_results"] + rows[1]["actual_results"] == pytest.approx(100.0)


def test_actuals_without_results_keep_the_forecast_and_say_so(examples_dir):
    curves = load_curves(examples_dir / "curves.json")
    acts = [{k: v for k, v in r.items() if k != "results"} for r in ACTUALS]
    res = replan(curves, PlanSpec.from_dict(SPEC), acts, AS_OF)
    d = res.to_dict()
    assert not any("forecast_results" in ln for ln in d["lines"])
    assert any("valued at the forecast" in w for w in res.warnings)
    assert all(r["actual_results"] is None for r in d["replan"]["rows"])
    meta = next(x for x in d["lines"] if key(x) == ("meta", "f-25-34", "2027-01"))
    assert meta["expected_results"] == pytest.approx(137.81, abs=0.01)


def test_ranges_hold_the_elapsed_periods_at_their_actual_results():
    curves = synthetic_curves(3, 2, 8, 4, seed=3, spread=True)
    spec = PlanSpec.from_dict({"budget": 60000})
    from scenarios.runs import optimise

    plan = optimise(curves, spec)
    as_of = dt.date(2027, 1, 18)  # 2027-W01 and W02 have ended
    acts = []
    for ln in plan.lines:
        if ln.period in ("2027-W01", "2027-W02") and ln.spend > 0:
            day = dt.date(2027, 1, 5) + dt.timedelta(days=7 * (ln.period == "2027-W02"))
            half = ln.expected_results / 2  # half the forecast
            acts.append(row(day.isoformat(), ln.network, ln.segment, ln.spend, half))
    d = replan(curves, spec, acts, as_of).to_dict()
    r = d["ranges"]
    assert "periods to come" in r["note"]
    for p in ("2027-W01", "2027-W02"):
        got = d["by_period"][p]["expected_results"]
        assert got == pytest.approx(
            math.fsum(a["results"] for a in acts if a["date"] < "2027-01-11") if p == "2027-W01"
            else math.fsum(a["results"] for a in acts if a["date"] >= "2027-01-11")
        )  # fmt: skip
        assert r["periods"][p]["p10"] == pytest.approx(got) == r["periods"][p]["p90"]
    w5 = r["periods"]["2027-W05"]
    assert w5["p10"] < w5["p90"]  # the periods to come keep their range
    for ln in d["lines"]:
        if "forecast_results" in ln:
            assert ln["results_p10"] == ln["expected_results"] == ln["results_p90"]
    assert r["total"]["p10"] <= d["expected_results"] <= r["total"]["p90"]


def test_reach_with_several_rows_in_a_period_keeps_the_forecast():
    pts = ((0.0, 0.0), (100.0, 150.0), (200.0, 250.0))
    lines = tuple(
        CurveLine(network=n, segment="s", period=p, points=pts)
        for n in ("a", "b")
        for p in ("2027-01", "2027-02")
    )
    curves = Curves(lines=lines, currency="EUR", result_type="reach", meta={"additive": False})
    acts = [
        row("2027-01-03", "a", "s", 50.0, 90.0, "reach"),
        row("2027-01-20", "a", "s", 50.0, 90.0, "reach"),  # two rows: their sum is not reach
        row("2027-01-10", "b", "s", 100.0, 99.0, "reach"),
    ]
    res = replan(curves, PlanSpec.from_dict({"budget": 400}), acts, dt.date(2027, 2, 1))
    d = res.to_dict()
    lines_ = {key(ln): ln for ln in d["lines"]}
    assert lines_[("b", "s", "2027-01")]["expected_results"] == 99.0
    assert lines_[("a", "s", "2027-01")]["expected_results"] == pytest.approx(150.0)
    assert any("cannot be added across rows" in w for w in res.warnings)
    assert d["expected_results"] is None and d["by_period"]["2027-01"]["expected_results"] == (
        pytest.approx(249.0)
    )


def test_shown_variances_are_the_shown_difference_and_columns_add_up():
    """Planned and re-planned results of 152.17 each: 152.2 and 152.2 with 0, not (0.1)."""
    from scenarios.exports.replan import replan_shown

    rows = [
        {"network": n, "segment": "s", "period": p, "status": "open", "planned": a,
         "actual": None, "replanned": b, "over_under_plan": b - a, "planned_results": r,
         "replanned_results": r2, "actual_results": None, "results_over_under_plan": r2 - r}
        for n, p, a, b, r, r2 in (
            ("tiktok", "2027-03", 1000.004, 1000.004, 152.17, 152.17),
            ("meta", "2027-03", 2000.004, 2100.0, 331.26, 340.08),
            ("google", "2027-03", 500.002, 450.0, 0.13, 0.09),
        )
    ]  # fmt: skip
    plan = {"budget": 3550.0, "lines": [], "replan": {"budget_as_set": 3550.0, "rows": rows}}
    _, periods, lines = replan_shown(plan)
    for r in (*periods, *lines):
        assert r["spend_variance"] == pytest.approx(r["replanned_spend"] - r["planned_spend"])
        assert r["results_variance"] == pytest.approx(r["replanned_results"] - r["planned_results"])
    tiktok = next(r for r in lines if r["network"] == "tiktok")
    assert tiktok["results_variance"] == 0 and tiktok["spend_variance"] == 0
    for k in ("planned_spend", "replanned_spend", "planned_results", "replanned_results"):
        assert math.fsum(r[k] for r in lines) == pytest.approx(periods[0][k])  # add up
    assert periods[0]["planned_spend"] == 3500.01 and periods[0]["replanned_spend"] == 3550.0
    assert periods[0]["planned_results"] == 483.6 and periods[0]["replanned_results"] == 492.3
