"""The finance workbook of a scenario run (XLSX, openpyxl).

Sheets and their named Excel Tables (Power Query reads them by name), one table a sheet,
its header frozen and repeated on every printed page:

====================  ============================================================
Summary               ``Summary``: one row per variant (status, budget, spend, results,
                      CPR, the P10 and P90 of its results, the chance it beats the base)
Comparison            ``Comparison``: each variant against the base, "Over/(under) base"
                      columns, P10 / P90 and the chance it beats the base
Money moved           ``MoneyMoved``: spend per network and segment, base vs variant
Lines                 ``Lines``: every plan line of every variant (variant column first;
                      the CSV's columns, with results_inside, results_attributed and
                      results_incremental when a plan's lines carry them)
Flighting <variant>   ``Flighting_<variant>``: network x segment rows, period columns, a
                      total column; the period totals in a bold row below it (values)
By month <variant>    ``FlightingByMonth_<variant>``: the same by calendar month (weekly
                      plans only)
Rules                 ``Rules``: every rule of every variant with binding and shadow price
Infeasible            ``Infeasible``: the diagnosis of variants whose rules cannot all hold
Assumptions           ``ForecastCPR``: per line the forecast cost per result (first and
                      last tier) and the spend it can absorb
Overrides             ``Overrides``: what each variant changes, and its notes
Curve points          ``CurvePoints``: the response curve points (not printed: the sheet
                      prints its first line, which says so)
====================  ============================================================

A sheet title holds at most 31 characters (Excel's limit): a long variant name is cut
there (the title row of its sheets says it in full).

Every cell holds a value (no formulas); every text cell is neutralised. The chance a variant
beats the base (``beats_base_probability`` of its comparison case) is an empty cell for the
base and when unknown, as are P10 and P90 when its plan has no ranges. Results that do not
add up across periods (reach: a plan's ``results_additive`` false) leave every total of
results empty (results, cost per result, their P10 / P90 and differences, a network's results).
"""

from __future__ import annotations

from openpyxl import Workbook

from .compare import OVER_UNDER
from .exports.people import change_words, finish_workbook
from .exports.plan import (
    CSV_COLUMNS,
    RESPONSE_COLUMNS,
    additive,
    has_response,
    number,
    total_range,
    totals,
)
from .exports.xlsx import (
    BOLD,
    SUMMARY_COLUMNS,
    add_table,
    new_sheet,
    put,
    rule_rows,
    shown_rows,
    table_name,
    workbook_bytes,
    write_flighting,
    write_flighting_by_month,
)

#: the sheet of the curve points, printed up to its first line (the note)
POINTS_SHEET = "Curve points"


def _cpr(points, i: int) -> float | None:
    (x0, y0), (x1, y1) = points[i], points[i + 1]
    return (x1 - x0) / (y1 - y0) if y1 > y0 else None


def scenario_workbook(run) -> Workbook:
    """Build the finance workbook of a scenario run (sheets and tables: module docstring)."""
    # the XLSX edge: each variant's Plan read once into its Plan JSON
    plans = {v.name: v.plan.to_dict() for v in run.variants if v.plan is not None}
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    _summary_sheet(ws, run, plans)
    _comparison_sheet(wb.create_sheet("Comparison"), run.comparison, plans)
    _moved_table(wb.create_sheet("Money moved"), run.comparison, 2, plans)
    _lines_sheet(wb.create_sheet("Lines"), plans)
    _flighting_sheets(wb, plans)
    _rules_sheet(wb.create_sheet("Rules"), plans)
    bad = [v for v in run.variants if not v.ok]
    if bad:
        _infeasible_sheet(wb.create_sheet("Infeasible"), bad)
    _assumptions_sheet(wb.create_sheet("Assumptions"), run)
    _overrides_table(wb.create_sheet("Overrides"), run.variants, row=1)
    _points_sheet(wb.create_sheet(POINTS_SHEET), run.curves)
    finish_workbook(wb, run.curves.currency, printed={POINTS_SHEET: 1})
    return wb


#: the range of a variant's total results and the chance it beats the base (both sheets)
RANGE_COLUMNS = ("results_p10", "results_p90", "chance_beats_base")


def _range_cells(comp: dict, name: str, plan_json: dict | None) -> list:
    """Return the P10 and P90 of a variant's total results and the chance it beats the base.

    None where unknown: no plan, no ranges, the base itself or a comparison without it.
    """
    p10, p90 = (None, None)
    if plan_json is not None and additive(plan_json):  # reach: no total across periods
        p10, p90 = total_range(plan_json)
    case = next((c for c in comp.get("cases") or [] if c.get("name") == name), None)
    chance = None
    if case is not None and name != comp.get("base"):
        chance = number(case.get("beats_base_probability"))
    return [p10, p90, chance]


