"""XLSX for finance: values (never formulas), named Excel Tables, text kept as text.

Every table is a named Excel Table (``PlanLines``, ``Flighting``...) so Power Query can
reference it by name. Totals are written as values beside or below the tables, never
inside them, so a query that sums a table does not count them twice. Each long table has
a sheet of its own, whose header row is frozen and repeated on every printed page.

Text is written as text cells (:func:`put`): a cell's text is shown as it is, ``-10%`` or
``@retargeting`` with no apostrophe; text that starts with ``=`` (which openpyxl would
write as a formula) is stored as text with Excel's quote prefix, so it is never run, even
once edited. The CSV exports neutralise such text instead (:func:`.cells.neutralise_cell`).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..money import half_up, round_grid, round_to
from . import people
from .plan import (
    CSV_COLUMNS,
    LEDGER_FIELDS,
    RESPONSE_COLUMNS,
    RESPONSE_TOTALS,
    additive,
    csv_columns,
    curve_ends,
    has_response,
    ledger_entries,
    number,
    objective_labels,
    period_rows,
    pivot,
    plan_dict,
    plan_rows,
    range_rows,
    ranges_in,
    ranges_note,
    results_note,
    shadow_note,
    stopped_words,
    total_range,
    totals,
    unspent_in,
    weekly_to_monthly,
)

#: the plain formats (money cells get the plan's currency when the workbook is finished)
MONEY = people.MONEY
RESULTS = people.RESULTS
COST = people.MONEY
SHARE = people.PERCENT
PRICE = people.PRICE
PER_1000 = people.PER_1000

#: number format per machine column name (columns not listed keep Excel's General)
FORMATS = {k: people.KINDS[kind][0] for k, kind in people.KIND_OF.items()}

BOLD = Font(bold=True)


def table_name(text: str) -> str:
    """Make a valid Excel Table name from ``text`` (letters, digits, underscores)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "T_" + name
    return name[:250]


def _cell_value(v, kind: str | None = None):
    """Return what a cell holds for ``v``: a number rounded as shown, else words.

    None is an empty cell, lists are joined in words (never a Python repr).
    """
    if v is None or isinstance(v, bool):
        return v
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalar
        v = v.item()
    if isinstance(v, int | float):
        return people.shown(v, kind)
    return people.cell_text(v) or None


def put(ws: Worksheet, row: int, column: int, v, kind: str | None = None) -> Cell:
    """Write ``v`` in a cell as it is shown (:func:`_cell_value`) and return the cell.

    Text that starts with ``=`` is kept as text, with Excel's quote prefix (openpyxl would
    write it as a formula); other text (``-10%``, ``+33``, ``@a``) is a text cell already.
    """
    value = _cell_value(v, kind)
    c = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        c.data_type = "s"
        c.quotePrefix = True
    return c


def add_table(
    ws: Worksheet,
    name: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    row: int = 1,
    col: int = 1,
    formats: dict[str, str] | None = None,
) -> tuple[int, int]:
    """Write ``headers`` and ``rows`` at (row, col) as a named Excel Table.

    ``headers`` are machine column names ("planned_spend"): shown in words
    (:func:`.people.header_words`); each number gets the format of its column's kind
    (:data:`.people.KIND_OF`, or ``formats``: machine name to a kind or a format string)
    and is rounded to the decimals shown. Text is written as text, lists in
    words (:func:`put`). Returns (last row, last column) used.
    """
    keys = [str(h) for h in headers]
    kinds = [people.kind_of(k, formats) for k in keys]
    fmts = [
        (formats or {}).get(k) or (people.KINDS[kd][0] if kd else None)
        for k, kd in zip(keys, kinds, strict=True)
    ]
    fmts = [people.KINDS[f][0] if f in people.KINDS else f for f in fmts]
    for j, h in enumerate(_unique([people.header_words(k) for k in keys])):
        put(ws, row, col + j, h).font = BOLD
    r = row
    for values in rows:
        r += 1
        for j, v in enumerate(values):
            c = put(ws, r, col + j, v, kinds[j])
            if fmts[j] and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                c.number_format = fmts[j]
    if r == row:  # a table needs at least one data row
        r += 1
    last_col = col + len(keys) - 1
    ref = f"{get_column_letter(col)}{row}:{get_column_letter(last_col)}{r}"
    tname, n = table_name(name), 2
    taken = {t.lower() for sheet in ws.parent.worksheets for t in sheet.tables}
    while tname.lower() in taken:  # Table names are unique in a workbook
        tname = f"{table_name(name)}_{n}"
        n += 1
    t = Table(displayName=tname, ref=ref)
    t.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(t)
    return r, last_col


