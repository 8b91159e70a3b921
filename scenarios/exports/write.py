"""``write_plan``: one plan to a file, the format chosen by the suffix."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .plan import ExportError, plan_dict
from .tabular import plan_csv_text

SUFFIXES = (".json", ".csv", ".xlsx", ".html")


def write_plan(plan, path) -> Path:
    """Write ``plan`` (a Plan or its JSON dict) to ``path`` as JSON, CSV, XLSX or HTML.

    The parent folder is created. An unknown suffix raises :class:`ExportError` naming the
    ones that work. Returns the path written.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise ExportError(
            f"{p}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
            f"use one of {', '.join(SUFFIXES)}"
        )
    d = plan_dict(plan)
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        text = json.dumps(json_safe(d), indent=2, allow_nan=False)
        p.write_text(text + "\n", encoding="utf-8")
    elif suffix == ".csv":
        p.write_text(plan_csv_text(d), encoding="utf-8", newline="")
    elif suffix == ".xlsx":
        from .xlsx import plan_xlsx_bytes

        p.write_bytes(plan_xlsx_bytes(d))
    else:
        from .html import plan_html_text

        p.write_text(plan_html_text(d), encoding="utf-8")
    return p


def json_safe(o):
    """``o`` with infinite or NaN floats as None and numpy scalars as Python numbers."""
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [json_safe(v) for v in o]
    if hasattr(o, "to_dict") and not isinstance(o, str):
        return json_safe(o.to_dict())
    if hasattr(o, "item") and not isinstance(o, str | bytes):  # numpy scalars
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if o is None or isinstance(o, str | int | float | bool):
        return o
    return str(o)
