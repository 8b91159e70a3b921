"""Re-planning mid-quarter: lock what was spent, re-optimise the rest of the budget.

``replan(curves, spec, actuals, as_of)``:

1. the original plan is ``allocate(curves, spec)``;
2. actual spend (canonical history rows dated before ``as_of``) is summed per line and
   period (ISO weeks ``2027-W03`` or months ``2027-01``, as the curves have them);
3. every line of a period that ended by ``as_of`` is locked at its actual spend (0 where
   nothing was spent); in the period running on ``as_of`` the actual spend is a minimum
   (money spent cannot be unspent); later periods are open;
4. spend the curves cannot hold (a line no curve has, or above a curve's last point) is
   *off-plan*: it is taken off the budget so the total stays within it;
5. the re-plan is ``allocate`` with those line rules.

The result is the re-plan's Plan JSON with a ``replan`` section: per line and period the
planned, actual and re-planned spend and the change "Over/(under) plan".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer import Curves

from .errors import ActualsError
from .files import deep_merge

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """(first day, day after the last) of an ISO week ``2027-W03`` or a month ``2027-01``."""
    m = _WEEK.match(period)
    if m:
        start = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        return start, start + dt.timedelta(days=7)
    m = _MONTH.match(period)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        start = dt.date(y, mo, 1)
        end = dt.date(y + (mo == 12), mo % 12 + 1, 1)
        return start, end
    raise ActualsError(
        f"period {period!r}: a re-plan needs ISO weeks (2027-W03) or months (2027-01)"
    )


def period_of(day: dt.date, kind: str) -> str:
    if kind == "week":
        y, w, _ = day.isocalendar()
        return f"{y}-W{w:02d}"
    return f"{day.year}-{day.month:02d}"


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


@dataclass
class ReplanResult:
    plan: dict
    original: dict
    rows: list[dict]
    as_of: dt.date
    spec: dict
    warnings: list[str] = field(default_factory=list)
    off_plan_spend: float = 0.0
    actual_spend: float = 0.0

    def to_dict(self) -> dict:
        d = dict(self.plan)
        d["replan"] = {
            "as_of": self.as_of.isoformat(),
            "original_expected_results": self.original.get("expected_results"),
            "original_total_spend": self.original.get("total_spend"),
            "actual_spend": round(sum(r["actual"] or 0.0 for r in self.rows), 2)
            + self.off_plan_spend,
            "off_plan_spend": self.off_plan_spend,
            "warnings": list(self.warnings),
            "rows": self.rows,
        }
        return d


def actual_spend(actuals, curves: Curves, as_of: dt.date) -> tuple[dict, list[str]]:
    """{(network, segment, period): spend} before ``as_of``, in the curves' periods.

    ``actuals`` is canonical history (a DataFrame or an iterable of mappings with ``date``,
    ``network``, ``segment``, ``spend`` and optionally ``result_type``).
    """
    kind = "week" if _WEEK.match(curves.periods[0]) else "month"
    period_bounds(curves.periods[0])  # refuses other period labels
    records = actuals.to_dict("records") if hasattr(actuals, "to_dict") else list(actuals)
    warnings: list[str] = []
    if any("result_type" in r for r in records):
        types = {str(r.get("result_type")) for r in records}
        if curves.result_type in types and len(types) > 1:
            records = [r for r in records if str(r.get("result_type")) == curves.result_type]
            warnings.append(
                f"actuals: kept the {curves.result_type} rows (the curves' result type) of "
                f"{sorted(types)}"
            )
    out: dict[tuple[str, str, str], float] = {}
    later = 0.0
    for i, r in enumerate(records):
        try:
            day = _as_date(r["date"])
            spend = float(r["spend"])
        except (KeyError, TypeError, ValueError) as e:
            raise ActualsError(f"actuals row {i + 1}: needs a date and a spend ({e})") from None
        if day >= as_of:
            later += spend
            continue
        key = (str(r["network"]), str(r["segment"]), period_of(day, kind))
        out[key] = out.get(key, 0.0) + spend
    if later:
        warnings.append(
            f"actuals: {later:,.2f} spent on or after {as_of} ignored (the re-plan covers it)"
        )
    return out, warnings


def replan(
    curves: Curves, spec: Mapping, actuals, as_of, *, solver=None, source: str = "spec"
) -> ReplanResult:
    """Lock the spend made before ``as_of`` and re-optimise the rest (see module docstring)."""
    from .runs import optimise

    as_of = _as_date(as_of)
    spec = dict(spec)
    original = optimise(curves, spec, source=source, solver=solver)
    spent, warnings = actual_spend(actuals, curves, as_of)
    excluded = deep_merge({}, spec.get("exclude") or {})
    ex_nets = set(excluded.get("networks") or [])
    ex_segs = set(excluded.get("segments") or [])
    ex_lines = {(d["network"], d["segment"], d["period"]) for d in excluded.get("lines") or []}

    status: dict[str, str] = {}
    for p in curves.periods:
        start, end = period_bounds(p)
        status[p] = "elapsed" if end <= as_of else "current" if start < as_of else "open"
    by_key = {ln.key: ln for ln in curves.lines}
    off_plan = 0.0
    for key, s in spent.items():
        ln = by_key.get(key)
        if ln is None or key[0] in ex_nets or key[1] in ex_segs or key in ex_lines:
            off_plan += s
            warnings.append(
                f"actuals: {s:,.2f} on {'/'.join(key)}, a line the plan does not have, "
                "counted against the budget"
            )
        elif s > ln.max_spend + 1e-9:
            off_plan += s - ln.max_spend
            warnings.append(
                f"actuals: {'/'.join(key)} spent {s:,.2f}, above the {ln.max_spend:,.2f} its "
                "curve can hold; the excess is counted against the budget"
            )
    rules = []
    for ln in curves.lines:
        st = status[ln.period]
        if st == "open" or ln.network in ex_nets or ln.segment in ex_segs or ln.key in ex_lines:
            continue
        s = min(spent.get(ln.key, 0.0), ln.max_spend)
        base = {"network": ln.network, "segment": ln.segment, "period": ln.period}
        if st == "elapsed":
            rules.append({**base, "lock": round(s, 6)})
        elif s > 0:
            rules.append({**base, "min": round(s, 6)})
    fixed = {(r["network"], r["segment"], r["period"]) for r in rules}
    kept = []
    for r in spec.get("lines") or []:
        key = (r.get("network"), r.get("segment"), r.get("period"))
        if key not in fixed:
            kept.append(r)
            continue
        mine = next(x for x in rules if (x["network"], x["segment"], x["period"]) == key)
        if "min" in mine and r.get("max") is not None and float(r["max"]) >= mine["min"]:
            mine["max"] = r["max"]
        if r.get("max") is not None or r.get("min") is not None or r.get("lock") is not None:
            warnings.append(f"spec line rule {'/'.join(map(str, key))} replaced by the actuals")
    spec2 = dict(spec)
    spec2["lines"] = kept + rules
    if off_plan:
        spec2["budget"] = round(float(spec["budget"]) - off_plan, 2)
        if spec2["budget"] <= 0:
            raise ActualsError(
                f"actuals: {off_plan:,.2f} was spent off-plan, the whole budget of "
                f"{float(spec['budget']):,.2f}; nothing is left to re-plan"
            )
    plan = optimise(curves, spec2, source=f"{source} (re-plan as of {as_of})", solver=solver)
    gap = float(spec2["budget"]) - float(plan.get("total_spend") or 0.0)
    if gap > 0.005 * float(spec2["budget"]):
        binding = [
            c.get("name")
            for c in plan.get("constraints") or []
            if c.get("binding") and not str(c.get("name")).startswith(("lock", "line"))
        ]
        warnings.append(
            f"the re-plan leaves {gap:,.2f} of the budget unspent; binding rules: "
            f"{', '.join(str(b) for b in binding) or 'none'} (with the spend locked, rules such "
            "as pacing or shares can cap the rest; relax them in the spec to spend it)"
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
                "planned": round(planned, 2),
                "actual": None if st == "open" else round(spent.get(ln.key, 0.0), 2),
                "replanned": round(new, 2),
                "over_under_plan": round(new - planned, 2),
                "planned_results": (po.get(ln.key) or {}).get("expected_results"),
                "replanned_results": (pr.get(ln.key) or {}).get("expected_results"),
            }
        )
    return ReplanResult(
        plan=plan,
        original=original,
        rows=rows,
        as_of=as_of,
        spec=spec2,
        warnings=warnings,
        off_plan_spend=round(off_plan, 2),
        actual_spend=round(sum(spent.values()), 2),
    )