def _unique(headers: list[str]) -> list[str]:
    """Return ``headers`` made unique, non-empty text (as an Excel Table needs)."""
    seen: set[str] = set()
    out = []
    for i, h in enumerate(headers):
        base, n = h or f"column {i + 1}", 2
        while h.lower() in seen or not h:
            h = f"{base} {n}"
            n += 1
        seen.add(h.lower())
        out.append(h)
    return out


def autosize(ws: Worksheet) -> None:
    """Fit each column to its table cells and numbers (:func:`.people.autosize`)."""
    people.autosize(ws)


def write_flighting(
    ws: Worksheet, name: str, rows: list[dict], *, row: int = 1, total: float | None = None
) -> int:
    """Spend by network x segment (rows) and period (columns), totals both ways as values.

    The table holds the lines and a ``total`` column; the column totals sit in a bold row
    just below the table (outside it). Money is shown in cents that add up exactly: the
    lines' totals are rounded to the grand total (``total``, else the sum of ``rows``) by
    largest remainder, each line's period cells to its rounded total; the period totals are
    the sums of the rounded cells. Returns the last row used.
    """
    keys, periods, cells = pivot(rows, "spend", by="line")
    exact = [[cells.get((k, p), 0.0) for p in periods] for k in keys]
    shown, line_totals = round_grid(exact, total)
    body = [[*k, *vals, t] for k, vals, t in zip(keys, shown, line_totals, strict=True)]
    fm = dict.fromkeys([*periods, "total"], "money")
    last, _ = add_table(
        ws, name, ["network", "segment", *periods, "total"], body, row=row, formats=fm
    )
    tr = last + 1
    ws.cell(row=tr, column=1, value="Total").font = BOLD
    sums = [_cents_sum(v[j] for v in shown) for j in range(len(periods))]
    for j, v in enumerate([*sums, _cents_sum(line_totals)]):
        c = ws.cell(row=tr, column=3 + j, value=v)
        c.number_format, c.font = MONEY, BOLD
    return tr


def _cents_sum(values: Iterable[float]) -> float:
    """Return the sum of amounts in cents, exactly (added as whole cents)."""
    return sum(half_up(v * 100) for v in values) / 100


#: the title above the flighting by calendar month
BY_MONTH = "spend by line and calendar month (weeks split by their days)"


def write_flighting_by_month(
    wb, title: str, name: str, rows: list[dict], *, heading: str = ""
) -> Worksheet | None:
    """Add the sheet ``title``: the flighting rolled up by calendar month (ISO weeks only).

    Weeks that straddle two months are split by their days; the table ``name`` sits under
    a title (``heading``, then :data:`BY_MONTH`), alone on its sheet. Returns the sheet
    (None when the periods are not ISO weeks: no sheet then).
    """
    months = weekly_to_monthly(rows)
    if months is None:
        return None
    ws = new_sheet(wb, title)
    put(ws, 1, 1, f"{heading}: {BY_MONTH}" if heading else BY_MONTH.capitalize()).font = BOLD
    write_flighting(ws, name, months, row=2)
    return ws


#: characters a sheet's title cannot hold
_NOT_IN_TITLES = re.compile(r"[\\/*?:\[\]]")


