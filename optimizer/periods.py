"""Parse and build period labels (ISO weeks, months and days) and the plan dates users type.

The one place that knows the labels: ISO weeks ``2027-W03``, months ``2027-01`` and days
``2027-01-04``; and the one parser of a day a user types (:func:`plan_day`): the ``--from``,
``--to`` and ``--as-of`` of every command, a scenario file's ``from`` and ``to``, the HTTP
bodies' ``from``, ``to`` and history ``date``.

Standard library only (and the optimizer's errors), so every layer (forecasting, scenarios,
service, cli) can use it.
"""

from __future__ import annotations

import datetime as dt
import re

from .errors import OptimizerError

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


# -- plan dates ------------------------------------------------------------------------------

#: the first and last day a plan may name (and a history may hold)
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
#: the day every "write it as YYYY-MM-DD" message shows
DATE_EXAMPLE = "2027-01-04"
#: text that starts like a date, with a year of any length: its year is checked first
_LEADING_YEAR = re.compile(r"([+-]?[0-9]{1,40})-[0-9]{1,2}-[0-9]{1,2}")
#: the most characters of a refused value a message shows
_SHOWN = 60


class PlanDateError(OptimizerError, ValueError):
    """A day a user typed is not YYYY-MM-DD, or not within ``FIRST_DAY..LAST_DAY``."""


def plan_day(value: object, what: str | None = None, *, check_range: bool = True) -> dt.date:
    """Return the day ``value`` names: text ``YYYY-MM-DD`` (spaces around it allowed) or a date.

    A :class:`datetime.date` or :class:`datetime.datetime` (a pandas ``Timestamp`` too) is
    taken as it is (a datetime's day). Anything else, such as ``01/02/2027``, ``20270102``,
    ``2027-W01-1``, ``2027-01-02T00:00:00Z`` or a number, and any day outside
    ``FIRST_DAY..LAST_DAY``, is a :class:`PlanDateError` naming ``what`` (an option or a
    field, e.g. ``--from``; None: the value alone) and the value, with an example.

    ``check_range=False`` leaves the range of a real day to the caller (a history row's date:
    ``forecasting``'s history reader refuses it with the message it gives for a file); a year
    no date can hold (``0000``, ``99999``) is refused here all the same.
    """
    years = (FIRST_DAY.year, LAST_DAY.year) if check_range else (dt.MINYEAR, dt.MAXYEAR)
    day = _day_of(value, what, years)
    if check_range and not FIRST_DAY <= day <= LAST_DAY:
        raise _out_of_range(day.isoformat(), what)
    return day


def _day_of(value: object, what: str | None, years: tuple[int, int]) -> dt.date:
    """Return the day of a date, a datetime or YYYY-MM-DD text (its year checked first)."""
    if isinstance(value, dt.datetime):
        day = value.date() if value == value else None  # NaT is not equal to itself
        if isinstance(day, dt.date):
            return day
    elif isinstance(value, dt.date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        m = _LEADING_YEAR.match(text)
        if m and not years[0] <= int(m.group(1)) <= years[1]:
            raise _out_of_range(text, what)
        if DAY.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:  # 2027-02-30
                pass
        value = text
    raise _not_a_date(value, what)


def _subject(what: str | None, shown: str) -> str:
    return f"the {what} date {shown}" if what else shown


def _not_a_date(value: object, what: str | None) -> PlanDateError:
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN] + "..."
    return PlanDateError(
        f"{_subject(what, shown)} is not a date: write it as YYYY-MM-DD, e.g. {DATE_EXAMPLE}"
    )


def _out_of_range(text: str, what: str | None) -> PlanDateError:
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "..."
    return PlanDateError(
        f"{_subject(what, text)} is outside {FIRST_DAY}..{LAST_DAY}, the dates adplan plans "
        "and reads history for: check the year"
    )
