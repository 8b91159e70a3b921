"""Parse and build period labels: ISO weeks, months and days.

The one place that knows the labels: ISO weeks ``2027-W03``, months ``2027-01`` and days
``2027-01-04``.

Standard library only, so every layer (forecasting, scenarios, service) can use it.
"""

from __future__ import annotations

import datetime as dt
import re

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def period_kind(label: str) -> str | None:
    """Return the kind of a period label: ``"week"``, ``"month"``, ``"day"`` or None.

    None means the label has none of the known forms.
    """
    for kind, pattern in (("week", WEEK), ("month", MONTH), ("day", DAY)):
        if pattern.match(str(label)):
            return kind
    return None


def period_label(day: dt.date, kind: str) -> str:
    """Return the label of the ``kind`` period ("week", "month" or "day") holding ``day``."""
    if kind == "week":
        y, w, _ = day.isocalendar()
        return f"{y:04d}-W{w:02d}"
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "day":
        return day.isoformat()
    raise ValueError(f"unknown period kind {kind!r}: use week, month or day")


def period_bounds(label: str) -> tuple[dt.date, dt.date]:
    """Return (first day, the day after the last) of a period label.

    Raises ValueError if the label has no known form.
    """
    label = str(label)
    m = WEEK.match(label)
    if m:
        start = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        return start, start + dt.timedelta(days=7)
    m = MONTH.match(label)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return dt.date(y, mo, 1), dt.date(y + (mo == 12), mo % 12 + 1, 1)
    if DAY.match(label):
        start = dt.date.fromisoformat(label)
        return start, start + dt.timedelta(days=1)
    raise ValueError(
        f"period {label!r} is neither an ISO week (2027-W03), a month (2027-01) nor a day (2027-01-04)"
    )


def days_by_month(label: str) -> dict[str, int]:
    """Count the days of the period that fall in each calendar month.

    For example ``{"2027-03": 3, "2027-04": 4}`` for a week spanning two months.
    """
    start, end = period_bounds(label)
    out: dict[str, int] = {}
    day = start
    while day < end:
        key = period_label(day, "month")
        out[key] = out.get(key, 0) + 1
        day += dt.timedelta(days=1)
    return out
