"""Read a plan (object or Plan JSON dict) into the rows every export writes."""

from __future__ import annotations

import math
from collections.abc import Mapping

from optimizer.periods import days_by_month, period_kind

from ..errors import ExportError

#: the CSV columns, one row per plan line (no totals row)
CSV_COLUMNS = (
    "network",
    "segment",
    "period",
    "spend",
    "expected_results",
    "cost_per_result",
    "marginal_cost_per_result",
)


def plan_dict(plan) -> dict:
    """Return the Plan JSON dict of ``plan`` (an object with ``to_dict()`` or a mapping).

    Anything else, or ``lines`` that is not a list, raises ExportError.
    """
    if hasattr(plan, "to_dict") and not isinstance(plan, Mapping):
        plan = plan.to_dict()
    if not isinstance(plan, Mapping):
        raise ExportError(
            f"cannot export a {type(plan).__name__}: expected a Plan or its JSON dict"
        )
    if not isinstance(plan.get("lines", []), list):
        raise ExportError("plan: 'lines' must be a list of plan lines")
    return dict(plan)


def number(value) -> float | None:
    """Return ``value`` as a finite float, or None for missing / infinite / non-numeric values.

    Booleans are not numbers here.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def cost_per_result(spend, results) -> float | None:
    """Return spend / results, or None when either is not a number or results are not > 0."""
    s, r = number(spend), number(results)
    if s is None or r is None or r <= 0:
        return None
    return s / r


def plan_rows(plan) -> list[dict]:
    """Return one dict per plan line with the CSV columns (numbers as floats or None)."""
    d = plan_dict(plan)
    rows = []
    for i, ln in enumerate(d.get("lines") or []):
        if not isinstance(ln, Mapping):
            raise ExportError(f"plan: lines[{i}] must be an object")
        spend = number(ln.get("spend")) or 0.0
        results = number(ln.get("expected_results")) or 0.0
        cpr = number(ln.get("cost_per_result"))
        rows.append(
            {
                "network": str(ln.get("network", "")),
                "segment": str(ln.get("segment", "")),
                "period": str(ln.get("period", "")),
                "spend": spend,
                "expected_results": results,
                "cost_per_result": cpr if cpr is not None else cost_per_result(spend, results),
                "marginal_cost_per_result": number(ln.get("marginal_cost_per_result")),
            }
        )
    return rows


def totals(plan) -> dict:
    """Return the budget, spend, results and cost per result of the whole plan.

    Spend and results missing from the plan are summed from its lines; ``status``,
    ``currency`` and ``result_type`` come along.
    """
    d = plan_dict(plan)
    rows = plan_rows(d)
    spend = number(d.get("total_spend"))
    results = number(d.get("expected_results"))
    if spend is None:
        spend = sum(r["spend"] for r in rows)
    if results is None:
        results = sum(r["expected_results"] for r in rows)
    cpr = number(d.get("cost_per_result"))
    return {
        "status": str(d.get("status", "")),
        "budget": number(d.get("budget")),
        "total_spend": spend,
        "expected_results": results,
        "cost_per_result": cpr if cpr is not None else cost_per_result(spend, results),
        "currency": str(d.get("currency", "") or ""),
        "result_type": str(d.get("result_type", "") or ""),
    }


def pivot(rows: list[dict], value: str = "spend", by: str = "network") -> tuple[list, list, dict]:
    """Pivot rows into (keys, periods, {(key, period): total of ``value``}).

    The key is the ``by`` column, or (network, segment) when ``by`` is "line".
    """
    keys: dict = {}
    periods: dict = {}
    cells: dict = {}
    for r in rows:
        k = (r["network"], r["segment"]) if by == "line" else r[by]
        keys[k] = None
        periods[r["period"]] = None
        cells[(k, r["period"])] = cells.get((k, r["period"]), 0.0) + (r[value] or 0.0)
    return sorted(keys), sorted(periods), cells


def weekly_to_monthly(rows: list[dict]) -> list[dict] | None:
    """Roll the weekly lines up into calendar months; None if the periods are not weeks.

    An ISO week that straddles two months is split by its days (4 days in March, 3 in April:
    4/7 and 3/7 of its spend), which assumes even delivery within the week. Only ``spend``
    and ``expected_results`` are carried; the months add up to the weeks.
    """
    if not rows or not all(period_kind(r["period"]) == "week" for r in rows):
        return None
    out: dict[tuple[str, str, str], dict] = {}
    for r in rows:
        for month, n in days_by_month(r["period"]).items():
            key = (r["network"], r["segment"], month)
            acc = out.setdefault(
                key,
                {
                    "network": key[0],
                    "segment": key[1],
                    "period": month,
                    "spend": 0.0,
                    "expected_results": 0.0,
                },
            )
            acc["spend"] += (r.get("spend") or 0.0) * n / 7
            acc["expected_results"] += (r.get("expected_results") or 0.0) * n / 7
    return [out[k] for k in sorted(out)]
