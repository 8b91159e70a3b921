"""Read a plan (object or Plan JSON dict) into the rows every export writes."""

from __future__ import annotations

import math
from collections.abc import Mapping

from optimizer.periods import days_by_month, period_kind
from optimizer.plan import stopped_words as _stopped_words
from optimizer.plan import summed_name

from ..errors import ExportError

#: the CSV columns, one row per plan line (no totals row)
CSV_COLUMNS = (
    "network",
    "segment",
    "period",
    "spend",
    "expected_results",
    "results_p10",
    "results_p90",
    "cost_per_result",
    "marginal_cost_per_result",
)

#: the CSV's last columns when the plan's lines carry them (curves with carry-over ``inside``
#: or ``lift``): results inside the plan's dates, attributed and incremental results
RESPONSE_COLUMNS = ("results_inside", "results_attributed", "results_incremental")

#: the plan's totals of carry-over and lift (Plan JSON keys, present when known)
RESPONSE_TOTALS = (
    "results_inside",
    "results_after",
    "results_attributed",
    "results_incremental",
    "cost_per_incremental_result",
)

#: what the exports show where a total across periods of non-additive results would be
NOT_ADDITIVE = "not additive"

#: causes of the unspent budget shown, at most, before "and N more"
MAX_CAUSES_SHOWN = 5

#: what a shadow price is and is not (the XLSX Ledger sheet and the HTML report say it)
SHADOW_NOTE = (
    "a shadow price is the rate at the margin: what one more unit of the rule's limit would "
    "bring now; the cost of a rule is what removing it gains, re-solved exactly, shown beside it"
)


#: ... and under objective cvar, whose rules are not re-solved one by one
CVAR_SHADOW_NOTE = (
    "a risk-aware plan (objective cvar): a shadow price is the mean of the worst scenarios' "
    "results that one more unit of the rule's limit would bring now; its rules are not "
    "re-solved one by one, so no gain if removed is shown"
)


def shadow_note(plan) -> str:
    """Return what the ledger's shadow prices mean for the plan's objective."""
    return CVAR_SHADOW_NOTE if plan_dict(plan).get("objective") == "cvar" else SHADOW_NOTE


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


def additive(plan) -> bool:
    """Say whether the plan's results add up across periods (``results_additive``).

    False for reach and unique users: the exports then show no total across periods (nor
    per network or segment, sums across periods too), only each period's.
    """
    return plan_dict(plan).get("results_additive") is not False


def results_note(plan) -> str | None:
    """Return why the plan shows no total of results across periods (None: it does)."""
    d = plan_dict(plan)
    if additive(d):
        return None
    note = d.get("results_note")
    what = str(d.get("result_type") or "results")
    return str(note) if note else f"{what} cannot be added across periods"


def has_response(plan) -> bool:
    """Say whether the plan's lines carry results inside the plan or attributed / incremental."""
    return any(
        isinstance(ln, Mapping) and any(ln.get(k) is not None for k in RESPONSE_COLUMNS)
        for ln in plan_dict(plan).get("lines") or []
    )


def csv_columns(plan) -> tuple[str, ...]:
    """Return the plan's CSV columns: :data:`CSV_COLUMNS`, then :data:`RESPONSE_COLUMNS`.

    The last three only when the plan's lines carry them (see :func:`has_response`): a
    plan on curves without carry-over or lift keeps the nine columns it always had.
    """
    return (*CSV_COLUMNS, *RESPONSE_COLUMNS) if has_response(plan) else CSV_COLUMNS


def plan_rows(plan) -> list[dict]:
    """Return one dict per plan line with the CSV columns (numbers as floats or None).

    ``results_p10`` and ``results_p90`` are the line's simulated range (None when the plan
    has no ranges, or ranges of ``source: none``: see :func:`no_range`);
    ``results_inside``, ``results_attributed`` and ``results_incremental`` the line's (None
    where it has none). Each row also holds ``cause`` and ``why``: the cause and the words
    of the line's ``limited_by`` (why it gets no more; None when the plan does not say),
    which the XLSX and the HTML show and the CSV, whose columns are fixed, does not.
    """
    d = plan_dict(plan)
    ranged = not no_range(d)
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
                "results_p10": number(ln.get("results_p10")) if ranged else None,
                "results_p90": number(ln.get("results_p90")) if ranged else None,
                "cost_per_result": cpr if cpr is not None else cost_per_result(spend, results),
                "marginal_cost_per_result": number(ln.get("marginal_cost_per_result")),
                **{k: number(ln.get(k)) for k in RESPONSE_COLUMNS},
                **_why(ln.get("limited_by")),
            }
        )
    return rows


