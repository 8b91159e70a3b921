"""The previous period's actual spend and results: what a plan's report compares it with.

**The previous period** of a plan is the days just before its first day, as many as the plan
covers (its first to its last day, both included). A 13-week plan from Monday 2027-01-04 to
Sunday 2027-04-04 (91 days) is compared with 2026-10-05 .. 2027-01-03, the 91 days before;
a plan for March (31 days) with the 31 days before March 1st. A history row counts when its
date falls in that window: weekly rows dated on their Monday count whole, so a weekly plan
that starts on a Monday lines up with weekly history. Only rows of the plan's result type
count (a canonical history repeats its spend on each result type's row), and spend and
results are summed exactly, per network and per segment too.

Use: ``plan["previous"] = previous_period(history, plan)`` before ``write_plan``, or
``previous_actuals(history, first_day, last_day, result_type)``. ``history`` is the
canonical DataFrame of ``forecasting.load_history`` (columns ``date``, ``network``,
``segment``, ``result_type``, ``spend``, ``results``...). The result is plain JSON.
"""

from __future__ import annotations

import datetime as dt
import math

from optimizer.periods import period_bounds

from .errors import ExportError
from .exports.plan import plan_dict

#: the history columns the previous period is read from
COLUMNS = ("date", "network", "segment", "result_type", "spend", "results")


def _day(value, what: str) -> dt.date:
    """Return ``value`` (a date, a datetime, a Timestamp or ISO text) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ExportError(f"{what} {value!r} is not a date: write it as YYYY-MM-DD") from None


def previous_window(first_day, last_day) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the previous period of a plan (see the module).

    The days just before ``first_day``, as many as ``first_day`` to ``last_day`` holds.
    """
    first, last = _day(first_day, "first day"), _day(last_day, "last day")
    if last < first:
        raise ExportError(f"the plan's last day {last} is before its first day {first}")
    days = (last - first).days + 1
    return first - dt.timedelta(days=days), first - dt.timedelta(days=1)


def plan_days(plan) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a plan (a Plan or its JSON dict), from its periods."""
    bounds = []
    for ln in plan_dict(plan).get("lines") or []:
        try:
            bounds.append(period_bounds(str(ln.get("period"))))
        except ValueError:
            raise ExportError(
                f"plan line period {ln.get('period')!r}: the previous period needs ISO weeks "
                "(2027-W03), months (2027-01) or days (2027-01-04)"
            ) from None
    if not bounds:
        raise ExportError("the plan has no lines: it has no dates to compare with")
    return min(b[0] for b in bounds), max(b[1] for b in bounds) - dt.timedelta(days=1)


def _sums(rows, by: str) -> dict[str, dict[str, float]]:
    """Return the exact spend and results of ``rows`` per value of column ``by``."""
    out: dict[str, dict[str, float]] = {}
    for name, g in rows.groupby(by, sort=True):
        out[str(name)] = {"spend": _fsum(g["spend"]), "results": _fsum(g["results"])}
    return out


def _fsum(values) -> float:
    """Return the exact sum of the finite numbers of a column (missing ones count 0)."""
    return math.fsum(float(v) for v in values if v == v and math.isfinite(float(v)))


def previous_actuals(history, first_day, last_day, result_type: str) -> dict:
    """Return the actual spend and results of the previous period of a plan.

    ``first_day`` and ``last_day`` are the plan's first and last day (dates or YYYY-MM-DD);
    the window is :func:`previous_window`. Returns ``{"from", "to", "result_type",
    "currency", "rows", "first_row", "last_row", "total": {"spend", "results"},
    "networks": {name: {"spend", "results"}}, "segments": {...}}``: ``from`` and ``to`` the
    window (ISO days), ``rows`` how many history rows fell in it, ``first_row`` and
    ``last_row`` their first and last date (None without rows), ``currency`` the history's
    (None when it has no currency column or several). Zero rows is not an error: the totals
    are 0 and the report says so.
    """
    start, end = previous_window(first_day, last_day)
    missing = [c for c in COLUMNS if c not in history.columns]
    if missing:
        raise ExportError(f"history: missing columns {', '.join(missing)} (canonical history)")
    import pandas as pd

    dates = pd.to_datetime(history["date"])
    keep = (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
    keep &= history["result_type"].astype(str) == str(result_type)
    rows = history[keep]
    seen = dates[keep]
    currencies = sorted(set(rows["currency"].dropna().astype(str))) if "currency" in rows else []
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "result_type": str(result_type),
        "currency": currencies[0] if len(currencies) == 1 else None,
        "rows": len(rows),
        "first_row": None if rows.empty else seen.min().date().isoformat(),
        "last_row": None if rows.empty else seen.max().date().isoformat(),
        "total": {"spend": _fsum(rows["spend"]), "results": _fsum(rows["results"])},
        "networks": _sums(rows, "network"),
        "segments": _sums(rows, "segment"),
    }


def previous_period(history, plan) -> dict:
    """Return :func:`previous_actuals` for a plan (a Plan or its Plan JSON dict).

    The window is the one before the plan's first to last day (:func:`plan_days`), the
    result type the plan's.
    """
    d = plan_dict(plan)
    first, last = plan_days(d)
    return previous_actuals(history, first, last, str(d.get("result_type") or ""))


__all__ = ["plan_days", "previous_actuals", "previous_period", "previous_window"]
