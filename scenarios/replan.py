"""Re-planning mid-quarter: lock what was spent, re-optimise the rest of the budget.

``replan(curves, spec, actuals, as_of)``:

1. the original plan is ``allocate(curves, spec)``;
2. actual spend (canonical history rows dated before ``as_of``) is summed per line and
   period (ISO weeks ``2027-W03``, months ``2027-01`` or days, as the curves have them);
3. every line of a period that ended by ``as_of`` is locked at its actual spend (0 where
   nothing was spent); in the period running on ``as_of`` the actual spend is a minimum
   (money spent cannot be unspent); later periods are open;
4. spend the curves cannot hold (a line no curve has, or above a curve's last point) is
   *off-plan*: it is taken off the budget so the total stays within it;
5. the rest of the budget is optimised over the current and open periods only, under the
   spec's rules rewritten for them: pacing and the change between periods apply among those
   periods (the remaining budget re-spread by the same profile); network, segment and period
   floors and caps (currency or share) count the spend already made; ``max_active_lines`` and
   results floors count the locked lines. Rules on elapsed periods are history and dropped.
6. the re-plan is then the whole plan: the locked lines plus that optimisation, with its rules;
7. where the actuals carry results of the curves' type, the elapsed lines are valued at their
   actual results (:func:`value_at_actuals`: the forecast kept as ``forecast_results``, the
   totals and ranges recomputed).

The result (:class:`ReplanResult`) holds the original plan, the re-plan (both
:class:`~optimizer.Plan`) and the spec the open periods were optimised under; its
``to_dict()`` is the re-plan's Plan JSON with a ``replan`` section: the budget as set, per
line and period the planned, actual and re-planned spend and results and the changes
"Over/(under) plan", and the off-plan spend item by item (``scenarios.exports.replan`` reads
it for the CSV, XLSX and HTML).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from optimizer import Curves, Plan, PlanLine, PlanSpec
from optimizer.periods import period_bounds as _bounds
from optimizer.periods import period_kind, period_label
from optimizer.rules import LineRule, OpenPart
from optimizer.spec import GROUP_KINDS

from .errors import ActualsError

EPS = 1e-9

LineKey = tuple[str, str, str]


def _period_kind(period: str) -> str:
    """Return the kind of a period label (week, month or day); ActualsError for other labels."""
    kind = period_kind(period)
    if kind is None:
        raise ActualsError(
            f"period {period!r}: a re-plan needs ISO weeks (2027-W03), months (2027-01) "
            "or days (2027-01-04)"
        )
    return kind


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """Return (first day, day after the last) of a period label; ActualsError for other labels."""
    _period_kind(period)
    return _bounds(period)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


@dataclass
class ReplanResult:
    """The outcome of a re-plan: the new plan, the original plan and the comparison rows.

    ``rows`` hold per line and period the status (elapsed, current, open), the planned,
    actual and re-planned spend and results and the changes "Over/(under) plan"; ``spec``
    is the spec the open periods were optimised under (the whole re-plan's when every period
    has ended). ``plan`` values the elapsed periods at their actual results when the actuals
    carry them (``forecast_results``: each such line's forecast at its actual spend);
    ``off_plan`` lists the spend the plan cannot hold, each item with why;
    ``budget_as_set`` is the spec's budget (``plan.budget`` is what was optimised: that
    budget less the off-plan spend).
    """

    plan: Plan
    original: Plan
    rows: list[dict]
    as_of: dt.date
    spec: PlanSpec
    warnings: list[str] = field(default_factory=list)
    off_plan_spend: float = 0.0
    actual_spend: float = 0.0
    budget_as_set: float | None = None
    off_plan: list[dict] = field(default_factory=list)
    forecast_results: dict[LineKey, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the re-plan's Plan JSON with its ``replan`` section (as of, actuals, rows)."""
        d = self.plan.to_dict()
        for ln in d["lines"]:
            key = (ln["network"], ln["segment"], ln["period"])
            if key in self.forecast_results:
                ln["forecast_results"] = self.forecast_results[key]
        d["replan"] = {
            "as_of": self.as_of.isoformat(),
            "budget_as_set": (
                self.plan.budget + self.off_plan_spend
                if self.budget_as_set is None
                else self.budget_as_set
            ),
            "actual_spend": self.actual_spend,
            "off_plan_spend": self.off_plan_spend,
            "original_expected_results": (  # reach: never a total across periods
                self.original.expected_results if self.plan.results_additive else None
            ),
            "original_total_spend": self.original.total_spend,
            "warnings": list(self.warnings),
            "rows": self.rows,
            "off_plan": [dict(x) for x in self.off_plan],
        }
        return d


