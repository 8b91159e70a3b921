"""A re-plan for finance: plan, actual and re-plan side by side, and the budget as set.

A re-plan's Plan JSON (``adplan replan``, :meth:`scenarios.replan.ReplanResult.to_dict`)
carries a ``replan`` section. These functions read it into the rows every export of a
re-plan writes:

- :func:`replan_lines`: one row per line and period (:data:`REPLAN_COLUMNS`), then one row
  per off-plan spend item (status ``off-plan``, planned 0): the actual and re-planned spend
  columns add up to all the money spent and planned, off-plan spend included;
- :func:`replan_periods`: the same money and results summed per period;
- :func:`replan_budget`: the budget as the user set it, split into the actual spend on plan
  lines, the off-plan spend (its own line), the re-planned spend still to come and what is
  left unspent; they add up to the budget as set.

The elapsed periods' results are actual results where the actuals carry them (the re-plan's
lines hold them, their forecast beside as ``forecast_results``). Numbers stay exact: round
only for display (the XLSX and HTML round by largest remainder so lines add to totals).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..money import round_half, round_to, round_to_total
from .plan import ExportError, number, plan_dict

#: the columns of a re-plan's lines (the CSV's header, the XLSX table's machine names)
REPLAN_COLUMNS = (
    "network",
    "segment",
    "period",
    "status",
    "planned_spend",
    "actual_spend",
    "replanned_spend",
    "spend_variance",
    "planned_results",
    "actual_results",
    "replanned_results",
    "results_variance",
)

#: the money and results columns, summed per period
FIGURES = REPLAN_COLUMNS[4:]

#: the status of the rows of off-plan spend
OFF_PLAN = "off-plan"

#: the sheet the XLSX shows a re-plan on
SHEET = "Plan vs actual"


def is_replan(plan) -> bool:
    """Say whether ``plan`` (a Plan, a re-plan result or a Plan JSON dict) is a re-plan."""
    try:
        return isinstance(plan_dict(plan).get("replan"), Mapping)
    except ExportError:
        return False


def _section(plan) -> dict:
    """Return the plan's ``replan`` section; ExportError when it has none or is malformed.

    Its ``rows`` and ``off_plan`` must be lists of objects (missing or null: none), and an
    off-plan item's ``spend`` a number (:func:`_objects`).
    """
    r = plan_dict(plan).get("replan")
    if not isinstance(r, Mapping):
        raise ExportError("plan: not a re-plan (no 'replan' section; made by adplan replan)")
    _objects(r, "rows")
    for i, item in enumerate(_objects(r, "off_plan")):
        if number(item.get("spend")) is None:
            raise ExportError(
                f"plan: replan.off_plan[{i}].spend is {item.get('spend')!r}, not a number; "
                "export the re-plan JSON `adplan replan --out` wrote"
            )
    return dict(r)


def _objects(sec: Mapping, key: str) -> list[Mapping]:
    """Return ``sec[key]`` as a list of objects ([] when missing or null); else ExportError."""
    items = sec.get(key)
    if items is None:
        return []
    again = "export the re-plan JSON `adplan replan --out` wrote"
    if not isinstance(items, list):
        raise ExportError(
            f"plan: replan.{key} is {type(items).__name__} {items!r:.40}, not a list; {again}"
        )
    for i, x in enumerate(items):
        if not isinstance(x, Mapping):
            raise ExportError(f"plan: replan.{key}[{i}] is {x!r:.40}, not an object; {again}")
    return items


def _minus(a, b) -> float | None:
    """Return a - b (None when a is None; b None counts 0)."""
    x = number(a)
    return None if x is None else x - (number(b) or 0.0)


def _off_plan_by_line(items) -> dict[tuple, dict]:
    """Return the off-plan spend and results summed per (network, segment, period)."""
    out: dict[tuple, dict] = {}
    for it in items:
        key = (str(it.get("network", "")), str(it.get("segment", "")), str(it.get("period", "")))
        t = out.setdefault(key, {"spend": 0.0, "results": 0.0})
        t["spend"] += number(it.get("spend")) or 0.0
        t["results"] += number(it.get("actual_results")) or 0.0
    return out


def replan_lines(plan) -> list[dict]:
    """Return one row per line and period, then one per off-plan item (:data:`REPLAN_COLUMNS`).

    A line's actual spend and results are those the plan holds (a line whose spend went
    above its curve shows the excess on an off-plan row); open periods have no actuals
    (None). An off-plan row: planned 0, its actual and re-planned spend the money spent,
    its actual results what that spend brought (None where the actuals carry none), which
    are also its re-planned results (the re-planned spend counts that spend: one basis).
    """
    sec = _section(plan)
    items = [dict(x) for x in sec.get("off_plan") or []]
    off = _off_plan_by_line(items)
    out = []
    for r in sec.get("rows") or []:
        key = (str(r.get("network", "")), str(r.get("segment", "")), str(r.get("period", "")))
        o = off.get(key, {})
        planned, replanned = number(r.get("planned")) or 0.0, number(r.get("replanned")) or 0.0
        out.append(
            {
                "network": key[0],
                "segment": key[1],
                "period": key[2],
                "status": str(r.get("status", "")),
                "planned_spend": planned,
                "actual_spend": _minus(r.get("actual"), o.get("spend")),
                "replanned_spend": replanned,
                "spend_variance": replanned - planned,
                "planned_results": number(r.get("planned_results")),
                "actual_results": _minus(r.get("actual_results"), o.get("results")),
                "replanned_results": number(r.get("replanned_results")),
                "results_variance": number(r.get("results_over_under_plan")),
            }
        )
    return out + [_off_plan_row(it) for it in items]


def _off_plan_row(item: Mapping) -> dict:
    """Return the row of one off-plan spend item (see :func:`replan_lines`)."""
    spend = number(item.get("spend")) or 0.0
    return {
        "network": str(item.get("network", "")),
        "segment": str(item.get("segment", "")),
        "period": str(item.get("period", "")),
        "status": OFF_PLAN,
        "planned_spend": 0.0,
        "actual_spend": spend,
        "replanned_spend": spend,
        "spend_variance": spend,
        "planned_results": 0.0,
        "actual_results": number(item.get("actual_results")),
        # the spend counts in the re-planned spend, so its results count in the re-planned
        # results (the same basis: a period's re-planned cost per result is true)
        "replanned_results": number(item.get("actual_results")),
        "results_variance": number(item.get("actual_results")),
    }


def replan_periods(plan) -> list[dict]:
    """Return per period (in order) the sums of :func:`replan_lines`' money and results.

    Each row: ``period``, ``status`` (the period's lines'; ``off-plan`` for a period only
    off-plan spend falls in) and the keys of :data:`FIGURES`; a figure no row of the period
    has (an open period's actuals) is None. Off-plan rows count in their period, so the
    periods add up to the lines.
    """
    out: dict[str, dict] = {}
    for r in replan_lines(plan):
        t = out.setdefault(r["period"], {"period": r["period"], "status": r["status"]})
        if t["status"] == OFF_PLAN:
            t["status"] = r["status"]
        for k in FIGURES:
            if r[k] is not None:
                t[k] = (t.get(k) or 0.0) + r[k]
            else:
                t.setdefault(k, None)
    return [out[p] for p in sorted(out)]


#: the items of the budget, in order (:func:`replan_budget`)
BUDGET_ITEMS = (
    "budget as set",
    "actual spend on plan lines",
    "off-plan spend",
    "re-planned spend still to come",
    "left unspent",
)


def replan_budget(plan) -> list[dict]:
    """Return the budget as set and where it goes: rows ``{"item", "amount"}``.

    The budget as the user set it (the spec's, ``budget_as_set``), then the actual spend on
    the plan's lines, the off-plan spend (its own line), the re-planned spend still to come
    (the re-plan's spend less the actual spend on its lines) and what is left unspent: those
    four add up to the budget as set (left unspent is negative when more was spent).
    """
    d = plan_dict(plan)
    sec = _section(d)
    off = number(sec.get("off_plan_spend")) or 0.0
    budget = number(sec.get("budget_as_set"))
    if budget is None:  # a re-plan written before budget_as_set: the optimised one + off-plan
        budget = (number(d.get("budget")) or 0.0) + off
    lines = [r for r in replan_lines(d) if r["status"] != OFF_PLAN]
    actual = math.fsum(r["actual_spend"] or 0.0 for r in lines)
    replanned = math.fsum(r["replanned_spend"] for r in lines)
    to_come = replanned - actual
    left = budget - math.fsum((actual, off, to_come))
    amounts = (budget, actual, off, to_come, left)
    return [{"item": k, "amount": v} for k, v in zip(BUDGET_ITEMS, amounts, strict=True)]


def replan_csv_text(plan) -> str:
    """Return the re-plan's lines as CSV: :data:`REPLAN_COLUMNS`, then a row per line.

    One row per line and period, then one per off-plan spend item (:func:`replan_lines`);
    no totals row (the columns add up). RFC 4180 with CRLF, numbers exact (the shortest
    form that reads back the same float), open periods' actuals empty cells.
    """
    from .tabular import rows_csv_text

    return rows_csv_text(REPLAN_COLUMNS, replan_lines(plan))


#: (planned, re-planned, variance) of money and of results: shown so that variance is
#: re-planned less planned, row by row, and every column adds up
_TRIPLES = (
    ("planned_spend", "replanned_spend", "spend_variance"),
    ("planned_results", "replanned_results", "results_variance"),
)


def replan_shown(plan) -> tuple[list[dict], list[dict], list[dict]]:
    """Return :func:`replan_budget`, :func:`replan_periods` and :func:`replan_lines` as shown.

    Rounded for display to the decimals of each figure's kind (:func:`.people.decimals`:
    money in cents, results in tenths) so that what is shown adds up: the budget's items
    to the budget as set; each period column to its rounded total (largest remainder); each
    period's lines to the period's shown figure. The planned figure and the variance are
    rounded so (the variance from its exact value: an unchanged line shows 0), and the
    re-planned figure shown is their sum. The XLSX and the HTML show these.
    """
    budget = replan_budget(plan)
    parts = round_to([b["amount"] for b in budget[1:]], budget[0]["amount"])
    budget = [{**budget[0], "amount": round_half(budget[0]["amount"])}] + [
        {**b, "amount": a} for b, a in zip(budget[1:], parts, strict=True)
    ]
    from .people import decimals  # the one place for the decimals shown (openpyxl: lazily)

    periods, lines = replan_periods(plan), replan_lines(plan)
    for key in ("actual_spend", "actual_results"):
        _round_nested(periods, lines, key, decimals(key))
    for old, new, var in _TRIPLES:
        _round_triple(periods, lines, (old, new, var), decimals(old))
    return budget, periods, lines


def _round_nested(periods: list[dict], lines: list[dict], key: str, digits: int) -> None:
    """Round ``key`` of the periods to their rounded total, then each period's lines to it.

    Where the periods' total should be another than their own (a re-planned column shown as
    planned + variance) the caller rounds the periods first and passes ``periods`` done.
    """
    known = [p for p in periods if p[key] is not None]
    for p, v in zip(known, round_to_total([p[key] for p in known], digits), strict=True):
        p[key] = v
    _round_lines(periods, lines, key, digits)


def _round_lines(periods: list[dict], lines: list[dict], key: str, digits: int) -> None:
    """Round each period's lines' ``key`` to the period's shown figure (largest remainder)."""
    for p in periods:
        if p[key] is None:
            continue
        members = [r for r in lines if r["period"] == p["period"] and r[key] is not None]
        shown = round_to([r[key] for r in members], p[key], digits)
        for r, v in zip(members, shown, strict=True):
            r[key] = v


def _round_triple(periods: list[dict], lines: list[dict], keys: tuple, digits: int) -> None:
    """Show planned, re-planned and variance so that variance = re-planned - planned.

    The variance is computed exactly first (None where either side is unknown); planned and
    variance are rounded as :func:`_round_nested` does, the variances' total to the shown
    re-planned total less the shown planned one; the re-planned figure is then their sum.
    """
    old, new, var = keys
    for r in (*periods, *lines):
        both = r[old] is not None and r[new] is not None
        r[var] = r[new] - r[old] if both else None
    exact_new = math.fsum(p[new] for p in periods if p[new] is not None)
    exact_old = math.fsum(p[old] for p in periods if p[old] is not None)
    _round_nested(periods, lines, old, digits)
    target = round_half(exact_new, digits) - round_half(exact_old, digits)
    known = [p for p in periods if p[var] is not None]
    for p, v in zip(known, round_to([p[var] for p in known], target, digits), strict=True):
        p[var] = v
    _round_lines(periods, lines, var, digits)
    for r in (*periods, *lines):
        if r[var] is not None:
            r[new] = round_half(r[old] + r[var], digits)
        elif r[new] is not None:
            r[new] = round_half(r[new], digits)


#: the tables of the re-plan's sheets: name, columns (rows from :func:`replan_shown`) and the
#: sheet each is on: the lines, a long table, on a sheet of their own
_TABLES = (
    ("ReplanPeriods", ("period", "status", *FIGURES), SHEET),
    ("ReplanLines", REPLAN_COLUMNS, f"{SHEET} by line"),
)


def write_replan_sheets(wb, plan) -> None:
    """Add the sheets "Plan vs actual" and "Plan vs actual by line" to the workbook ``wb``.

    "Plan vs actual": ``ReplanBudget`` (:func:`replan_budget`) and ``ReplanPeriods``
    (:func:`replan_periods`); "Plan vs actual by line": ``ReplanLines``
    (:func:`replan_lines`), alone on its sheet so that its header heads every printed
    page. Each table under a title, written with :func:`.xlsx.add_table` (machine column
    names; it shows them in words and formats them), rounded as :func:`replan_shown` says.
    """
    from .xlsx import add_table, put

    d = plan_dict(plan)
    sec = _section(d)
    ws = wb.create_sheet(SHEET)
    title = f"Plan vs actual as of {sec.get('as_of', '')} ({d.get('currency') or ''})"
    put(ws, 1, 1, title)
    budget, periods, lines = replan_shown(d)
    rows = [[r["item"], r["amount"]] for r in budget]
    last, _ = add_table(ws, "ReplanBudget", ("item", "amount"), rows, row=3)
    for (name, columns, sheet), shown in zip(_TABLES, (periods, lines), strict=True):
        if sheet != ws.title:
            ws, last = wb.create_sheet(sheet), 0
            put(ws, 1, 1, title)
        put(ws, last + 2, 1, _TITLES[name])
        body = [[r.get(k) for k in columns] for r in shown]
        last, _ = add_table(ws, name, columns, body, row=last + 3)


#: the title above each table of the sheets
_TITLES = {
    "ReplanPeriods": "By period: plan, actual and re-plan",
    "ReplanLines": "By line and period (elapsed: locked at actual spend and results)",
}
