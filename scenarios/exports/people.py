"""What makes a workbook for people: headers in words, number formats, print set-up.

One place for: the words shown for each machine column name (:func:`header_words`; the CSV
files, the HTTP feeds and the Excel Table *names* keep the machine names, which are what
queries use), the number format of each kind of figure (:func:`number_format`: money in
the plan's currency, results, percent, price), the text of values that are not numbers
(:func:`cell_text`: lists in words, never a Python repr), rounding to the shown precision
(:func:`shown`; largest remainder: :mod:`scenarios.money`) and the finishing pass over every sheet
(:func:`finish_workbook`: the header of a sheet's one table frozen and repeated on each
printed page, landscape, fit to width, a print area per sheet, column widths).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..money import round_half

#: the plain formats of each kind (money gets the currency in :func:`finish_workbook`)
MONEY = "#,##0.00"
MONEY_CHANGE = "#,##0.00;(#,##0.00)"
RESULTS = "#,##0.0"
RESULTS_CHANGE = "#,##0.0;(#,##0.0)"
PERCENT = "0.0%"
PRICE = "0.000000"
PER_1000 = "#,##0.0"
COUNT = "#,##0"

#: the format of each kind of figure, and the decimals its numbers are rounded to
KINDS: dict[str, tuple[str, int]] = {
    "money": (MONEY, 2),
    "money_change": (MONEY_CHANGE, 2),
    "results": (RESULTS, 1),
    "results_change": (RESULTS_CHANGE, 1),
    "percent": (PERCENT, 4),
    "price": (PRICE, 6),
    "per_1000": (PER_1000, 1),
    "count": (COUNT, 0),
    "decimal": (RESULTS, 1),
}

_MONEY_KEYS = (
    "budget total_spend spend expected_value expected_profit unspent cost_per_result "
    "marginal_cost_per_result cost_per_incremental_result base_spend planned_spend "
    "actual_spend replanned_spend off_plan_spend amount max_spend next_result_cost needed_cost_per_result"
)
_RESULTS_KEYS = (
    "expected_results results_p10 results_p50 results_p90 results target_results "
    "results_inside results_after results_attributed results_incremental base_results "
    "planned_results actual_results replanned_results max_results"
)
_PERCENT_KEYS = "share target_probability target_confidence chance_beats_base"

#: the kind of each machine column name (columns not listed keep the General format)
KIND_OF: dict[str, str] = {
    **dict.fromkeys(_MONEY_KEYS.split(), "money"),
    **dict.fromkeys(_RESULTS_KEYS.split(), "results"),
    **dict.fromkeys(_PERCENT_KEYS.split(), "percent"),
    "shadow_price": "price",
    "per_1000": "per_1000",
    "spend_variance": "money_change",
    "results_variance": "results_change",
    "point": "count",
    "cheaper_by_pct": "decimal",
    "gain_if_removed": "decimal",
}

#: the words shown for a machine column name (others: underscores shown as spaces)
WORDS: dict[str, str] = {
    "total_spend": "total spend",
    "expected_results": "expected results",
    "results_p10": "results P10",
    "results_p50": "results P50",
    "results_p90": "results P90",
    "cost_per_result": "cost per result",
    "marginal_cost_per_result": "cost of the next result",
    "results_inside": "results inside the plan",
    "results_after": "results after the plan",
    "results_attributed": "attributed results",
    "results_incremental": "incremental results",
    "cost_per_incremental_result": "cost per incremental result",
    "results_basis": "results counted",
    "result_type": "result type",
    "expected_value": "expected value",
    "expected_profit": "expected profit",
    "unspent": "budget unspent",
    "off_plan_spend": "off-plan spend",
    "unspent_stopped_by": "what stopped more spend",
    "target_results": "target results",
    "target_probability": "chance of the target",
    "target_confidence": "confidence asked",
    "chance_beats_base": "chance of beating the base",
    "shadow_price": "shadow price",
    "per_1000": "per 1,000",
    "next_result_cost": "next result costs",
    "gain_if_removed": "gain if removed",
    "gain_proven": "gain proven",
    "words": "rule in words",
    "name": "name",
    "planned_spend": "planned spend",
    "actual_spend": "actual spend",
    "replanned_spend": "re-planned spend",
    "spend_variance": "spend variance",
    "planned_results": "planned results",
    "actual_results": "actual results",
    "replanned_results": "re-planned results",
    "results_variance": "results variance",
    "relax_by": "relax by",
    "cheaper_by_pct": "cheaper by (%)",
    "needed_cost_per_result": "cost per result needed",
}


def header_words(key: str) -> str:
    """Return the words a person reads for the machine column name ``key``.

    >>> header_words("total_spend"), header_words("spend"), header_words("my_col")
    ('total spend', 'spend', 'my col')
    """
    return WORDS.get(key) or key.replace("_", " ")


def machine_name(words: str) -> str:
    """Return the machine column name shown as ``words`` (the inverse of :func:`header_words`).

    >>> machine_name("total spend"), machine_name("results P10")
    ('total_spend', 'results_p10')
    """
    back = {w: k for k, w in WORDS.items()}
    return back.get(words) or words.replace(" ", "_")


def kind_of(key: str, formats: Mapping[str, str] | None = None) -> str | None:
    """Return the kind of the column ``key`` (``formats`` first: a kind or a format string)."""
    f = (formats or {}).get(key)
    if f is not None:
        return f if f in KINDS else _kind_of_format(f)
    return KIND_OF.get(key)


def _kind_of_format(fmt: str) -> str | None:
    """Return the kind whose plain format is ``fmt`` (None for a format of its own)."""
    return next((k for k, (f, _) in KINDS.items() if f == fmt), None)


def number_format(kind: str, currency: str = "") -> str:
    """Return the number format of ``kind``; money and its changes with the ``currency``.

    >>> number_format("money", "EUR")
    '#,##0.00 "EUR"'
    >>> number_format("money_change", "EUR")
    '#,##0.00 "EUR";(#,##0.00) "EUR"'
    """
    fmt = KINDS[kind][0]
    cur = "".join(ch for ch in currency if ch.isalnum() or ch in " $€£¥.")[:8].strip()
    if kind not in ("money", "money_change") or not cur:
        return fmt
    return ";".join(f'{part} "{cur}"' for part in fmt.split(";"))


def decimals(key: str, default: int = 2) -> int:
    """Return the decimals the figures of the machine column ``key`` are shown with.

    ``default`` for a column of no kind. The one place that says it (:data:`KINDS`): the
    XLSX rounds and formats by it, the HTML tables of a re-plan show their figures by it.

    >>> decimals("planned_spend"), decimals("results_variance"), decimals("network", 0)
    (2, 1, 0)
    """
    kind = KIND_OF.get(key)
    return default if kind is None else KINDS[kind][1]


def shown(value, kind: str | None):
    """Return ``value`` rounded to the decimals its kind is shown with (numbers only).

    Numbers of no kind are rounded to 9 decimals, so a cell never holds 986.6700000000001.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not math.isfinite(value):
        return None
    return round_half(value, KINDS[kind][1] if kind in KINDS else 9)


