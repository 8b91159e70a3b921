"""The plan as CSV: one row per line, no totals row, text neutralised.

A re-plan (a Plan JSON with a ``replan`` section) is written as its lines of plan, actual
and re-plan (:func:`.replan.replan_csv_text`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from .cells import neutralise_cell
from .plan import csv_columns, plan_dict, plan_rows
from .replan import is_replan, replan_csv_text


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
    (:func:`~.plan.csv_columns`; empty cells where a line has none). A re-plan's CSV is
    its plan-vs-actual lines instead (:func:`.replan.replan_csv_text`).
    """
    d = plan_dict(plan)
    if is_replan(d):
        return replan_csv_text(d)
    return rows_csv_text(csv_columns(d), plan_rows(d))


def rows_csv_text(columns: Sequence[str], rows: Iterable[Mapping]) -> str:
    """Return ``rows`` (mappings holding ``columns``) as CSV text with a header (RFC 4180, CRLF).

    Numbers exact (the shortest form that reads back to the same float), None an empty
    cell, text neutralised (a cell a spreadsheet would run as a formula is quoted).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; also quotes a field holding \r or \n
    w.writerow(columns)
    for row in rows:
        w.writerow([_fmt(row[c]) for c in columns])
    return buf.getvalue()
