"""``write_plan``: one plan to a file, the format chosen by the suffix."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from .plan import ExportError, plan_dict
from .tabular import plan_csv_text

SUFFIXES = (".json", ".csv", ".xlsx", ".html")


def write_plan(plan, path, *, curves=None) -> Path:
    """Write ``plan`` (a Plan or its JSON dict) to ``path`` as JSON, CSV, XLSX or HTML.

    ``curves`` (the plan's :class:`~optimizer.Curves`) add the labelled response curves to
    the HTML report; the previous period's actuals come from the plan dict's ``previous``
    (:mod:`scenarios.previous`).

    The parent folder is created. An unknown suffix raises :class:`ExportError` naming the
    ones that work. Returns the path written. A re-plan (a Plan JSON with a ``replan``
    section) is written for finance: its CSV is plan, actual and re-plan by line and period
    (:func:`.replan.replan_csv_text`), its XLSX and HTML add the plan-vs-actual tables.
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

        p.write_text(plan_html_text(d, curves=curves), encoding="utf-8")
    return p


_PLAIN = (str, int, bool, type(None))


def json_safe(obj):
    """Return a copy of ``obj`` that ``json.dumps(allow_nan=False)`` accepts.

    Non-finite floats become None; numpy scalars and arrays become Python numbers and lists;
    objects with ``to_dict()`` (a Plan, a report) their dict; dates ISO strings; tuples and
    sets lists; anything else its ``str``. Plain dicts, lists and numbers take a fast path:
    the service runs this over every plan it stores.
    """
    t = type(obj)
    if t is float:
        return obj if math.isfinite(obj) else None
    if t in _PLAIN:
        return obj
    if t is dict:
        return {k if type(k) is str else str(k): json_safe(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [json_safe(v) for v in obj]
    return _json_safe_other(obj)


def _json_safe_other(obj):
    if isinstance(obj, bool | str | int) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [json_safe(v) for v in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if callable(getattr(obj, "to_dict", None)):
        return json_safe(obj.to_dict())
    tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return json_safe(tolist())
    return str(obj)