def new_sheet(wb, title: str) -> Worksheet:
    """Add a sheet titled ``title`` as Excel allows: 31 characters, none it forbids (``/*?:[]``...).

    A title already taken (in any case) gets " 2", " 3"... within the 31 characters.
    """
    base = _NOT_IN_TITLES.sub("-", title).strip("'").strip()[:31] or "Sheet"
    taken = {ws.title.lower() for ws in wb.worksheets}
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base[: 31 - len(str(n)) - 1]} {n}"
        n += 1
    return wb.create_sheet(name)


def shown_rows(plan) -> list[dict]:
    """Return the plan's rows with spend in cents and results in tenths, as shown.

    Each column is rounded by largest remainder to its own sum so rounded, so the lines
    shown add up exactly to the totals shown (results only when they add up at all).
    """
    d = plan_dict(plan)
    rows = plan_rows(d)
    spend = round_to([r["spend"] for r in rows], math.fsum(r["spend"] for r in rows))
    rows = [{**r, "spend": s} for r, s in zip(rows, spend, strict=True)]
    if not additive(d):
        return rows
    for k in ("expected_results", *RESPONSE_COLUMNS):
        got = [r[k] for r in rows]
        if all(isinstance(x, float | int) for x in got):
            shown = round_to(got, math.fsum(got), 1)
            rows = [{**r, k: x} for r, x in zip(rows, shown, strict=True)]
    return rows


def rule_rows(plan) -> tuple[list[str], list[list]]:
    """Return the headers and rows of the plan's rules: name, words, binding, shadow_price, ...

    ``words`` is the rule as people say it beside its id (the description when a Plan JSON
    has no words); the rule's other fields follow in their order.
    """
    cons = [
        {**c, "words": c.get("words") or c.get("description")}
        for c in plan_dict(plan).get("constraints") or []
    ]
    keys = ["name", "words", "binding", "shadow_price"]
    for c in cons:
        for k in c:
            if k not in keys:
                keys.append(k)
    return keys, [[c.get(k) for k in keys] for c in cons]


def dict_rows(items: list[dict], first: Sequence[str] = ()) -> tuple[list[str], list[list]]:
    """Return headers (``first``, then every other key in order of appearance) and rows."""
    keys = list(first)
    for it in items:
        for k in it:
            if k not in keys:
                keys.append(k)
    return keys, [[it.get(k) for k in keys] for it in items]


SUMMARY_COLUMNS = (
    "status",
    "budget",
    "total_spend",
    "expected_results",
    "cost_per_result",
    "currency",
    "result_type",
)


#: the Lines sheet: the CSV columns, then why each line gets no more (``limited_by``)
LINE_HEADERS = (*CSV_COLUMNS, "cause", "why no more")


def line_headers(plan) -> tuple[str, ...]:
    """Return the Lines sheet's headers: the plan's CSV columns, then cause and why no more."""
    return (*csv_columns(plan), "cause", "why no more")