def _summary_sheet(ws, run, plans: dict[str, dict]) -> None:
    """Write one row per variant: status, budget, spend, results, CPR, ranges, notes or error."""
    rows = []
    for v in run.variants:
        ranges = _range_cells(run.comparison, v.name, plans.get(v.name))
        if v.name in plans:
            t = totals(plans[v.name])
            rows.append([v.name, *(t[k] for k in SUMMARY_COLUMNS), *ranges, "; ".join(v.notes)])
        else:
            status = "infeasible" if v.diagnosis else "error"
            rows.append(
                [
                    v.name,
                    status,
                    v.spec_as_written().get("budget"),
                    None,
                    None,
                    None,
                    run.curves.currency,
                    run.curves.result_type,
                    *ranges,
                    v.error,
                ]
            )
    add_table(ws, "Summary", ["variant", *SUMMARY_COLUMNS, *RANGE_COLUMNS, "notes"], rows)


COMPARISON_HEAD = (
    "variant",
    "status",
    "total_spend",
    f"spend {OVER_UNDER}",
    "expected_results",
    f"results {OVER_UNDER}",
    "cost_per_result",
    f"cost per result {OVER_UNDER}",
    *RANGE_COLUMNS,
    "rule changes",
)
COMPARISON_FORMATS = {
    COMPARISON_HEAD[3]: "#,##0.00;(#,##0.00)",
    COMPARISON_HEAD[5]: "#,##0.0;(#,##0.0)",
    COMPARISON_HEAD[7]: "#,##0.00;(#,##0.00)",
}


def _comparison_sheet(ws, comp: dict, plans: dict[str, dict]) -> None:
    """Write each variant against the base ("Over/(under) base").

    Each variant's P10 and P90 of total results and its chance of beating the base sit
    beside its differences. The money moved is on a sheet of its own (:func:`_moved_table`).
    """
    body = []
    for c in comp["cases"]:
        d = c.get("delta") or {}
        changes = "; ".join(
            change_words(ch["path"], ch["base"], ch["variant"])
            for ch in c.get("spec_changes") or []
        )
        summed = _additive(plans, c["name"], comp.get("base"))
        body.append(
            [
                c["name"],
                c.get("status"),
                c.get("total_spend"),
                d.get("total_spend"),
                c.get("expected_results") if summed else None,
                d.get("expected_results") if summed else None,
                c.get("cost_per_result") if summed else None,
                d.get("cost_per_result") if summed else None,
                *_range_cells(comp, c["name"], plans.get(c["name"])),
                changes,
            ]
        )
    add_table(ws, "Comparison", COMPARISON_HEAD, body, formats=COMPARISON_FORMATS)


def _additive(plans: dict[str, dict], *names) -> bool:
    """Say whether the plans named have results that add up across periods (reach does not).

    A comparison of plans whose results do not add up shows no total of results.
    """
    return all(additive(plans[n]) for n in names if n in plans)


def _moved_table(ws, comp: dict, r0: int, plans: dict[str, dict] | None = None) -> None:
    """Write the spend per network and segment, base vs each variant, from row ``r0``."""
    moved_head = [
        "variant",
        "dimension",
        "name",
        "base spend",
        "spend",
        f"spend {OVER_UNDER}",
        "base results",
        "results",
    ]
    moved = []
    for c in comp["cases"]:
        summed = _additive(plans or {}, c["name"], comp.get("base"))
        for dim in ("networks", "segments"):
            for m in (c.get("moved") or {}).get(dim, []):
                if not summed:  # a network's results are a sum across periods
                    m = {**m, "base_results": None, "results": None}
                moved.append(
                    [
                        c["name"],
                        dim[:-1],
                        m["name"],
                        m["base_spend"],
                        m["spend"],
                        m["change"],
                        m["base_results"],
                        m["results"],
                    ]
                )
    ws.cell(row=r0 - 1, column=1, value="Money moved between networks and segments").font = BOLD
    add_table(
        ws,
        "MoneyMoved",
        moved_head,
        moved,
        row=r0,
        formats={
            "base spend": "#,##0.00",
            "spend": "#,##0.00",
            moved_head[5]: "#,##0.00;(#,##0.00)",
            "base results": "#,##0.0",
        },
    )


def _lines_sheet(ws, plans: dict[str, dict]) -> None:
    """Write every plan line of every variant, the variant first."""
    columns: tuple[str, ...] = CSV_COLUMNS
    if any(has_response(plan) for plan in plans.values()):  # carry-over or lift
        columns = (*CSV_COLUMNS, *RESPONSE_COLUMNS)
    body = []
    for name, plan in plans.items():
        body += [[name, *(r[c] for c in columns)] for r in shown_rows(plan)]
    add_table(ws, "Lines", ["variant", *columns], body)


