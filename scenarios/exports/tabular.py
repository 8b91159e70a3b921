"""The plan as CSV: one row per line, no totals row, text neutralised."""

from __future__ import annotations

import csv
import io

from .cells import neutralise_cell
from .plan import csv_columns, plan_dict, plan_rows


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value + 0.0)  # shortest exact form; + 0.0 turns -0.0 into 0.0
    return str(neutralise_cell(value))


def plan_csv_text(plan) -> str:
    """Return the plan's lines as CSV text: a header, then one row per line (RFC 4180, CRLF).

    Numbers are written exactly (the shortest form that reads back to the same float), so the
    lines add up to the plan's totals: round only for display. An undefined cost per result
    (no results) is an empty cell. There is deliberately no totals row (see the package docstring).
    The columns are :data:`~.plan.CSV_COLUMNS`, then ``results_inside``,
    ``results_attributed`` and ``results_incremental`` when the plan's lines carry them
    (:func:`~.plan.csv_columns`; empty cells where a line has none).
    """
    d = plan_dict(plan)
    columns = csv_columns(d)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; also quotes a field holding \r or \n
    w.writerow(columns)
    for row in plan_rows(d):
        w.writerow([_fmt(row[c]) for c in columns])
    return buf.getvalue()