def _why(reason) -> dict:
    """Return the ``cause`` and ``why`` (words) of a line's ``limited_by`` (None if absent)."""
    if not isinstance(reason, Mapping):
        return {"cause": None, "why": None}
    cause, words = reason.get("cause"), reason.get("words")
    return {
        "cause": None if cause is None else str(cause),
        "why": None if words is None else str(words),
    }


def totals(plan) -> dict:
    """Return the budget, spend, results and cost per result of the whole plan.

    Spend and results missing from the plan are summed from its lines. A re-plan's
    ``budget`` is the budget as the user set it (``replan.budget_as_set``) and
    ``off_plan_spend`` the actual spend its lines cannot hold (None for other plans: the
    re-plan's ``total_spend`` is its lines' spend, so the two add up to what is spent and
    planned); ``status``,
    ``currency`` and ``result_type`` come along, and the plan's totals of carry-over and
    lift (:data:`RESPONSE_TOTALS`, None where it has none). Results that do not add up
    across periods (:func:`additive`) have no total: results, cost per result and those
    are None.
    """
    d = plan_dict(plan)
    rows = plan_rows(d)
    spend = number(d.get("total_spend"))
    results = number(d.get("expected_results"))
    if spend is None:
        spend = sum(r["spend"] for r in rows)
    summed = additive(d)
    if results is None and summed:
        results = sum(r["expected_results"] for r in rows)
    cpr = number(d.get("cost_per_result"))
    if cpr is None and summed:
        cpr = cost_per_result(spend, results)
    budget, off_plan = number(d.get("budget")), None
    section = d.get("replan")
    if isinstance(section, Mapping):  # a re-plan: the budget as the user set it
        budget = number(section.get("budget_as_set")) or budget
        off_plan = number(section.get("off_plan_spend")) or 0.0
    return {
        "status": str(d.get("status", "")),
        "budget": budget,
        "off_plan_spend": off_plan,
        "total_spend": spend,
        "expected_results": results,
        "cost_per_result": cpr,
        "currency": str(d.get("currency", "") or ""),
        "result_type": str(d.get("result_type", "") or ""),
        **{k: number(d.get(k)) if summed else None for k in RESPONSE_TOTALS},
    }


def period_rows(plan) -> list[dict]:
    """Return each period's spend, results and cost per result, summed from the plan's lines.

    Per-period totals hold whether or not results add up across periods. With lines that
    carry them, each period's results inside the plan, attributed and incremental too (None
    when a line with spend or results in the period lacks it).
    """
    out = []
    for t in _grouped(plan_rows(plan), "period"):
        t["period"] = t.pop("name")
        t.pop("results_after")
        t["cost_per_result"] = cost_per_result(t["spend"], t["expected_results"])
        out.append(t)
    return out


def response_rows(plan, by: str = "network") -> list[dict]:
    """Return per ``by`` (network, segment, period) the results, inside and after the plan.

    Each row: ``name``, ``spend``, ``expected_results``, ``results_inside``,
    ``results_after``, ``results_attributed``, ``results_incremental`` (None where the
    plan's lines carry no such figure, or a funded line of the group lacks it; a line
    without carry-over counts as wholly inside the plan), in name order.
    """
    return _grouped(plan_rows(plan), by)


def _grouped(rows: list[dict], by: str) -> list[dict]:
    """Return the rows summed per ``by``: spend, results and the response figures carried."""
    carried = {k for k in RESPONSE_COLUMNS if any(r[k] is not None for r in rows)}
    out: dict[str, dict] = {}
    for r in rows:
        t = out.get(r[by])
        if t is None:
            t = out[r[by]] = {"name": r[by], "spend": 0.0, "expected_results": 0.0}
            t.update({k: 0.0 if k in carried else None for k in RESPONSE_COLUMNS})
        t["spend"] += r["spend"]
        t["expected_results"] += r["expected_results"]
        for k in carried:
            v = r[k]
            if k == "results_inside" and v is None:
                v = r["expected_results"]  # a line without carry-over: wholly inside
            _add_known(t, k, v, r)
    for t in out.values():
        inside = t["results_inside"]
        t["results_after"] = None if inside is None else t["expected_results"] - inside
    return [out[n] for n in sorted(out)]


def _add_known(t: dict, key: str, value, row: Mapping) -> None:
    """Add ``value`` to ``t[key]``; a line with spend or results that lacks it leaves it None."""
    if t[key] is None:
        return
    if value is None:
        if row["spend"] > 0 or row["expected_results"] > 0:
            t[key] = None
        return
    t[key] += value