#: one row of actuals: day, network, segment, result type, campaign, spend, results (None:
#: the row has no results)
ActualRow = tuple[dt.date, str, str, str, str, float, float | None]


@dataclass(frozen=True)
class Actuals:
    """The actuals summed per (network, segment, period) of the curves, before ``as_of``.

    ``spend`` per line; ``results`` the results of the curves' result type per line, None
    when the actuals do not carry them (no results column, or no row of that type); for
    results that do not add up (reach) a line with several rows in one period has no
    actual results (its sum would count people twice) and is left out of ``results``.
    """

    spend: dict[LineKey, float]
    results: dict[LineKey, float | None] | None


def actual_spend(actuals, curves: Curves, as_of: dt.date) -> tuple[dict, list[str]]:
    """Sum the actual spend before ``as_of`` per (network, segment, period) of the curves.

    ``actuals`` is canonical history (a DataFrame or an iterable of mappings with ``date``,
    ``network``, ``segment``, ``spend`` and optionally ``result_type``, ``campaign`` and
    ``results``). With several result types the curves' type is kept; when none is the
    curves' type (an export that repeats the spend per conversion), the spend is counted
    once per date, line and campaign (the largest of the types), with a warning.
    """
    acts, warnings = actual_figures(actuals, curves, as_of)
    return acts.spend, warnings


def actual_figures(actuals, curves: Curves, as_of: dt.date) -> tuple[Actuals, list[str]]:
    """Sum the actual spend and results before ``as_of`` per line (see :class:`Actuals`)."""
    kind = _period_kind(curves.periods[0])  # refuses other period labels
    warnings: list[str] = []
    rows, typed = _one_result_type(_actual_rows(actuals), curves.result_type, warnings)
    spend, results, counts = _sum_per_line(rows, curves.periods, kind, as_of, warnings)
    known = typed and rows and all(r[6] is not None for r in rows)
    if not known:
        warnings.append(
            f"actuals: no {curves.result_type} results (a results column of the curves' "
            "result type): the elapsed periods are valued at the forecast, not at actual results"
        )
        return Actuals(spend, None), warnings
    if not getattr(curves, "additive", True):
        shared = sorted(k for k, n in counts.items() if n > 1)
        if shared:
            warnings.append(
                f"actuals: {curves.result_type} cannot be added across rows, and "
                f"{len(shared)} line(s) have several rows in a period (the first "
                f"{'/'.join(shared[0])}): those lines are valued at the forecast"
            )
        return Actuals(
            spend, {k: None if counts[k] > 1 else v for k, v in results.items()}
        ), warnings
    return Actuals(spend, dict(results)), warnings


def _actual_rows(actuals) -> list[ActualRow]:
    """Read the actuals' rows; ActualsError for a row without date, line or spend."""
    records = actuals.to_dict("records") if hasattr(actuals, "to_dict") else list(actuals)
    rows = []
    for i, r in enumerate(records):
        try:
            day = _as_date(r["date"])
            spend = float(r["spend"])
            net, seg = str(r["network"]), str(r["segment"])
        except (KeyError, TypeError, ValueError) as e:
            raise ActualsError(
                f"actuals row {i + 1}: needs a date, network, segment and spend ({e})"
            ) from None
        if not (math.isfinite(spend) and spend >= 0):  # canonical history: spend >= 0
            raise ActualsError(
                f"actuals row {i + 1}: spend must be a finite number >= 0, got {r['spend']!r}"
            )
        results = _results_of(r, i)
        rt, camp = _text(r.get("result_type")), _text(r.get("campaign"))
        rows.append((day, net, seg, rt, camp, spend, results))
    return rows


def _results_of(record: Mapping, i: int) -> float | None:
    """Return a row's results (None where it has none); ActualsError for a bad number."""
    value = record.get("results")
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    try:
        results = float(value)
    except (TypeError, ValueError):
        results = math.nan
    if not (math.isfinite(results) and results >= 0):
        raise ActualsError(
            f"actuals row {i + 1}: results must be a finite number >= 0, got {value!r}"
        )
    return results


