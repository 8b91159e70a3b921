"""Plan exports for people and spreadsheets: JSON, CSV, XLSX, HTML and charts.

``write_plan(plan, path)`` picks the format from the suffix of ``path``; ``plan`` is an
``optimizer.Plan`` (anything with ``to_dict()``) or the Plan JSON dict of docs/design.md.
Every text cell written to CSV goes through :func:`neutralise_cell` (a leading ``= + - @``
gets a ``'``), and the XLSX stores text as text, with Excel's quote prefix where it starts
with ``=`` (``xlsx.put``), so a segment named ``=HYPERLINK(...)`` stays text in Excel,
LibreOffice and Google Sheets and ``-10%`` reads as written.

The CSV has one row per plan line and **no totals row**, so that Power Query, IMPORTDATA
and ``pandas.read_csv`` can sum the columns without double counting; the totals are in the
JSON, in the XLSX ``Summary`` sheet and in the HTML report. Results that cannot be added
across periods (reach: the Plan JSON's ``results_additive`` false) have no total anywhere,
only each period's.

matplotlib and openpyxl are imported only when a chart or a workbook is made.
"""

from pathlib import Path

from .cells import neutralise_cell
from .plan import CSV_COLUMNS, RESPONSE_COLUMNS, ExportError, csv_columns, plan_dict, plan_rows
from .tabular import plan_csv_text
from .write import SUFFIXES, write_plan


def plan_xlsx_bytes(plan) -> bytes:
    """Return the plan as an XLSX workbook (Summary, Ledger, Lines, Ranges, Flighting, Rules)."""
    from .xlsx import plan_xlsx_bytes as _impl

    return _impl(plan)


def plan_html_text(plan, **kwargs) -> str:
    """Return the plan as a self-contained HTML report (charts embedded as PNG)."""
    from .html import plan_html_text as _impl

    return _impl(plan, **kwargs)


def write_frontier_chart(points, path, **kwargs) -> Path:
    """Write the budget frontier as a PNG; return the path written.

    Budget -> expected results with its P10-P90 band, and the marginal cost per result.
    """
    from .charts import write_frontier_chart as _impl

    return _impl(points, path, **kwargs)


__all__ = [
    "CSV_COLUMNS",
    "RESPONSE_COLUMNS",
    "ExportError",
    "SUFFIXES",
    "csv_columns",
    "neutralise_cell",
    "plan_csv_text",
    "plan_dict",
    "plan_html_text",
    "plan_rows",
    "plan_xlsx_bytes",
    "write_frontier_chart",
    "write_plan",
]