def cell_text(value) -> str:
    """Return a value that is not a number as words: lists joined, None empty, no repr.

    A change written ``a -> b`` in a note is shown ``a → b``.

    >>> cell_text(["tiktok", "meta"]), cell_text(None), cell_text({"a": 1})
    ('tiktok, meta', '', 'a: 1')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,.10g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {cell_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell_text(v) for v in value)
    return str(value).replace(" -> ", " → ")


def change_words(path: str, before, after) -> str:
    """Say a change of a setting in words: ``budget: 60,000 → 54,000`` (unset: "none").

    >>> change_words("exclude.networks", None, ["linkedin"])
    'exclude.networks: none → linkedin'
    """

    def said(v) -> str:
        return cell_text(v) or "none"

    return f"{path}: {said(before)} → {said(after)}"


def finish_workbook(
    wb: Workbook, currency: str = "", printed: Mapping[str, int] | None = None
) -> None:
    """Finish every sheet of ``wb`` for people (see :func:`finish_sheet`).

    ``printed`` maps a sheet's title to the last row it prints (its other rows stay in the
    workbook, out of its print area: thousands of curve points).
    """
    for ws in wb.worksheets:
        finish_sheet(ws, currency, (printed or {}).get(ws.title))


def finish_sheet(ws: Worksheet, currency: str = "", last_row: int | None = None) -> None:
    """Finish one sheet: money in ``currency``, widths, frozen header, print set-up.

    A sheet of one table has that table's header row frozen and repeated at the top of every
    printed page (:func:`title_row`); a sheet of several tables freezes and repeats nothing,
    as a header repeated there would head the other tables' rows. The sheet prints landscape
    on A4, fitted to the page's width (pages flow down), its print area the cells it uses
    (up to ``last_row`` when given).
    """
    _currency_formats(ws, currency)
    width = autosize(ws)
    _wrap_notes(ws, width)
    last = max(ws.max_row, 1) if last_row is None else last_row
    header = title_row(ws)
    if header is not None:
        ws.freeze_panes = f"A{header + 1}"
        if header <= last:
            ws.print_title_rows = f"{header}:{header}"
    ws.print_area = f"A1:{get_column_letter(max(width, 1))}{last}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "&A: page &P of &N"


def title_row(ws: Worksheet) -> int | None:
    """Return the header row to freeze and repeat on each printed page, None for none.

    The header row of the sheet's one table; None when the sheet holds several tables (or
    none): each long table has a sheet of its own, so its header is the only one repeated.
    """
    tables = list(ws.tables.values())
    return _table_top(ws, tables[0]) if len(tables) == 1 else None


def _table_top(ws: Worksheet, table) -> int:
    """Return the header row of ``table`` (its first row)."""
    ref = table.ref if hasattr(table, "ref") else ws.tables[table].ref
    return int("".join(ch for ch in ref.split(":")[0] if ch.isdigit()))


def _currency_formats(ws: Worksheet, currency: str) -> None:
    """Give the money cells (plain money formats) the currency's format."""
    if not currency:
        return
    swap = {MONEY: number_format("money", currency)}
    swap[MONEY_CHANGE] = number_format("money_change", currency)
    for row in ws.iter_rows():
        for c in row:
            if c.number_format in swap:
                c.number_format = swap[c.number_format]