def _one_result_type(
    rows: list[ActualRow], result_type: str, warnings: list[str]
) -> tuple[list[ActualRow], bool]:
    """Keep one result type's spend when the actuals repeat it per type (see actual_spend).

    Also say whether the rows' results are of the curves' ``result_type`` (rows without a
    result type are taken to be).
    """
    types = {r[3] for r in rows if r[3]}
    if len(types) > 1 and result_type in types:
        warnings.append(
            f"actuals: kept the {result_type} rows (the curves' result type) of {sorted(types)}"
        )
        return [r for r in rows if r[3] == result_type], True
    if len(types) > 1:
        per: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for day, net, seg, rt, camp, spend, _res in rows:
            per[(day, net, seg, camp)][rt] += spend
        warnings.append(
            f"actuals: several result types {sorted(types)}, none the curves' "
            f"{result_type}; the spend is counted once per date, line and campaign "
            "(exports repeat it for each result type)"
        )
        return [(k[0], k[1], k[2], "", k[3], max(v.values()), None) for k, v in per.items()], False
    return rows, types <= {result_type}


def _sum_per_line(
    rows: list[ActualRow], periods, kind: str, as_of: dt.date, warnings: list[str]
) -> tuple[dict[LineKey, float], dict[LineKey, float], dict[LineKey, int]]:
    """Sum the spend and results made from the plan's start to ``as_of`` per line and period.

    Returns the spend, the results (rows without results count 0) and the rows per line.
    """
    spend: dict[LineKey, float] = {}
    results: dict[LineKey, float] = {}
    counts: dict[LineKey, int] = {}
    later = earlier = 0.0
    plan_start = min(period_bounds(p)[0] for p in periods)
    for day, net, seg, _rt, _camp, s, r in rows:
        if day >= as_of:
            later += s
            continue
        if day < plan_start:  # history from before this plan: not this plan's spend
            earlier += s
            continue
        key = (net, seg, period_label(day, kind))
        spend[key] = spend.get(key, 0.0) + s
        results[key] = results.get(key, 0.0) + (r or 0.0)
        counts[key] = counts.get(key, 0) + 1
    if earlier:
        warnings.append(
            f"actuals: {earlier:,.2f} spent before the plan starts ({plan_start}) ignored"
        )
    if later:
        warnings.append(
            f"actuals: {later:,.2f} spent on or after {as_of} ignored (the re-plan covers it)"
        )
    return spend, results, counts


@dataclass
class _Spent:
    """The actual spend sorted against the plan (see :func:`_sort_spend`)."""

    by_line: dict[LineKey, float]  # what was spent, per line and period
    in_plan: dict[LineKey, float]  # the part the curves hold
    off_plan: float  # the part they do not: off the budget
    done: dict[str, dict[str, float]]  # off-plan and elapsed spend per network and segment
    locked: dict[LineKey, float]  # the elapsed lines, locked at their spend
    current: dict[LineKey, float]  # the lines of the current period with spend (floors)
    items: list[dict] = field(default_factory=list)  # the off-plan spend, item by item


