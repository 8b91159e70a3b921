"""Compare plans: money moved, change in results and cost per result, and why.

The why is the rule changes (spec diff, shadow prices) that moved the money between networks
and segments. Pure functions over :class:`~optimizer.Plan` objects; the specs are diffed as
their sources write them (mappings); the result is a JSON-ready dict. Results that do not add
up across periods (reach: a plan's ``results_additive`` false) get no total across periods:
results, cost per result, their ranges, differences, a network's or segment's results and the
chance of beating the base are null, each period's results are given and ``results_note``
says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer import Curves, Plan, PlanConstraint, PlanSpec
from optimizer.plan import not_additive_note
from optimizer.risk import beats, curves_uncertain, plan_simulation

from .errors import ScenarioError
from .exports.plan import cost_per_result, number

#: label for a difference against the base, as finance writes it
OVER_UNDER = "Over/(under) base"


@dataclass(frozen=True, slots=True)
class PlanCase:
    """One plan to compare: its name, the spec and overrides it ran with, and its plan.

    A plan that could not be made has ``plan=None`` and the ``error`` (and ``diagnosis``)
    that stopped it. ``written_spec`` is the spec as its source writes it (numbers as given),
    what the comparison's ``spec_changes`` show; None shows ``spec.to_dict()``.
    """

    name: str
    spec: PlanSpec
    plan: Plan | None
    overrides: Mapping = field(default_factory=dict)
    error: str | None = None
    diagnosis: Sequence = ()
    source: str | None = None
    written_spec: Mapping | None = None
    #: the curves the plan was made on (its worlds: the chance it beats the base); None for a
    #: plan read from a file
    curves: Curves | None = None

    def spec_as_written(self) -> Mapping:
        """Return the spec as its source writes it (``spec.to_dict()`` when not known)."""
        return self.spec.to_dict() if self.written_spec is None else self.written_spec


def flatten(d, prefix: str = "") -> dict[str, object]:
    """Flatten nested mappings into ``{"a.b": 1, "lines": [...]}``.

    Lists are kept whole; empty mappings are dropped.
    """
    out: dict[str, object] = {}
    if isinstance(d, Mapping):
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, Mapping):  # an empty mapping is the same as none
                out.update(flatten(v, key))
            else:
                out[key] = v
    return out


def spec_diff(base: Mapping, other: Mapping) -> list[dict]:
    """List the rules added, removed or changed from ``base`` to ``other``.

    One ``{path, base, variant}`` per flattened key (see :func:`flatten`) whose value differs;
    numbers that differ only in type (``1`` and ``1.0``) are the same.
    """
    a, b = flatten(base), flatten(other)
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va != vb:
            na, nb = number(va), number(vb)
            if na is not None and nb is not None and na == nb:
                continue
            out.append({"path": k, "base": va, "variant": vb})
    return out


def spend_by(plan: Plan, by: str) -> dict[str, float]:
    """Total the plan's spend per ``by`` (a plan line field: "network", "segment"...)."""
    return {k: t["spend"] for k, t in plan.totals_by(by).items()}


def results_by(plan: Plan, by: str) -> dict[str, float]:
    """Total the plan's expected results per ``by`` (a plan line field)."""
    return {k: t["expected_results"] for k, t in plan.totals_by(by).items()}


def additive(*plans: Plan | None) -> bool:
    """Say whether the results of every plan given add up across periods (reach does not)."""
    return all(getattr(p, "results_additive", True) is not False for p in plans if p is not None)


def plan_totals(plan: Plan) -> dict:
    """Return the status, budget, total spend, expected results and cost per result of a plan.

    The numbers as :func:`~scenarios.exports.plan.totals` reads them from the Plan JSON:
    finite floats or None, the cost per result worked out when the plan has none; results
    and cost per result None when results do not add up across periods (:func:`additive`).
    """
    spend, results = number(plan.total_spend), number(plan.expected_results)
    if spend is None:
        spend = sum(number(ln.spend) or 0.0 for ln in plan.lines)
    if results is None:
        results = sum(number(ln.expected_results) or 0.0 for ln in plan.lines)
    cpr = number(plan.cost_per_result)
    if cpr is None:
        cpr = cost_per_result(spend, results)
    if not additive(plan):  # reach: no total across periods
        results = cpr = None
    return {
        "status": str(plan.status),
        "budget": number(plan.budget),
        "total_spend": spend,
        "expected_results": results,
        "cost_per_result": cpr,
    }