def _in_tables(ws: Worksheet) -> set[tuple[int, int]]:
    """Return the (row, column) of every cell inside one of the sheet's tables."""
    from openpyxl.utils.cell import range_boundaries

    cells: set[tuple[int, int]] = set()
    for t in ws.tables.values():
        c0, r0, c1, r1 = range_boundaries(t.ref)
        cells.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
    return cells


def autosize(ws: Worksheet, minimum: int = 8, maximum: int = 40) -> int:
    """Fit each column to its table cells and numbers; return the last column of data.

    Text outside the tables (headings, notes) does not widen a column: it is wrapped
    across the sheet's width (:func:`_wrap_notes`).
    """
    inside, widths = _in_tables(ws), dict[int, int]()
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            if isinstance(c.value, str) and (c.row, c.column) not in inside:
                continue
            text = f"{c.value:,.2f} EUR" if isinstance(c.value, float) else str(c.value)
            widths[c.column] = max(widths.get(c.column, 0), len(text) + 2)
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(minimum, min(maximum, w))
    return max(widths, default=1)


def _wrap_notes(ws: Worksheet, width: int) -> None:
    """Merge each long text cell outside the tables across the sheet's width, wrapped."""
    inside = _in_tables(ws)
    room = sum(ws.column_dimensions[get_column_letter(c)].width or 8 for c in range(1, width + 1))
    for row in ws.iter_rows(max_col=1):
        c = row[0]
        if not isinstance(c.value, str) or (c.row, 1) in inside or width < 2:
            continue
        if any(ws.cell(row=c.row, column=j).value is not None for j in range(2, width + 1)):
            continue
        ws.merge_cells(start_row=c.row, start_column=1, end_row=c.row, end_column=width)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        lines = max(1, math.ceil(len(c.value) / max(room, 1)))
        ws.row_dimensions[c.row].height = 15 * lines + 2