def replan(
    curves: Curves,
    spec: PlanSpec,
    actuals,
    as_of,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    source: str | None = None,
) -> ReplanResult:
    """Lock the spend made before ``as_of`` and re-optimise the rest (see module docstring).

    Errors name ``source`` (None: the spec's own, ``spec.source``). ``as_of`` is a date or
    YYYY-MM-DD text (``optimizer.periods.plan_day``, as every command reads its dates).
    """
    from optimizer.periods import plan_day

    from .runs import optimise

    day = plan_day(as_of, "as_of")
    if source is not None and source != spec.source:
        spec = replace(spec, source=source)
    spec = spec.for_curves(curves)  # platform names as the curves have them (facebook: meta)
    label = f"{spec.source} (re-plan as of {day})"
    original = optimise(curves, spec, solver=solver, time_limit=time_limit)
    acts, warnings = actual_figures(actuals, curves, day)
    by_line = acts.spend
    status = _period_status(curves.periods, day)
    spent = _sort_spend(by_line, curves, spec, status, warnings)
    remaining = [p for p in curves.periods if status[p] != "elapsed"]
    new_spend: dict[LineKey, float] = dict(spent.locked)
    sub_plan: Plan | None = None
    sub_spec: PlanSpec | None = None
    if remaining:
        sub_spec, sub_plan = _replan_open_part(
            curves, spec, spent, status, warnings, label, solver, time_limit, day
        )
        if sub_plan is None:
            new_spend.update(spent.current)
        else:
            new_spend.update({_key(ln): float(ln.spend) for ln in sub_plan.lines})
    budget = max(spec.budget - spent.off_plan, sum(new_spend.values()))
    whole = _whole_spec(spec, new_spend, budget, label)
    plan = optimise(curves, whole, solver=solver, time_limit=time_limit)
    if sub_plan is not None:  # the rules that shaped the re-plan, and why lines got nothing
        why = {_key(ln): ln.limited_by for ln in sub_plan.lines}  # elapsed lines: their locks
        plan = replace(
            plan,
            status=sub_plan.status,
            lines=tuple(
                replace(ln, limited_by=why.get(_key(ln), ln.limited_by)) for ln in plan.lines
            ),
            constraints=sub_plan.constraints,
            unfunded=sub_plan.unfunded,
            unspent=sub_plan.unspent,
            notes=sub_plan.notes,
            solver=sub_plan.solver,
            other_results=sub_plan.other_results or plan.other_results,
            objective=sub_plan.objective,
            risk=sub_plan.risk,
        )
    to_spend = spec.budget - spent.off_plan
    warnings.extend(_unspent_warnings(plan, to_spend, spec.budget, bool(remaining), day))
    valued = value_at_actuals(plan, curves, spec, _elapsed_results(acts, spent))
    return ReplanResult(
        plan=valued.plan,
        original=original,
        rows=_rows(curves, status, by_line, original, valued.plan, _line_results(acts, spent)),
        as_of=day,
        spec=whole if sub_spec is None else sub_spec,
        warnings=warnings,
        off_plan_spend=spent.off_plan,
        actual_spend=sum(by_line.values()),
        budget_as_set=spec.budget,
        off_plan=_off_plan_items(spent, acts),
        forecast_results=valued.forecast,
    )


def _period_status(periods, as_of: dt.date) -> dict[str, str]:
    """Say of each period whether it has ended by ``as_of``, is running on it, or is open."""
    status: dict[str, str] = {}
    for p in periods:
        start, end = period_bounds(p)
        status[p] = "elapsed" if end <= as_of else "current" if start < as_of else "open"
    return status