def _flighting_sheets(wb, plans: dict[str, dict]) -> None:
    """Add per variant a sheet of the spend by line and period, then one by month (weeks).

    "Flighting <variant>" (``Flighting_<variant>``) and, when the periods are ISO weeks,
    "By month <variant>" (``FlightingByMonth_<variant>``): one table a sheet.
    """
    for name, plan in plans.items():
        ws = new_sheet(wb, f"Flighting {name}")
        put(ws, 1, 1, f"{name}: spend by line and period").font = BOLD
        lines = shown_rows(plan)
        write_flighting(ws, f"Flighting_{name}", lines, row=2)
        write_flighting_by_month(
            wb, f"By month {name}", f"FlightingByMonth_{name}", lines, heading=name
        )


def _rules_sheet(ws, plans: dict[str, dict]) -> None:
    """Write every rule of every variant with binding and shadow price."""
    heads: list[str] = ["variant"]
    all_rows = []
    for name, plan in plans.items():
        h, b = rule_rows(plan)
        all_rows.append((name, h, b))
        heads += [k for k in h if k not in heads]
    body = []
    for name, h, b in all_rows:
        for r in b:
            d = dict(zip(h, r, strict=True))
            body.append([name, *(d.get(k) for k in heads[1:])])
    add_table(ws, "Rules", heads, body)


def _infeasible_sheet(ws, bad) -> None:
    """Write the diagnosis of each variant whose rules cannot all hold (or its error)."""
    body = []
    for v in bad:
        items = v.diagnosis or [{"message": v.error}]
        for it in items:
            it = it if isinstance(it, dict) else {"message": str(it)}
            body.append(
                [
                    v.name,
                    it.get("rule"),
                    it.get("needed"),
                    it.get("available"),
                    it.get("relax_by"),
                    it.get("message"),
                ]
            )
    add_table(
        ws,
        "Infeasible",
        ["variant", "rule", "needed", "available", "relax_by", "message"],
        body,
    )


def _assumptions_sheet(ws, run) -> None:
    """Write the forecast cost per result per curve line, under what it is."""
    cur, what = run.curves.currency, run.curves.result_type
    put(
        ws,
        1,
        1,
        f"Forecast cost per result ({cur} per {what}) and response curves the base ran on; "
        "variants change them as the sheet Overrides says; the curves' points are on the "
        f"sheet {POINTS_SHEET}.",
    )
    _forecast_table(ws, run.curves, row=3)


def _points_sheet(ws, curves) -> None:
    """Write the response curve points (``CurvePoints``) under a note saying they do not print.

    Thousands of rows on weekly curves: they stay in the workbook, out of the print area,
    which is the note alone (:func:`scenario_workbook`).
    """
    put(ws, 1, 1, POINTS_NOT_PRINTED)
    body = []
    for ln in curves.lines:
        for i, (x, y) in enumerate(ln.points):
            body.append([ln.network, ln.segment, ln.period, i, x, y])
    add_table(
        ws,
        "CurvePoints",
        ["network", "segment", "period", "point", "spend", "expected_results"],
        body,
        row=3,
    )


#: why the curve points are not printed (the one printed line of their sheet)
POINTS_NOT_PRINTED = (
    "Response curve points (spend, expected results), in the table CurvePoints below; they "
    "are not printed (thousands of rows: the sheet's print area is this line)."
)


def _forecast_table(ws, curves, *, row: int) -> int:
    """Write per curve line its first and last cost per result and what it can absorb."""
    body = []
    for ln in curves.lines:
        body.append(
            [
                ln.network,
                ln.segment,
                ln.period,
                _cpr(ln.points, 0),
                _cpr(ln.points, len(ln.points) - 2),
                ln.max_spend,
                ln.max_results,
            ]
        )
    last, _ = add_table(
        ws,
        "ForecastCPR",
        [
            "network",
            "segment",
            "period",
            "first cost_per_result",
            "last cost_per_result",
            "max spend",
            "max results",
        ],
        body,
        row=row,
        formats={
            "first cost_per_result": "#,##0.00",
            "last cost_per_result": "#,##0.00",
            "max spend": "#,##0.00",
            "max results": "#,##0.0",
        },
    )
    return last


def _overrides_table(ws, variants, *, row: int) -> int:
    """Write what each variant's overrides change, and its notes, from ``row``."""
    body = []
    for v in variants:
        ov = v.overrides.to_dict()
        for k, m in ov.get("cost_per_result", {}).items():
            body.append([v.name, "cost_per_result multiplier", k, m])
        for kind in ("networks", "segments"):
            for n in ov.get("exclude", {}).get(kind, []):
                body.append([v.name, f"exclude {kind[:-1]}", n, None])
        if "budget" in ov:
            body.append([v.name, "budget", "", ov["budget"]])
        for note in v.notes:
            body.append([v.name, "note", note, None])
    last, _ = add_table(ws, "Overrides", ["variant", "kind", "name", "value"], body, row=row)
    return last


def scenario_workbook_bytes(run) -> bytes:
    """Return the scenario run's workbook as XLSX bytes."""
    return workbook_bytes(scenario_workbook(run))


__all__ = ["scenario_workbook", "scenario_workbook_bytes", "table_name"]
