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


def _group_rules(  # noqa: C901 (split in issue 10)
    norm: dict,
    kind: str,
    present: set[str],
    done: Mapping[str, float],
    budget: float,
    convert: bool,
    warnings: list[str],
    floor_of: Mapping[str, float] | None = None,
) -> dict:
    """Rewrite the spec's ``kind`` rules for the open part of the plan.

    The spend already made (``done``) counts against floors and caps; with ``convert``,
    shares become currency limits of the whole budget.
    """
    out = {}
    for name, r in (norm.get(kind) or {}).items():
        d = done.get(name, 0.0)
        if not convert:
            if name in present:
                out[name] = dict(r)
            continue
        mins = [] if r.get("min") is None else [r["min"] - d]
        maxs = [] if r.get("max") is None else [r["max"] - d]
        if r.get("min_share") is not None:
            mins.append(r["min_share"] * budget - d)
        if r.get("max_share") is not None:
            maxs.append(r["max_share"] * budget - d)
        new: dict = {}
        if mins and max(mins) > EPS:
            new["min"] = max(mins)
        if maxs:
            cap = min(maxs)
            if cap < -0.005:
                warnings.append(
                    f"spec.{kind}.{name}: {d:,.2f} already spent, {-cap:,.2f} above its cap; "
                    "nothing more is planned on it"
                )
            new["max"] = max(cap, 0.0)
        low = (floor_of or {}).get(name, 0.0)
        if "max" in new and new["max"] < low:  # what is spent in the current period stays
            warnings.append(
                f"spec.{kind}.{name}: its cap is below the {low:,.2f} already spent in it; "
                "raised to that"
            )
            new["max"] = low
        if "min" in new and "max" in new and new["min"] > new["max"]:
            new["min"] = new["max"]
        if name not in present:
            if new.get("min"):
                warnings.append(
                    f"spec.{kind}.{name}: {new['min']:,.2f} short of its floor, but it has no "
                    "open line left; the floor is dropped"
                )
            continue
        if new:
            out[name] = new
    return out


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
        sub, notes = _open_spec(
            norm,
            sub_curves,
            status,
            current,
            locked,
            done,
            budget,
            left,
            convert=off_plan + elapsed_spend > EPS,
        )
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


def _open_spec(  # noqa: C901 (split in issue 10)
    norm: dict,
    sub_curves: Curves,
    status: Mapping[str, str],
    current: Mapping[tuple[str, str, str], float],
    locked: Mapping[tuple[str, str, str], float],
    done: Mapping[str, Mapping[str, float]],
    budget: float,
    left: float,
    *,
    convert: bool,
) -> tuple[dict, list[str]]:
    """Build the spec for the current and open periods, ``left`` to spend (module docstring)."""
    notes: list[str] = []
    sub: dict = {"budget": left}
    if norm.get("objective"):
        sub["objective"] = norm["objective"]
    remaining = set(sub_curves.periods)
    now: dict[str, dict[str, float]] = {k: defaultdict(float) for k in ("networks", "segments")}
    now_period: dict[str, float] = defaultdict(float)
    for (net, seg, p), s in current.items():
        now["networks"][net] += s
        now["segments"][seg] += s
        now_period[p] += s
    for kind in ("networks", "segments"):
        rules = _group_rules(
            norm,
            kind,
            set(getattr(sub_curves, kind)),
            done[kind],
            budget,
            convert,
            notes,
            now[kind],
        )
        if rules:
            sub[kind] = rules
    periods = {k: v for k, v in (norm.get("periods") or {}).items() if k in remaining}
    rules = _group_rules(
        {"periods": periods}, "periods", remaining, {}, budget, convert, notes, now_period
    )
    if rules:
        sub["periods"] = rules
    lines = []
    seen = set()
    for r in norm.get("lines") or []:
        key = (r["network"], r["segment"], r["period"])
        if status.get(key[2]) == "elapsed":
            notes.append(f"spec line rule {'/'.join(key)} replaced by the actuals")
            continue
        r = dict(r)
        act = current.get(key, 0.0)
        if act > 0:
            seen.add(key)
            if r.get("lock") is not None and r["lock"] < act:
                notes.append(
                    f"spec line rule {'/'.join(key)}: lock raised to the actual {act:,.2f}"
                )
                r["lock"] = act
            elif r.get("lock") is None:
                r["min"] = max(float(r.get("min") or 0.0), act)
                if r.get("max") is not None and r["max"] < r["min"]:
                    notes.append(
                        f"spec line rule {'/'.join(key)}: max raised to the actual {act:,.2f}"
                    )
                    r["max"] = r["min"]
        lines.append(r)
    for key, act in current.items():
        if key not in seen:
            lines.append({"network": key[0], "segment": key[1], "period": key[2], "min": act})
    if lines:
        sub["lines"] = lines
    ex = norm.get("exclude") or {}
    sub_ex = {
        k: [x for x in ex.get(k) or [] if x in set(getattr(sub_curves, k))]
        for k in ("networks", "segments")
    }
    sub_ex["lines"] = [x for x in ex.get("lines") or [] if x["period"] in remaining]
    sub_ex = {k: v for k, v in sub_ex.items() if v}
    if sub_ex:
        sub["exclude"] = sub_ex
    if norm.get("pacing") is not None:
        pacing = dict(norm["pacing"])
        if pacing.get("weights") is not None:
            w = {p: v for p, v in pacing["weights"].items() if p in remaining}
            pacing["weights"] = w
        if pacing.get("weights") is not None and sum(pacing["weights"].values()) <= 0:
            notes.append("spec.pacing: the periods left all have weight 0; pacing dropped")
        else:
            sub["pacing"] = pacing
    for k in ("max_period_change", "max_cost_per_result", "min_line_spend"):
        if norm.get(k) is not None:
            sub[k] = norm[k]
    if norm.get("max_active_lines") is not None:
        on = sum(1 for v in locked.values() if v > EPS)
        sub["max_active_lines"] = max(0, int(norm["max_active_lines"]) - on)
    floors = []
    for f in norm.get("results_floors") or []:
        fc = Curves.from_dict(f["curves"], source="results floor curves")
        got = sum(ln.results_at(locked.get(ln.key, 0.0)) for ln in fc.lines if ln.key in locked)
        need = float(f["min"]) - got
        if need > EPS:
            rest = fc.filter(ln for ln in fc.lines if ln.period in remaining)
            floors.append({"result_type": f["result_type"], "min": need, "curves": rest.to_dict()})
    if floors:
        sub["results_floors"] = floors
    return sub, notes