def summary_row(plan) -> tuple[list[str], list]:
    """Return the Summary table's headers and its one row.

    The totals (:data:`SUMMARY_COLUMNS`), the objective, the expected value and profit when
    the plan has them, the budget left unspent and what stopped more spend, in words; then
    the P10 and P90 of the total results and the target, its chance and the confidence
    asked for, when the plan has them. A plan whose lines carry carry-over or lift adds its
    results inside the plan and after it, attributed and incremental results, the cost per
    incremental result and ``results_basis``. Results that do not add up across periods
    (reach) leave every total of results empty (the note and each period's are below).
    """
    d = plan_dict(plan)
    t = totals(d)
    headers, row = list(SUMMARY_COLUMNS), [t[k] for k in SUMMARY_COLUMNS]
    if t["off_plan_spend"] is not None:  # a re-plan: beside its budget as set
        headers.insert(2, "off_plan_spend")
        row.insert(2, t["off_plan_spend"])
    headers.append("objective")
    row.append(str(d.get("objective") or "results"))
    if has_response(d):
        for k in RESPONSE_TOTALS:
            if k in d:
                headers.append(k)
                row.append(t[k])
        headers.append("results_basis")
        row.append(str(d.get("results_basis") or "attributed"))
    for k in ("expected_value", "expected_profit"):
        if number(d.get(k)) is not None:
            headers.append(k)
            row.append(number(d.get(k)))
    amount, groups = unspent_in(d)
    headers += ["unspent", "unspent_stopped_by"]
    row += [amount, stopped_words(groups) or None]
    if ranges_in(d) is not None:  # the range of the total results (the Ranges sheet has more)
        headers += ["results_p10", "results_p90"]
        row += list(total_range(d)) if additive(d) else [None, None]
    for k in ("target_results", "target_probability", "target_confidence"):
        if number(d.get(k)) is not None:
            headers.append(k)
            row.append(number(d.get(k)))
    return headers, row


#: the ledger entry's keys, in the order of the Ledger table's columns (the rule in words first)
LEDGER_KEYS = ("words", "rule", *LEDGER_FIELDS[2:])
PROVEN_NOTE = (
    "proven no: the re-solve stopped at its time limit, so the gain shown is a lower bound"
)


def ledger_rows(plan) -> tuple[list[str], list[list], dict[str, str]]:
    """Return the Ledger table: headers, one row per ledger entry (ledger order), formats.

    Columns: the rule in words, its id, what removing it gains (in the plan's results, or
    currency under objectives value and profit), whether that gain is proven (false: a lower
    bound), the shadow price, the unit of the rule's limit, the price per 1,000 of currency
    and the cost of the result one more unit of room buys.
    """
    d = plan_dict(plan)
    lab = objective_labels(d)
    headers = ["rule", "id", lab["gain"], "proven", "shadow price", "unit"]
    headers += [lab["per_1000"], lab["next"]]
    rows = [[e.get(k) for k in LEDGER_KEYS] for e in ledger_entries(d)]
    formats = {
        lab["gain"]: RESULTS if lab["what"] not in ("value", "profit") else MONEY,
        "shadow price": PRICE,
        lab["per_1000"]: PER_1000,
        lab["next"]: COST,
    }
    return headers, rows, formats


def write_ledger(ws: Worksheet, plan) -> None:
    """Write the Ledger sheet: ``PlanLedger``, notes, then ``PlanCurveEnds`` when any.

    ``PlanCurveEnds`` sums up the lines at the end of their curves (the forecast's caps,
    not rules): how many, their spend and share of spend, and the most one more 1,000 of
    currency would bring on one of them if its curve went on.
    """
    d = plan_dict(plan)
    headers, rows, formats = ledger_rows(d)
    last, _ = add_table(ws, "PlanLedger", headers, rows, formats=formats)
    ws.cell(row=last + 2, column=1, value=shadow_note(d))
    ws.cell(row=last + 3, column=1, value=PROVEN_NOTE)
    ends = curve_ends(d)
    if ends is None:
        return
    lab = objective_labels(d)
    top = f"most {lab['per_1000']} if the curve went on"
    ws.cell(row=last + 5, column=1, value="the ends of curves (the forecast's caps)").font = BOLD
    add_table(
        ws,
        "PlanCurveEnds",
        ["lines at the end of their curves", "spend", "share of spend", top, "on line"],
        [[ends["lines"], ends["spend"], ends["share"], ends["top_per_1000"], ends["top_line"]]],
        row=last + 6,
        formats={"share of spend": "percent", top: PER_1000},
    )


#: the PlanRanges table's columns and the keys of :func:`~.plan.range_rows` they show
RANGE_HEADERS = ("kind", "name", "expected", "P10", "P50", "P90")
RANGE_KEYS = ("kind", "name", "expected", "p10", "p50", "p90")
RANGE_NOTES = (
    "P10: 9 scenarios in 10 do better; P90: 1 in 10 does better. The cost per result's P10 "
    "is the low cost (spend / P90 results), its P90 the high cost (spend / P10 results)."
)


