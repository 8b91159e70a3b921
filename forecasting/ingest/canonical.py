"""adplan's own canonical history CSV (see :mod:`forecasting.history`).

Detected when the header holds the six required columns (``date, network, segment,
result_type, spend, results``) and nothing outside the canonical ten; a header with three of
the required columns or more that no other format reads is taken as canonical too, so that
the missing or misspelt column is named. Rows are taken as they
are: no row is skipped (a week of zero spend is information here) and duplicates are an
error, as :func:`forecasting.history.validate_history` says.
"""

from __future__ import annotations

import difflib

import numpy as np

from forecasting.errors import IngestError
from forecasting.history import CANONICAL_COLUMNS, REQUIRED_COLUMNS
from forecasting.ingest._base import Extract, Keep
from forecasting.ingest._table import RawTable, norm_header

NAME = "canonical"
LABEL = "adplan canonical history CSV"
DETECT = "date, network, segment, result_type, spend, results (+ optional columns)"


def matches(norm: list[str]) -> bool:
    """Return whether a header has the required columns and nothing outside the canonical ten."""
    cols = [h for h in norm if h]
    return set(REQUIRED_COLUMNS) <= set(cols) and set(cols) <= set(CANONICAL_COLUMNS)


def looks_canonical(norm: list[str]) -> bool:
    """Return whether a header is meant as canonical history but is not quite.

    That is, a column is missing or misspelt: three of the required columns or more. Tried
    only when no format matches, so that the missing column is reported by name instead of
    "unknown format".
    """
    return "__insert_date" not in norm and len(set(REQUIRED_COLUMNS) & set(norm)) >= 3


def _refuse_unknown_columns(table: RawTable) -> None:
    """Refuse a column outside the canonical ten.

    A column without a header and without a value is no column (a workbook's formatted
    empty cells); one without a header that holds values is named by its position.
    """
    extra = [
        i
        for i, n in enumerate(table.norm)
        if n not in CANONICAL_COLUMNS and (n or not table.is_empty(i))
    ]
    if extra:
        shown = [
            repr(table.header[i])
            if table.norm[i]
            else f"a column without a header (column {i + 1})"
            for i in extra[:5]
        ]
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        raise IngestError(
            f"{table.name}: unknown column(s) {', '.join(shown)}{more} in the canonical "
            f"history header on {table.where} {table.header_line}; the canonical columns are "
            + ", ".join(CANONICAL_COLUMNS),
            file=table.name,
            line=table.header_line,
            column=table.header[extra[0]],
        )


def extract(table: RawTable) -> Extract:  # noqa: C901 (long: not split yet)
    """Read every row of a canonical history table as it is (nothing skipped).

    A missing, misspelt or unknown column is an IngestError naming it; numbers use a
    decimal point and dates are ``YYYY-MM-DD``; empty dates, spend or results are errors.
    """
    missing = [name for name in REQUIRED_COLUMNS if table.find(name) is None]
    if missing:
        found = [h.strip() for h, n in zip(table.header, table.norm, strict=True) if n]
        unknown = [h for h, n in zip(table.header, table.norm, strict=True)
                   if n and n not in CANONICAL_COLUMNS]  # fmt: skip
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, [norm_header(h) for h in unknown], n=1)
            if close:
                hints.append(f'"{close[0]}" for "{name}"?')
        names = ", ".join(f'"{m}"' for m in missing)
        raise IngestError(
            f"{table.name}: missing column{'s' if len(missing) > 1 else ''} {names} in the "
            f"canonical history header on {table.where} {table.header_line}; found: "
            + ", ".join(f'"{h}"' for h in found)
            + (f" (a typo? {' '.join(hints)})" if hints else "")
            + ". The canonical columns are "
            + ", ".join(CANONICAL_COLUMNS)
            + f" (the first {len(REQUIRED_COLUMNS)} required)",
            file=table.name,
            line=table.header_line,
            column=missing[0],
        )
    _refuse_unknown_columns(table)
    table.decimal = "."  # adplan writes plain numbers with a decimal point
    table.decimal_reason = "as the canonical history requires"
    keep = Keep(len(table))
    columns = {}
    for name in CANONICAL_COLUMNS:
        c = table.find(name)
        if c is None:
            continue
        if name == "date":
            d = table.date(c, ["%Y-%m-%d"])
            missing = d.isna().to_numpy()
            if missing.any():
                raise table.error(int(np.flatnonzero(missing)[0]), c, "the date is empty")
            columns[name] = d
        elif name in ("spend", "results", "impressions", "clicks"):
            v = table.number(c, what=name)
            if name in ("spend", "results") and v.isna().any():
                pos = int(np.flatnonzero(v.isna().to_numpy())[0])
                raise table.error(pos, c, f"the {name} is missing (write 0 for none)")
            columns[name] = v
        else:
            t = table.raw(c).str.strip()
            columns[name] = t.where(t != "", np.nan) if name in ("currency", "campaign") else t
    return keep.build(columns)
