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
6. the re-plan is then the whole plan: the locked lines plus that optimisation, with its rules.

The result is the re-plan's Plan JSON with a ``replan`` section: per line and period the
planned, actual and re-planned spend and the change "Over/(under) plan".
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer import Curves
from optimizer.periods import period_bounds as _bounds
from optimizer.periods import period_kind, period_label
from optimizer.rules import OpenPart
from optimizer.spec import GROUP_KINDS

from .errors import ActualsError

EPS = 1e-9


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
    actual and re-planned spend and the change "Over/(under) plan"; ``spec`` is the spec the
    open periods were optimised under.
    """

    plan: dict
    original: dict
    rows: list[dict]
    as_of: dt.date
    spec: dict
    warnings: list[str] = field(default_factory=list)
    off_plan_spend: float = 0.0
    actual_spend: float = 0.0

    def to_dict(self) -> dict:
        """Return the re-plan's Plan JSON with its ``replan`` section (as of, actuals, rows)."""
        d = dict(self.plan)
        d["replan"] = {
            "as_of": self.as_of.isoformat(),
            "original_expected_results": self.original.get("expected_results"),
            "original_total_spend": self.original.get("total_spend"),
            "actual_spend": self.actual_spend,
            "off_plan_spend": self.off_plan_spend,
            "warnings": list(self.warnings),
            "rows": self.rows,
        }
        return d


def actual_spend(actuals, curves: Curves, as_of: dt.date) -> tuple[dict, list[str]]:  # noqa: C901 (split in issue 10)
    """Sum the actual spend before ``as_of`` per (network, segment, period) of the curves.

    ``actuals`` is canonical history (a DataFrame or an iterable of mappings with ``date``,
    ``network``, ``segment``, ``spend`` and optionally ``result_type`` and ``campaign``).
    With several result types the curves' type is kept; when none is the curves' type (an
    export that repeats the spend per conversion), the spend is counted once per date, line
    and campaign (the largest of the types), with a warning.
    """
    kind = _period_kind(curves.periods[0])  # refuses other period labels
    records = actuals.to_dict("records") if hasattr(actuals, "to_dict") else list(actuals)
    warnings: list[str] = []
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
        rows.append((day, net, seg, _text(r.get("result_type")), _text(r.get("campaign")), spend))
    types = {r[3] for r in rows if r[3]}
    if len(types) > 1 and curves.result_type in types:
        rows = [r for r in rows if r[3] == curves.result_type]
        warnings.append(
            f"actuals: kept the {curves.result_type} rows (the curves' result type) of "
            f"{sorted(types)}"
        )
    elif len(types) > 1:
        per: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for day, net, seg, rt, camp, spend in rows:
            per[(day, net, seg, camp)][rt] += spend
        rows = [(k[0], k[1], k[2], "", k[3], max(v.values())) for k, v in per.items()]
        warnings.append(
            f"actuals: several result types {sorted(types)}, none the curves' "
            f"{curves.result_type}; the spend is counted once per date, line and campaign "
            "(exports repeat it for each result type)"
        )
    out: dict[tuple[str, str, str], float] = {}
    later = earlier = 0.0
    plan_start = min(period_bounds(p)[0] for p in curves.periods)
    for day, net, seg, _rt, _camp, spend in rows:
        if day >= as_of:
            later += spend
            continue
        if day < plan_start:  # history from before this plan: not this plan's spend
            earlier += spend
            continue
        key = (net, seg, period_label(day, kind))
        out[key] = out.get(key, 0.0) + spend
    if earlier:
        warnings.append(
            f"actuals: {earlier:,.2f} spent before the plan starts ({plan_start}) ignored"
        )
    if later:
        warnings.append(
            f"actuals: {later:,.2f} spent on or after {as_of} ignored (the re-plan covers it)"
        )
    return out, warnings


