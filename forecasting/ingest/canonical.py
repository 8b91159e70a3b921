"""adplan's own canonical history CSV (see :mod:`forecasting.history`).

Detected when the header holds the six required columns (``date, network, segment,
result_type, spend, results``) and nothing outside the canonical ten. Rows are taken as they
are: no row is skipped (a week of zero spend is information here) and duplicates are an
error, as :func:`forecasting.history.validate_history` says.
"""

from __future__ import annotations

import numpy as np

from forecasting.errors import IngestError
from forecasting.history import CANONICAL_COLUMNS, REQUIRED_COLUMNS
from forecasting.ingest._base import Extract, Keep
from forecasting.ingest._table import RawTable

NAME = "canonical"
LABEL = "adplan canonical history CSV"
DETECT = "date, network, segment, result_type, spend, results (+ optional columns)"
SKIP_ZERO = False


def matches(norm: list[str]) -> bool:
    cols = [h for h in norm if h]
    return set(REQUIRED_COLUMNS) <= set(cols) and set(cols) <= set(CANONICAL_COLUMNS)


def extract(table: RawTable) -> Extract:
    for name in REQUIRED_COLUMNS:
        table.need(name, name, fmt="canonical history")
    extra = [h for h, n in zip(table.header, table.norm, strict=True) if n not in CANONICAL_COLUMNS]
    if extra:
        raise IngestError(
            f"{table.name}: unknown column(s) {', '.join(repr(h) for h in extra)} in the "
            f"canonical history header on line {table.header_line}; the canonical columns are "
            + ", ".join(CANONICAL_COLUMNS),
            file=table.name,
            line=table.header_line,
            column=extra[0],
        )
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
    return keep.build(table, columns)