#: a ledger entry's keys (the Plan JSON's ``ledger``), as the ledger feed and table show them
LEDGER_FIELDS = (
    "rule",
    "words",
    "gain_if_removed",
    "gain_proven",
    "shadow_price",
    "unit",
    "per_1000",
    "next_result_cost",
)

#: the keys of a range (``plan.ranges["total"]`` ...), in order
QUANTILE_KEYS = ("p10", "p50", "p90")
#: the ranges by kind: the key in ``plan.ranges`` and the plan line field
RANGE_KINDS = (("networks", "network"), ("segments", "segment"), ("periods", "period"))


def ranges_in(plan) -> dict | None:
    """Return the plan's ``ranges`` (simulated, ``optimizer/risk.py``), or None without them."""
    r = plan_dict(plan).get("ranges")
    return dict(r) if isinstance(r, Mapping) else None


def no_range(plan) -> bool:
    """Say whether the plan's ranges are none: curves without uncertainty (``source: none``).

    Their quantiles all equal the expected value, which would read as a certainty: the
    exports show the range cells of such a plan empty (CSV, XLSX) or "-" (HTML), and its note.
    """
    r = ranges_in(plan)
    return r is not None and r.get("source") == "none"


def shown_ranges(plan) -> dict:
    """Return the ranges the exports show: the plan's, or {} without any or when none."""
    return {} if no_range(plan) else ranges_in(plan) or {}


def quantiles_of(q) -> tuple[float | None, float | None, float | None]:
    """Return the (P10, P50, P90) of a range object as numbers (None where missing)."""
    if not isinstance(q, Mapping):
        return None, None, None
    p10, p50, p90 = (number(q.get(k)) for k in QUANTILE_KEYS)
    return p10, p50, p90


def total_range(plan) -> tuple[float | None, float | None]:
    """Return the P10 and P90 of the plan's total results (None, None without ranges)."""
    p10, _, p90 = quantiles_of(shown_ranges(plan).get("total"))
    return p10, p90


def ranges_note(plan) -> str:
    """Say how the plan's ranges were made: its note, the scenarios, seed and source."""
    r = ranges_in(plan)
    if r is None:
        return "no ranges: this plan was made without them"
    if r.get("source") == "none":
        return str(r.get("note") or "no range: the curves carry no uncertainty")
    n = number(r.get("scenarios"))
    count = "?" if n is None else f"{n:,.0f}"
    how = f"{count} scenarios, seed {r.get('seed')}, source {r.get('source')}"
    return f"{r.get('note') or ''} ({how})".strip()


def range_rows(plan) -> list[dict]:
    """Return the plan's ranges as rows: ``kind``, ``name``, ``expected``, ``p10``-``p90``.

    The total results, the cost per result (its P10 is the low cost: spend / P90 results),
    then each network, segment and period; ``expected`` is the plan's (summed from its lines).
    Without ranges only the total and the cost per result, their quantiles None; with
    ranges of ``source: none`` (:func:`no_range`) every row, its quantiles None.
    """
    d = plan_dict(plan)
    t, r, names = totals(d), shown_ranges(d), ranges_in(d) or {}
    what = t["result_type"] or "results"
    per = f"{t['currency']} per {what}".strip()
    rows = [
        _range_row("total", what, t["expected_results"], r.get("total")),
        _range_row("cost per result", per, t["cost_per_result"], r.get("cost_per_result")),
    ]
    lines = plan_rows(d)
    summed = additive(d)
    for key, field in RANGE_KINDS:
        expected: dict[str, float] = {}
        for ln in lines:
            if summed or field == "period":  # a network's or segment's: across periods
                expected[ln[field]] = expected.get(ln[field], 0.0) + ln["expected_results"]
        shown = r.get(key) or {}
        for name in names.get(key) or {}:
            q = shown.get(name)
            rows.append(_range_row(field, str(name), expected.get(str(name)), q))
    return rows