def write_ranges(ws: Worksheet, plan) -> None:
    """Write the Ranges sheet: ``PlanRanges``, notes, ``PlanChance`` and ``PlanRisk`` when set.

    ``PlanRanges``: the total results, the cost per result and each network, segment and
    period, expected, P10, P50, P90 (numbers); then how they were made (the plan's note).
    """
    d = plan_dict(plan)
    rows = range_rows(d)
    body = [[r[k] for k in RANGE_KEYS] for r in rows]
    last, _ = add_table(
        ws, "PlanRanges", RANGE_HEADERS, body, formats=dict.fromkeys(RANGE_HEADERS[2:], RESULTS)
    )
    for i, r in enumerate(rows):  # the cost per result is money, not results
        if r["kind"] == "cost per result":
            for j, k in enumerate(RANGE_KEYS[2:], start=3):
                c = ws.cell(row=2 + i, column=j, value=people.shown(r[k], "money"))
                c.number_format = COST
    put(ws, last + 2, 1, ranges_note(d))
    ws.cell(row=last + 3, column=1, value=RANGE_NOTES)
    row = _chance_table(ws, d, last + 5)
    _risk_table(ws, d, row)


def _chance_table(ws: Worksheet, d: dict, row: int) -> int:
    """Write ``PlanChance`` (the target, its chance, the confidence asked) from ``row``.

    Returns the next free row (``row`` when the plan has no chance to show).
    """
    keys = ("target_results", "target_probability", "target_confidence")
    values = [number(d.get(k)) for k in keys]
    if values[1] is None and values[2] is None:
        return row
    ws.cell(row=row, column=1, value="the chance of reaching the target").font = BOLD
    last, _ = add_table(ws, "PlanChance", keys, [values], row=row + 1)
    return last + 2


RISK_HEADERS = ("plan", "mean", "P10", "tail mean")


def risk_rows(risk) -> list[list]:
    """Return the ``PlanRisk`` rows of a cvar plan's ``risk``: this plan, the mean plan, gains."""

    def fig(key: str) -> list:
        q = risk.get(key) if isinstance(risk.get(key), Mapping) else {}
        return [number(q.get(k)) for k in ("mean", "p10", "tail_mean")]

    given_up = number(risk.get("mean_results_given_up"))
    return [
        ["this plan (objective cvar)", *fig("this_plan")],
        ["the plan with the most expected results", *fig("mean_plan")],
        [
            "this plan gains",
            None if given_up is None else -given_up,
            number(risk.get("p10_gained")),
            number(risk.get("tail_mean_gained")),
        ],
    ]


def _risk_table(ws: Worksheet, d: dict, row: int) -> None:
    """Write ``PlanRisk`` (a cvar plan against the mean plan), the results given up, words."""
    risk = d.get("risk")
    if not isinstance(risk, Mapping):
        return
    alpha = number(risk.get("alpha"))
    head = "the risk-aware plan against the plan with the most expected results"
    if alpha is not None:
        head += f" (tail mean: the mean of the worst {100 * alpha:g}% of scenarios)"
    ws.cell(row=row, column=1, value=head).font = BOLD
    fm = dict.fromkeys(RISK_HEADERS[1:], RESULTS)
    last, _ = add_table(ws, "PlanRisk", RISK_HEADERS, risk_rows(risk), row=row + 1, formats=fm)
    # below the table, with a gap (never inside it)
    ws.cell(row=last + 2, column=1, value="mean results given up")
    c = put(ws, last + 2, 2, number(risk.get("mean_results_given_up")), "results")
    c.number_format = RESULTS
    put(ws, last + 3, 1, risk.get("words"))
    judged = risk.get("judged_on")
    if judged:
        put(ws, last + 4, 1, f"judged on {judged}")