def _moved(base: Plan, other: Plan, by: str) -> list[dict]:
    """List the spend (and results) per ``by`` of both plans, the largest change first.

    A network's or segment's results are a sum across periods: None for reach.
    """
    sb, so = spend_by(base, by), spend_by(other, by)
    summed = additive(base, other)
    rb, ro = results_by(base, by), results_by(other, by)
    rows: list[dict[str, Any]] = []
    for k in sorted(set(sb) | set(so)):
        b, o = sb.get(k, 0.0), so.get(k, 0.0)
        rows.append(
            {
                "name": k,
                "base_spend": round(b, 2),
                "spend": round(o, 2),
                "change": round(o - b, 2),
                "base_results": round(rb.get(k, 0.0), 4) if summed else None,
                "results": round(ro.get(k, 0.0), 4) if summed else None,
            }
        )
    rows.sort(key=lambda r: (-abs(r["change"]), r["name"]))
    return rows


def _of(rule: PlanConstraint | None, name: str):
    """Return the field ``name`` of ``rule``, or None when the plan has no such rule."""
    return None if rule is None else getattr(rule, name)


def _rules(base: Plan, other: Plan) -> list[dict]:
    """List the rules binding in either plan: their binding and shadow price in both."""
    ib = {c.name: c for c in base.constraints if c.name}
    io = {c.name: c for c in other.constraints if c.name}
    rows = []
    for name in list(dict.fromkeys([*ib, *io])):
        cb, co = ib.get(name), io.get(name)
        if not (_of(cb, "binding") or _of(co, "binding")):
            continue
        rows.append(
            {
                "name": name,
                "description": _of(co, "description") or _of(cb, "description"),
                "base_binding": _of(cb, "binding"),
                "binding": _of(co, "binding"),
                "base_shadow_price": number(_of(cb, "shadow_price")),
                "shadow_price": number(_of(co, "shadow_price")),
            }
        )
    return rows


def _delta(a, b):
    a, b = number(a), number(b)
    return None if a is None or b is None else round(b - a, 6)


def _same_units(cases: Sequence[PlanCase]) -> None:
    """Refuse to subtract plans in different result types or currencies."""
    planned = [(c.name, c.plan) for c in cases if c.plan is not None]
    if not planned:
        return
    first, first_plan = planned[0]
    want = (first_plan.result_type, first_plan.currency)
    for name, plan in planned[1:]:
        got = (plan.result_type, plan.currency)
        if got != want:
            raise ScenarioError(
                f"compare: {first} counts {want[0]} in {want[1]} but {name} counts "
                f"{got[0]} in {got[1]}; plans can be compared only in the same result type and "
                "currency (forecast both on the same result type, convert the currency)"
            )
        if plan.results_basis != first_plan.results_basis:
            raise ScenarioError(
                f"compare: {first} counts {first_plan.results_basis} {want[0]} but {name} "
                f"counts {plan.results_basis} {got[0]}; plans can be compared only on the same "
                "results basis (forecast both with or both without --incremental)"
            )


def compare_plans(cases: Sequence[PlanCase]) -> dict:
    """Compare every case with the first (the base) and return a JSON-ready dict.

    ``{"base": NAME, "currency", "result_type", "cases": [{name, status, budget,
    total_spend, expected_results, results_p10, results_p90, cost_per_result,
    beats_base_probability, delta: {...}, moved: {networks, segments}, spec_changes,
    overrides, rules, error, diagnosis}]}``; ``delta`` and the ``change`` columns are
    over/(under) the base (positive = more than the base); ``beats_base_probability`` is the
    chance the case's results beat the base's (:func:`beats_base`). When a plan's results do
    not add up across periods (reach) the comparison has ``results_additive`` false and
    ``results_note``, every total across periods is null and each such case has
    ``by_period`` (each period's spend, results and cost per result).
    """
    if not cases:
        return {"base": None, "cases": []}
    _same_units(cases)
    base = cases[0]
    out_cases = [_case_entry(c, base) for c in cases]
    first = base.plan or next((c.plan for c in cases if c.plan is not None), None)
    out: dict[str, Any] = {
        "base": base.name,
        "currency": None if first is None else first.currency,
        "result_type": None if first is None else first.result_type,
        "cases": out_cases,
    }
    if not additive(*(c.plan for c in cases)) and first is not None:
        out["results_additive"] = False
        out["results_note"] = _compare_note(first.result_type)
    return out