def replan(  # noqa: C901 (split in issue 10)
    curves: Curves, spec: Mapping, actuals, as_of, *, solver=None, source: str = "spec"
) -> ReplanResult:
    """Lock the spend made before ``as_of`` and re-optimise the rest (see module docstring)."""
    from optimizer import PlanSpec

    from .runs import optimise

    as_of = _as_date(as_of)
    original = optimise(curves, dict(spec), source=source, solver=solver)
    ps = PlanSpec.from_dict(spec, source=source)
    norm, ex = ps.to_dict(), ps.exclude
    budget = float(norm["budget"])
    spent, warnings = actual_spend(actuals, curves, as_of)

    status: dict[str, str] = {}
    for p in curves.periods:
        start, end = period_bounds(p)
        status[p] = "elapsed" if end <= as_of else "current" if start < as_of else "open"
    by_key = {ln.key: ln for ln in curves.lines}
    off_plan = 0.0
    done: dict[str, dict[str, float]] = {k: defaultdict(float) for k in ("networks", "segments")}
    in_plan: dict[tuple[str, str, str], float] = {}
    for key, s in spent.items():
        ln = by_key.get(key)
        if ln is None or ex.excludes(key):
            off = s
            warnings.append(
                f"actuals: {s:,.2f} on {'/'.join(key)}, a line the plan does not have, "
                "counted against the budget"
            )
        else:
            off = max(0.0, s - ln.max_spend)
            if off > EPS:
                warnings.append(
                    f"actuals: {'/'.join(key)} spent {s:,.2f}, above the {ln.max_spend:,.2f} "
                    "its curve can hold; the excess is counted against the budget"
                )
            in_plan[key] = s - off
        off_plan += off
        done["networks"][key[0]] += off
        done["segments"][key[1]] += off
    if off_plan >= budget:
        raise ActualsError(
            f"actuals: {off_plan:,.2f} was spent off-plan, the whole budget of "
            f"{budget:,.2f}; nothing is left to re-plan"
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
    elapsed_spend = sum(locked.values())
    left = budget - off_plan - elapsed_spend
    remaining = [p for p in curves.periods if status[p] != "elapsed"]

    sub_plan: dict | None = None
    new_spend: dict[tuple[str, str, str], float] = dict(locked)
    sub: dict = {}
    if remaining:
        floor_now = sum(current.values())
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
            current=current,
            locked=locked,
            done=done,
            now=_spend_now(current),
            budget=budget,
            left=left,
            convert=off_plan + elapsed_spend > EPS,
        )
        sub = ps.for_open_part(part).to_dict()
        notes = part.notes
        warnings.extend(notes)
        if left > 0.005:
            sub_plan = optimise(
                sub_curves, sub, source=f"{source} (re-plan as of {as_of})", solver=solver
            )
            for ln in sub_plan.get("lines") or []:
                new_spend[(ln["network"], ln["segment"], ln["period"])] = float(ln["spend"])
        else:
            warnings.append("nothing is left of the budget for the periods still to come")
            new_spend.update(current)

    total = sum(new_spend.values())
    whole = {
        "budget": max(budget - off_plan, total),
        "lines": [
            {"network": k[0], "segment": k[1], "period": k[2], "lock": v}
            for k, v in new_spend.items()
        ],
    }
    if norm.get("objective"):
        whole["objective"] = norm["objective"]
    if norm.get("exclude"):
        whole["exclude"] = norm["exclude"]
    plan = optimise(curves, whole, source=f"{source} (re-plan as of {as_of})", solver=solver)
    if sub_plan is not None:  # the rules that shaped the re-plan, and why lines got nothing
        for k in ("status", "constraints", "unfunded", "solver", "other_results"):
            if k in sub_plan:
                plan[k] = sub_plan[k]
    gap = budget - off_plan - float(plan.get("total_spend") or 0.0)
    if not remaining:
        warnings.append(f"every period ended by {as_of}: the re-plan is the spend actually made")
    elif gap > 0.005 * budget:
        binding = [
            c.get("name")
            for c in plan.get("constraints") or []
            if c.get("binding") and not str(c.get("name")).startswith(("lock", "line"))
        ]
        warnings.append(
            f"the re-plan leaves {gap:,.2f} of the budget unspent; binding rules: "
            f"{', '.join(str(b) for b in binding) or 'none'}"
        )

    def spend_map(p):
        return {(ln["network"], ln["segment"], ln["period"]): ln for ln in p.get("lines") or []}

    po, pr = spend_map(original), spend_map(plan)
    rows = []
    for ln in sorted(curves.lines, key=lambda x: (x.period, x.network, x.segment)):
        planned = float((po.get(ln.key) or {}).get("spend") or 0.0)
        new = float((pr.get(ln.key) or {}).get("spend") or 0.0)
        st = status[ln.period]
        rows.append(
            {
                "network": ln.network,
                "segment": ln.segment,
                "period": ln.period,
                "status": st,
                "planned": planned,
                "actual": None if st == "open" else spent.get(ln.key, 0.0),
                "replanned": new,
                "over_under_plan": new - planned,
                "planned_results": (po.get(ln.key) or {}).get("expected_results"),
                "replanned_results": (pr.get(ln.key) or {}).get("expected_results"),
            }
        )
    return ReplanResult(
        plan=plan,
        original=original,
        rows=rows,
        as_of=as_of,
        spec=sub or whole,
        warnings=warnings,
        off_plan_spend=off_plan,
        actual_spend=sum(spent.values()),
    )


def _spend_now(current: Mapping[tuple[str, str, str], float]) -> dict[str, dict[str, float]]:
    """Return the current period's spend per network, segment and period."""
    now: dict[str, dict[str, float]] = {k: defaultdict(float) for k in GROUP_KINDS}
    for (net, seg, p), s in current.items():
        now["networks"][net] += s
        now["segments"][seg] += s
        now["periods"][p] += s
    return now
