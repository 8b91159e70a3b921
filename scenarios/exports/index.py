"""A batch's index: one row per account and scenario, as CSV and as a workbook.

``write_index(out, rows)`` writes ``out/index.csv`` (machine column names,
``scenarios.batch.INDEX_COLUMNS``, full precision, as ``plan.csv``; text a spreadsheet would
run as a formula, an account named ``=cmd``, made inert as in every export) and
``out/index.xlsx`` (the same rows for people: headers in words, money and results formatted,
the accounts without a plan again on a sheet of their own).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

#: the index's money columns (in each row's own currency: accounts may differ)
_MONEY = ("budget", "total_spend", "cost_per_result")
_RESULTS = ("expected_results", "results_p10", "results_p90")


def index_csv_text(rows: Sequence) -> str:
    """Return the index as CSV text (RFC 4180), one row per account and scenario."""
    from ..batch import INDEX_COLUMNS
    from .cells import neutralise_cell

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(INDEX_COLUMNS)
    for r in rows:
        d = r.to_dict()
        w.writerow(["" if d[k] is None else neutralise_cell(d[k]) for k in INDEX_COLUMNS])
    return buf.getvalue()


def index_xlsx_bytes(rows: Sequence) -> bytes:
    """Return the index as a workbook: "Accounts" (every row) and "Failed" (rows with no plan)."""
    from openpyxl import Workbook

    from ..batch import INDEX_COLUMNS
    from .people import finish_workbook
    from .xlsx import add_table, workbook_bytes

    wb = Workbook()
    ws = wb.active
    ws.title = "Accounts"
    formats = {k: "#,##0.00" for k in _MONEY} | {k: "#,##0.0" for k in _RESULTS}
    formats["seconds"] = "0.0"
    table = [[r.to_dict()[k] for k in INDEX_COLUMNS] for r in rows]
    add_table(ws, "Accounts", INDEX_COLUMNS, table, formats=formats)
    bad = [t for t, r in zip(table, rows, strict=True) if r.status != "ok"]
    if bad:
        add_table(wb.create_sheet("Failed"), "Failed", INDEX_COLUMNS, bad, formats=formats)
    finish_workbook(wb)
    return workbook_bytes(wb)


def write_index(out: Path, rows: Sequence) -> dict[str, Path]:
    """Write ``out/index.csv`` and ``out/index.xlsx``; return their paths."""
    csv_path = out / "index.csv"
    csv_path.write_text(index_csv_text(rows), encoding="utf-8", newline="")
    xlsx_path = out / "index.xlsx"
    xlsx_path.write_bytes(index_xlsx_bytes(rows))
    return {"csv": csv_path, "xlsx": xlsx_path}
