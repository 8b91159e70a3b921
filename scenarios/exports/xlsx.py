"""XLSX for finance: values (not only formulas), named Excel Tables, text neutralised.

Every table is a named Excel Table (``PlanLines``, ``Flighting``...) so Power Query can
reference it by name. Totals are written as values beside or below the tables, never
inside them, so a query that sums a table does not count them twice.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from .cells import neutralise_cell
from .plan import CSV_COLUMNS, pivot, plan_dict, plan_rows, totals, weekly_to_monthly

MONEY = "#,##0.00"
RESULTS = "#,##0.0"
COST = "#,##0.00"
SHARE = "0.0%"

#: number format per column name (columns not listed keep Excel's General)
FORMATS = {
    "budget": MONEY,
    "total_spend": MONEY,
    "spend": MONEY,
    "expected_results": RESULTS,
    "results": RESULTS,
    "cost_per_result": COST,
    "marginal_cost_per_result": COST,
    "shadow_price": "0.000000",
    "share": SHARE,
}

BOLD = Font(bold=True)


def table_name(text: str) -> str:
    """Make a valid Excel Table name from ``text`` (letters, digits, underscores)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "T_" + name
    return name[:250]


def _cell_value(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    if isinstance(v, list | tuple | dict):
        v = repr(v)
    return neutralise_cell(str(v))


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

    Text cells are neutralised; numbers get the format of their column (``FORMATS`` plus
    ``formats``). Returns (last row, last column) used.
    """
    fmts = {**FORMATS, **(formats or {})}
    headers = [str(h) for h in headers]
    seen: set[str] = set()
    for i, h in enumerate(headers):  # Excel Table headers must be unique text
        base, n = h or f"column{i + 1}", 2
        while h.lower() in seen or not h:
            h = f"{base}_{n}"
            n += 1
        seen.add(h.lower())
        headers[i] = h
    for j, h in enumerate(headers):
        c = ws.cell(row=row, column=col + j, value=neutralise_cell(h))
        c.font = BOLD
    r = row
    for values in rows:
        r += 1
        for j, v in enumerate(values):
            c = ws.cell(row=r, column=col + j, value=_cell_value(v))
            f = fmts.get(headers[j])
            if f and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                c.number_format = f
    if r == row:  # a table needs at least one data row
        r += 1
    last_col = col + len(headers) - 1
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


def autosize(ws: Worksheet, minimum: int = 8, maximum: int = 48) -> None:
    """Set each column's width to fit its longest value, between ``minimum`` and ``maximum``."""
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            text = f"{c.value:,.2f}" if isinstance(c.value, float) else str(c.value)
            widths[c.column] = max(widths.get(c.column, 0), len(text))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(minimum, min(maximum, w + 2))


def write_flighting(ws: Worksheet, name: str, rows: list[dict], *, row: int = 1) -> int:
    """Spend by network x segment (rows) and period (columns), totals both ways as values.

    The table holds the lines and a ``total`` column; the column totals sit in a bold row
    just below the table (outside it). Returns the last row used.
    """
    keys, periods, cells = pivot(rows, "spend", by="line")
    headers = ["network", "segment", *periods, "total"]
    body = []
    for net, seg in keys:
        vals = [cells.get(((net, seg), p), 0.0) for p in periods]
        body.append([net, seg, *vals, sum(vals)])
    fm = {p: MONEY for p in periods} | {"total": MONEY}
    last, _ = add_table(ws, name, headers, body, row=row, formats=fm)
    tr = last + 1
    ws.cell(row=tr, column=1, value="Total").font = BOLD
    for j, p in enumerate(periods):
        c = ws.cell(row=tr, column=3 + j, value=sum(cells.get((k, p), 0.0) for k in keys))
        c.number_format, c.font = MONEY, BOLD
    c = ws.cell(row=tr, column=3 + len(periods), value=sum(b[-1] for b in body))
    c.number_format, c.font = MONEY, BOLD
    return tr


def write_flighting_by_month(ws: Worksheet, name: str, rows: list[dict], *, row: int) -> int:
    """Write the flighting rolled up by calendar month, when the periods are ISO weeks.

    Weeks that straddle two months are split by their days. Returns the last row used
    (``row - 1`` when nothing is written).
    """
    months = weekly_to_monthly(rows)
    if months is None:
        return row - 1
    ws.cell(row=row, column=1, value="by calendar month (weeks split by their days)").font = BOLD
    return write_flighting(ws, name, months, row=row + 1)


def rule_rows(plan) -> tuple[list[str], list[list]]:
    """Return the headers and rows of the plan's rules: name, binding, shadow_price, ..."""
    cons = plan_dict(plan).get("constraints") or []
    keys = ["name", "binding", "shadow_price"]
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


def plan_workbook(plan) -> Workbook:
    """Build the workbook for one plan: Summary, Lines, Flighting, Rules (and Unfunded)."""
    d = plan_dict(plan)
    rows = plan_rows(d)
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    t = totals(d)
    add_table(ws, "PlanSummary", SUMMARY_COLUMNS, [[t[k] for k in SUMMARY_COLUMNS]])
    autosize(ws)

    ws = wb.create_sheet("Lines")
    add_table(ws, "PlanLines", CSV_COLUMNS, [[r[c] for c in CSV_COLUMNS] for r in rows])
    autosize(ws)

    ws = wb.create_sheet("Flighting")
    last = write_flighting(ws, "Flighting", rows)
    write_flighting_by_month(ws, "FlightingByMonth", rows, row=last + 3)
    autosize(ws)

    ws = wb.create_sheet("Rules")
    headers, body = rule_rows(d)
    add_table(ws, "PlanRules", headers, body)
    autosize(ws)

    unfunded = d.get("unfunded") or []
    if unfunded:
        unfunded = [u if isinstance(u, dict) else {"item": u} for u in unfunded]
        ws = wb.create_sheet("Unfunded")
        headers, body = dict_rows(unfunded, ("network", "segment", "period"))
        add_table(ws, "PlanUnfunded", headers, body)
        autosize(ws)
    return wb


def workbook_bytes(wb: Workbook) -> bytes:
    """Return the workbook saved as XLSX bytes."""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def plan_xlsx_bytes(plan) -> bytes:
    """Return the plan as XLSX bytes (see :func:`plan_workbook`)."""
    return workbook_bytes(plan_workbook(plan))