def _sort_spend(
    by_line: dict[LineKey, float],
    curves: Curves,
    spec: PlanSpec,
    status: Mapping[str, str],
    warnings: list[str],
) -> _Spent:
    """Sort the spend into what the plan holds and what it does not (off-plan), with warnings.

    ActualsError when the off-plan spend alone uses the whole budget.
    """
    ex = spec.exclude
    by_key = {ln.key: ln for ln in curves.lines}
    off_plan = 0.0
    done: dict[str, dict[str, float]] = {k: defaultdict(float) for k in ("networks", "segments")}
    in_plan: dict[LineKey, float] = {}
    items: list[dict] = []
    for key, s in sorted(by_line.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        off, why = _off_plan_part(key, s, by_key.get(key), ex)
        if off > EPS:
            warnings.append(f"actuals: {'/'.join(key)} spent {s:,.2f}: {why}")
            items.append(
                {"network": key[0], "segment": key[1], "period": key[2], "spend": off, "why": why}
            )
        else:
            off = 0.0
        if key in by_key and not ex.excludes(key):
            in_plan[key] = s - off
        off_plan += off
        done["networks"][key[0]] += off
        done["segments"][key[1]] += off
    if off_plan >= spec.budget:
        raise ActualsError(
            f"actuals: {off_plan:,.2f} was spent off-plan, the whole budget of "
            f"{spec.budget:,.2f}; nothing is left to re-plan"
        )
    live = [ln for ln in curves.lines if not ex.excludes(ln.key)]
    locked = {ln.key: in_plan.get(ln.key, 0.0) for ln in live if status[ln.period] == "elapsed"}
    for (net, seg, _p), s in locked.items():
        done["networks"][net] += s
        done["segments"][seg] += s
    current = {
        ln.key: in_plan[ln.key]
        for ln in live
        if status[ln.period] == "current" and in_plan.get(ln.key, 0.0) > 0
    }
    return _Spent(by_line, in_plan, off_plan, done, locked, current, items)


def _off_plan_part(key: LineKey, spent: float, ln, exclude) -> tuple[float, str]:
    """Return the part of a line's spend the plan cannot hold, and why (see _sort_spend)."""
    if ln is None:
        return spent, "a line the plan does not have (no curve), counted against the budget"
    if exclude.excludes(key):
        return spent, "a line the spec excludes, counted against the budget"
    off = max(0.0, spent - ln.max_spend)
    why = (
        f"above the {ln.max_spend:,.2f} its curve can hold; the excess is counted against "
        "the budget"
    )
    return off, why


def _replan_open_part(
    curves: Curves,
    spec: PlanSpec,
    spent: _Spent,
    status: Mapping[str, str],
    warnings: list[str],
    label: str,
    solver: str | None,
    time_limit: float | None,
    day: dt.date | None = None,
) -> tuple[PlanSpec, Plan | None]:
    """Optimise what is left of the budget over the current and open periods.

    Returns the spec they are optimised under (the spec's rules rewritten for them,
    ``PlanSpec.for_open_part``) and their plan (None when nothing is left to spend).
    """
    from .runs import optimise

    budget, off_plan = spec.budget, spent.off_plan
    elapsed_spend = sum(spent.locked.values())
    left = budget - off_plan - elapsed_spend
    floor_now = sum(spent.current.values())
    if left < floor_now - 0.005:
        warnings.append(
            f"actuals: {off_plan + elapsed_spend + floor_now - budget:,.2f} spent above the "
            f"budget of {budget:,.2f}; nothing more is planned"
        )
        left = floor_now
    sub_curves = curves.filter(ln for ln in curves.lines if status[ln.period] != "elapsed")
    part = OpenPart(
        curves=sub_curves,
        status=status,
        current=spent.current,
        locked=spent.locked,
        done=spent.done,
        now=_spend_now(spent.current),
        budget=budget,
        left=left,
        convert=off_plan + elapsed_spend > EPS,
        as_of=day,
    )
    sub_spec = replace(spec.for_open_part(part), source=label)
    warnings.extend(part.notes)
    if left <= 0.005:
        warnings.append("nothing is left of the budget for the periods still to come")
        return sub_spec, None
    return sub_spec, optimise(sub_curves, sub_spec, solver=solver, time_limit=time_limit)


def _key(ln: PlanLine) -> LineKey:
    """Return the (network, segment, period) of a plan line."""
    return (ln.network, ln.segment, ln.period)


def _whole_spec(
    spec: PlanSpec, spend: Mapping[LineKey, float], budget: float, label: str
) -> PlanSpec:
    """Return the spec of the whole re-plan: every line locked at ``spend``, under ``budget``.

    The objective (and what results are worth) and the exclusions stay the spec's; a
    risk-aware one (cvar) becomes ``results``: every line is locked, and the re-plan's risk
    is the open part's (its sub-plan's ``risk``).
    """
    return PlanSpec(
        budget=budget,
        objective="results" if spec.objective == "cvar" else spec.objective,
        value_per_result=spec.value_per_result,
        lines=tuple(LineRule(*key, lock=v) for key, v in spend.items()),
        exclude=spec.exclude,
        source=label,
    )


def _unspent_warnings(
    plan: Plan, to_spend: float, budget: float, open_periods: bool, as_of: dt.date
) -> list[str]:
    """Warn when every period has ended, or when the re-plan leaves budget unspent."""
    gap = to_spend - float(plan.total_spend or 0.0)
    if not open_periods:
        return [f"every period ended by {as_of}: the re-plan is the spend actually made"]
    if gap > 0.005 * budget:
        binding = [
            c.name
            for c in plan.constraints
            if c.binding and not str(c.name).startswith(("lock", "line"))
        ]
        return [
            f"the re-plan leaves {gap:,.2f} of the budget unspent; binding rules: "
            f"{', '.join(str(b) for b in binding) or 'none'}"
        ]
    return []


def _rows(
    curves: Curves,
    status: Mapping[str, str],
    spent: Mapping[LineKey, float],
    original: Plan,
    plan: Plan,
    results: Mapping[LineKey, float | None] | None,
) -> list[dict]:
    """Return per line and period: planned, actual and re-planned spend and results, changes.

    ``actual`` and ``actual_results`` are all a line's actuals (None in open periods;
    results None where the actuals carry none), off-plan excess included; ``replanned`` and
    ``replanned_results`` the re-plan's line (elapsed lines at their actual results).
    """
    po = {_key(ln): ln for ln in original.lines}
    pr = {_key(ln): ln for ln in plan.lines}
    rows = []
    for ln in sorted(curves.lines, key=lambda x: (x.period, x.network, x.segment)):
        old, new = po.get(ln.key), pr.get(ln.key)
        planned = 0.0 if old is None else float(old.spend or 0.0)
        replanned = 0.0 if new is None else float(new.spend or 0.0)
        st = status[ln.period]
        p_res = None if old is None else old.expected_results
        r_res = None if new is None else new.expected_results
        known = st != "open" and results is not None
        rows.append(
            {
                "network": ln.network,
                "segment": ln.segment,
                "period": ln.period,
                "status": st,
                "planned": planned,
                "actual": None if st == "open" else spent.get(ln.key, 0.0),
                "replanned": replanned,
                "over_under_plan": replanned - planned,
                "planned_results": p_res,
                "actual_results": results.get(ln.key, 0.0) if known and results else None,
                "replanned_results": r_res,
                "results_over_under_plan": (
                    None if p_res is None or r_res is None else r_res - p_res
                ),
            }
        )
    return rows


def _elapsed_results(acts: Actuals, spent: _Spent) -> dict:
    """Return the actual results of each elapsed plan line (its share held by the plan).

    A line whose spend went partly off-plan (above its curve) keeps the results of the part
    the plan holds, pro rata; lines without known actual results are left out.
    """
    if acts.results is None:
        return {}
    out: dict[LineKey, float] = {}
    for key in spent.locked:  # the elapsed lines
        r = acts.results.get(key, 0.0)
        if r is None:
            continue
        s = spent.by_line.get(key, 0.0)
        out[key] = r * spent.in_plan.get(key, 0.0) / s if s > 0 else r
    return out


def _line_results(acts: Actuals, spent: _Spent) -> dict[LineKey, float | None] | None:
    """Return each line's actual results, all of them (None: the actuals carry none)."""
    if acts.results is None:
        return None
    return {k: acts.results.get(k, 0.0) for k in set(spent.by_line) | set(spent.locked)}


def _off_plan_items(spent: _Spent, acts: Actuals) -> list[dict]:
    """Return the off-plan spend items with ``actual_results``: their share of the line's."""
    out = []
    for item in spent.items:
        key = (item["network"], item["segment"], item["period"])
        r = None if acts.results is None else acts.results.get(key, 0.0)
        s = spent.by_line.get(key, 0.0)
        share = item["spend"] / s if s > 0 else 1.0
        out.append({**item, "actual_results": None if r is None else r * share})
    return out


def _spend_now(current: Mapping[tuple[str, str, str], float]) -> dict[str, dict[str, float]]:
    """Return the current period's spend per network, segment and period."""
    now: dict[str, dict[str, float]] = {k: defaultdict(float) for k in GROUP_KINDS}
    for (net, seg, p), s in current.items():
        now["networks"][net] += s
        now["segments"][seg] += s
        now["periods"][p] += s
    return now


@dataclass(frozen=True)
class Valued:
    """A re-plan valued at actual results, and each such line's forecast at its spend."""

    plan: Plan
    forecast: dict[LineKey, float]


def value_at_actuals(
    plan: Plan, curves: Curves, spec: PlanSpec, actual: Mapping[LineKey, float]
) -> Valued:
    """Value the elapsed lines of ``plan`` at their ``actual`` results; recompute the totals.

    Each such line's results are what happened (its range that single value, its cost per
    result actual); the plan's totals, carry-over and lift figures, value and profit, and
    ranges (simulated again with those lines held at their actual results: a range covers
    only the periods to come) follow, with a note. A plan on incremental results
    (``results_basis: incremental``) keeps its forecast: the actuals are the platforms'
    attributed results, not comparable.
    """
    have = {_key(ln) for ln in plan.lines}
    known = {k: v for k, v in actual.items() if k in have}
    if not known:
        return Valued(plan, {})
    if getattr(curves, "basis", "attributed") != "attributed":
        note = (
            "elapsed periods are valued at the forecast: the actual results are the "
            "platforms' attributed results and this plan counts incremental ones"
        )
        return Valued(replace(plan, notes=(*plan.notes, note)), {})
    from optimizer.plan import PLAN_RESPONSE_KEYS, response_lines, response_totals

    forecast = {_key(ln): ln.expected_results for ln in plan.lines if _key(ln) in known}
    valued_lines = [
        _at_actual(ln, known[_key(ln)]) if _key(ln) in known else ln for ln in plan.lines
    ]
    lines = response_lines(curves.lines, valued_lines, curves)
    total = sum(ln.expected_results for ln in lines)
    figures, _ = response_totals(lines, plan.total_spend, curves)
    valued = replace(
        plan,
        lines=tuple(lines),
        expected_results=total,
        cost_per_result=plan.total_spend / total if total > 0 else None,
        **{k: v for k, v in figures.items() if k in PLAN_RESPONSE_KEYS},
        **_value_change(plan, curves, spec, known, forecast),
    )
    valued = _ranges_at_actuals(valued, plan, curves, known)
    return Valued(
        replace(valued, notes=(*valued.notes, _actuals_note(plan, known, forecast))), forecast
    )


def _at_actual(ln: PlanLine, results: float) -> PlanLine:
    """Return a plan line valued at its actual results (its range: that single value)."""
    return replace(
        ln,
        expected_results=results,
        cost_per_result=ln.spend / results if results > 0 else None,
        results_p10=None if ln.results_p10 is None else results,
        results_p90=None if ln.results_p90 is None else results,
    )


def _value_change(plan: Plan, curves: Curves, spec: PlanSpec, known, forecast) -> dict:
    """Return the plan's value and profit at actual results (objectives value and profit)."""
    if plan.expected_value is None:
        return {}
    from optimizer.rules.economics import line_values

    by_key = {ln.key: ln for ln in curves.lines}
    keys = list(known)
    values = line_values(spec, [by_key[k] for k in keys], curves.result_type)
    change = sum(
        (known[k] - forecast[k]) * float(v or 0.0) for k, v in zip(keys, values, strict=True)
    )
    out = {"expected_value": plan.expected_value + change}
    if plan.expected_profit is not None:
        out["expected_profit"] = plan.expected_profit + change
    return out


def _ranges_at_actuals(valued: Plan, forecast_plan: Plan, curves: Curves, known) -> Plan:
    """Return ``valued`` with its ranges simulated with the elapsed lines at ``known``."""
    if forecast_plan.ranges is None:
        return valued
    from optimizer import risk

    if forecast_plan.ranges.get("source") == "none":
        return replace(valued, ranges=risk.certain_ranges(valued))
    sim = risk.plan_simulation(forecast_plan, curves)
    results = sim.results.copy()
    for j, ln in enumerate(forecast_plan.lines):
        if _key(ln) in known:
            results[:, j] = known[_key(ln)]
    sim = risk.Simulation(sim.lines, results, sim.world)
    per_line = risk.line_ranges(sim)
    ranges = dict(risk.ranges(sim, valued.total_spend))
    ranges["note"] = (
        f"{ranges['note']}; the elapsed periods' results are known (their actual results): "
        "the ranges cover only the periods to come"
    )
    lines = tuple(
        replace(ln, results_p10=per_line[_key(ln)][0], results_p90=per_line[_key(ln)][1])
        if ln.results_p10 is not None
        else ln
        for ln in valued.lines
    )
    return replace(valued, lines=lines, ranges=ranges)


def _actuals_note(plan: Plan, known, forecast) -> str:
    """Say that the elapsed periods are valued at their actual results, and by how much."""
    got, fc = sum(known.values()), sum(forecast.values())
    what = plan.result_type or "results"
    periods = sorted({k[2] for k in known})
    return (
        f"the elapsed periods ({', '.join(periods)}) are valued at their actual results: "
        f"{got:,.2f} {what} where the forecast at the spend made was {fc:,.2f} "
        f"({len(known)} lines; each keeps its forecast as forecast_results); the periods to "
        "come are forecast"
    )