def _compare_note(result_type: str) -> str:
    """Say why a comparison of plans on non-additive results shows no total across periods."""
    return (
        f"{not_additive_note(result_type)}: results, cost per result, their P10-P90 and "
        "differences, a network's or segment's results and the chance of beating the base "
        "are null; each case's periods are under by_period"
    )


def _case_entry(c: PlanCase, base: PlanCase) -> dict:
    """Return one case of :func:`compare_plans`: its totals, and its changes from ``base``."""
    entry: dict = {"name": c.name, "source": c.source, "overrides": dict(c.overrides)}
    if c.plan is None:
        entry.update(
            status="infeasible" if c.diagnosis else "error",
            error=c.error,
            diagnosis=list(c.diagnosis),
            budget=number(c.spec.budget),
        )
    else:
        t = plan_totals(c.plan)
        entry.update(
            {
                k: t[k]
                for k in ("status", "budget", "total_spend", "expected_results", "cost_per_result")
            }
        )
        entry["results_p10"], entry["results_p90"] = _total_range(c.plan)
        if not additive(c.plan):  # each period's, as the Plan JSON's ``by_period``
            entry["by_period"] = _by_period(c.plan)
    if c is base:
        return entry
    # the effective spec already holds the overrides' rules, budget and exclusions
    entry["spec_changes"] = spec_diff(base.spec_as_written(), c.spec_as_written()) + spec_diff(
        {"overrides": {"cost_per_result": base.overrides.get("cost_per_result", {})}},
        {"overrides": {"cost_per_result": c.overrides.get("cost_per_result", {})}},
    )
    if c.plan is not None and base.plan is not None:
        entry["beats_base_probability"] = beats_base(c, base)
        bt, t = plan_totals(base.plan), plan_totals(c.plan)
        entry["delta"] = {
            k: _delta(bt[k], t[k])
            for k in ("budget", "total_spend", "expected_results", "cost_per_result")
        }
        entry["moved"] = {
            "networks": _moved(base.plan, c.plan, "network"),
            "segments": _moved(base.plan, c.plan, "segment"),
        }
        entry["rules"] = _rules(base.plan, c.plan)
    return entry


def _total_range(plan: Plan) -> tuple[float | None, float | None]:
    """Return the P10 and P90 of the plan's total results (None: no range, or reach)."""
    r = plan.ranges or {}
    if r.get("source") in (None, "none") or not additive(plan):
        return None, None
    total = r.get("total") or {}
    return total.get("p10"), total.get("p90")


def _by_period(plan: Plan) -> dict[str, dict]:
    """Return each period's spend, results and cost per result (``Plan.by_period``)."""
    keys = ("spend", "expected_results", "cost_per_result")
    return {p: {k: t[k] for k in keys} for p, t in plan.by_period().items()}


def beats_base(case: PlanCase, base: PlanCase) -> float | None:
    """Return the chance that ``case``'s results beat the base's, world by world.

    Both plans are simulated in the same worlds of the forecast's uncertainty
    (``optimizer/risk.py``: draws seeded by the lines' names; on curves of incremental results
    the lift tests' too), so what the two plans share (a network's level error) moves both
    alike. None when a plan comes without its curves (read from a file), neither curve set
    carries any uncertainty, or results do not add up across periods (reach: the chance
    would compare sums across periods).
    """
    if case.curves is None or base.curves is None or case.plan is None or base.plan is None:
        return None
    if not additive(case.plan, base.plan):
        return None
    if not (curves_uncertain(case.curves) or curves_uncertain(base.curves)):
        return None  # nothing to simulate: known before drawing any world
    return beats(plan_simulation(case.plan, case.curves), plan_simulation(base.plan, base.curves))