#: the PlanByPeriod table's columns (then those of the response figures the lines carry)
PERIOD_HEADERS = ("period", "spend", "expected_results", "cost_per_result")


def write_by_period(ws: Worksheet, plan, row: int) -> int:
    """Write, for results that do not add up across periods, why and ``PlanByPeriod``.

    The note (``results_note``) at ``row``, then each period's spend, results and cost per
    result (and results inside the plan, attributed and incremental when the lines carry
    them). Returns the last row used (``row - 1`` when the plan's results add up).
    """
    d = plan_dict(plan)
    if additive(d):
        return row - 1
    put(ws, row, 1, results_note(d))
    periods = period_rows(d)
    spend = round_to([p["spend"] for p in periods], math.fsum(p["spend"] for p in periods))
    periods = [{**p, "spend": x} for p, x in zip(periods, spend, strict=True)]
    extra = [k for k in RESPONSE_COLUMNS if any(p.get(k) is not None for p in periods)]
    headers = [*PERIOD_HEADERS, *extra]
    ws.cell(row=row + 2, column=1, value="each period's totals").font = BOLD
    last, _ = add_table(
        ws, "PlanByPeriod", headers, [[p.get(k) for k in headers] for p in periods], row=row + 3
    )
    return last


def plan_workbook(plan) -> Workbook:
    """Build the workbook for one plan: Summary, Ledger, Lines, Ranges, Flighting..., Rules...

    Ledger: what each binding rule costs, the most costly first (:func:`write_ledger`);
    Lines: the CSV columns plus why each line gets no more; Ranges: P10 / P50 / P90 of the
    results and the cost per result (:func:`write_ranges`); Flighting, and Flighting by
    month for weekly plans; Rules; Unfunded when some lines are;
    the re-plan's sheets when the plan is a re-plan. Every sheet is then finished for
    people (:func:`.people.finish_workbook`): money in the plan's currency, frozen headers,
    print set-up.
    """
    d = plan_dict(plan)
    rows = shown_rows(d)
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    headers, summary = summary_row(d)
    last, _ = add_table(ws, "PlanSummary", headers, [summary])
    write_by_period(ws, d, last + 2)
    write_ledger(wb.create_sheet("Ledger"), d)
    columns = csv_columns(d)
    body = [[*(r[c] for c in columns), r["cause"], r["why"]] for r in rows]
    add_table(wb.create_sheet("Lines"), "PlanLines", line_headers(d), body)
    write_ranges(wb.create_sheet("Ranges"), d)
    write_flighting(wb.create_sheet("Flighting"), "Flighting", rows)
    write_flighting_by_month(wb, "Flighting by month", "FlightingByMonth", rows)
    headers, body = rule_rows(d)
    add_table(wb.create_sheet("Rules"), "PlanRules", headers, body)
    _unfunded_sheet(wb, d)
    if isinstance(d.get("replan"), Mapping):
        from .replan import write_replan_sheets

        write_replan_sheets(wb, d)
    people.finish_workbook(wb, str(d.get("currency") or ""))
    return wb


def _unfunded_sheet(wb: Workbook, d: dict) -> None:
    """Write the Unfunded sheet (``PlanUnfunded``) when some lines are unfunded."""
    unfunded = d.get("unfunded") or []
    if not unfunded:
        return
    unfunded = [u if isinstance(u, dict) else {"item": u} for u in unfunded]
    headers, body = dict_rows(unfunded, ("network", "segment", "period"))
    add_table(wb.create_sheet("Unfunded"), "PlanUnfunded", headers, body)


def workbook_bytes(wb: Workbook) -> bytes:
    """Return the workbook saved as XLSX bytes."""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def plan_xlsx_bytes(plan) -> bytes:
    """Return the plan as XLSX bytes (see :func:`plan_workbook`)."""
    return workbook_bytes(plan_workbook(plan))