def _range_row(kind: str, name: str, expected, q) -> dict:
    p10, p50, p90 = quantiles_of(q)
    return {
        "kind": kind,
        "name": name,
        "expected": number(expected),
        "p10": p10,
        "p50": p50,
        "p90": p90,
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


def objective_labels(plan) -> dict[str, str]:
    """Return the units the ledger is shown in, as column headers, for the plan's objective.

    ``gain``: what removing a rule gains ("purchases gained if removed", or "profit gained if
    removed (EUR)" under objective profit, "value ..." under value); ``per_1000``: the shadow
    price per 1,000 of currency ("purchases per 1,000 EUR"); ``next``: the cost of the
    result one more unit of room buys; ``what``: the result type, or "profit" / "value".
    """
    d = plan_dict(plan)
    cur = str(d.get("currency") or "") or "currency"
    objective = str(d.get("objective") or "results")
    rtype = str(d.get("result_type") or "") or "results"
    if objective in ("value", "profit"):
        what, gain = objective, f"{objective} gained if removed ({cur})"
    elif objective == "cvar":
        counted = summed_name(rtype, d.get("results_additive") is not False)
        what, gain = f"worst scenarios' {counted}", "gained if removed (not re-solved under cvar)"
    elif d.get("results_additive") is False:  # reach: the LP adds it over periods
        what = summed_name(rtype, False)
        gain = f"{what} gained if removed"
    else:
        what, gain = rtype, f"{rtype} gained if removed"
    nxt = (
        f"next result costs ({cur})"
        if objective != "cvar"
        else "next result costs (not under cvar)"
    )
    return {"what": what, "gain": gain, "per_1000": f"{what} per 1,000 {cur}", "next": nxt}


def ledger_entries(plan) -> list[dict]:
    """Return the plan's ledger: the binding rules, the most costly first (see the Plan JSON).

    A Plan JSON written before the ledger existed gives its binding rules (not the ends of
    curves) by the size of their shadow price, with no measured gain.
    """
    d = plan_dict(plan)
    ledger = d.get("ledger")
    if isinstance(ledger, list):
        return [dict(e) for e in ledger if isinstance(e, Mapping)]
    rules = [
        c
        for c in d.get("constraints") or []
        if isinstance(c, Mapping) and c.get("binding") and c.get("family") != "curve_end"
    ]
    rules.sort(key=lambda c: -abs(number(c.get("shadow_price")) or 0.0))
    return [
        {
            "rule": c.get("name"),
            "words": c.get("words") or c.get("description"),
            "family": c.get("family"),
            "unit": c.get("unit"),
            "gain_if_removed": None,
            "gain_proven": None,
            "shadow_price": c.get("shadow_price"),
            "per_1000": c.get("per_1000"),
            "next_result_cost": c.get("next_result_cost"),
        }
        for c in rules
    ]


def curve_ends(plan) -> dict | None:
    """Return the lines at the end of their curves (the forecast's caps), summed up.

    ``lines`` (how many), ``spend`` and ``share`` (of the plan's spend; None when nothing is
    spent), ``top_shadow_value`` (the most one more unit of currency would bring on one of
    them if its curve went on), ``top_per_1000`` (the same per 1,000) and ``top_line``
    ("network/segment/period"). None when no line is at the end of its curve.
    """
    d = plan_dict(plan)
    ends = [
        ln
        for ln in d.get("lines") or []
        if isinstance(ln, Mapping)
        and isinstance(ln.get("limited_by"), Mapping)
        and ln["limited_by"].get("cause") == "curve_end"
    ]
    if not ends:
        return None
    spend = sum(number(ln.get("spend")) or 0.0 for ln in ends)
    total = totals(d)["total_spend"]
    top = max(ends, key=lambda ln: number(ln["limited_by"].get("shadow_value")) or 0.0)
    value = number(top["limited_by"].get("shadow_value"))
    return {
        "lines": len(ends),
        "spend": spend,
        "share": spend / total if total > 0 else None,
        "top_shadow_value": value,
        "top_per_1000": None if value is None else 1000.0 * value,
        "top_line": "/".join(str(top.get(k, "")) for k in ("network", "segment", "period")),
    }


def unspent_in(plan) -> tuple[float, list[dict]]:
    """Return the budget left unspent and the groups of what stopped more spend.

    Read from the plan's ``unspent`` (``amount``, ``stopped_by``); (0.0, []) when it is
    absent (a plan for a target, or a Plan JSON written before it existed).
    """
    u = plan_dict(plan).get("unspent")
    if not isinstance(u, Mapping):
        return 0.0, []
    groups = [dict(g) for g in u.get("stopped_by") or [] if isinstance(g, Mapping)]
    return number(u.get("amount")) or 0.0, groups


def stopped_words(groups: list[dict]) -> str:
    """Say what stopped more spend, as the plan's own note does (``optimizer.plan``)."""
    clean = [
        {**g, "lines": int(number(g.get("lines")) or 0), "cause": g.get("cause") or ""}
        for g in groups
    ]
    return _stopped_words(clean, MAX_CAUSES_SHOWN)
