"""The plan: what to spend on every line, what it should bring, and why (rules, duals).

``read_plan`` turns a solver's :class:`~optimizer.solvers.Solution` into a :class:`Plan`.
Totals are the plain sums of the line values in the order the lines are listed, so they equal
the sum of the lines exactly; nothing is rounded in the data (round when you display).

Sign convention (every solver): ``shadow_price`` = d(objective)/d(the rule's limit): the extra
results (or value) the plan would get per extra unit of the rule's limit. Raising a ceiling
(budget, max, max_share) helps, so its price is >= 0; raising a floor (min, min_share) hurts,
so its price is <= 0. Share, pacing, change and cost-per-result rules are written as
"spend - share x total <= 0", so their limit is in currency: the price is per unit of currency
of extra room.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .explain import Reason, Terms, line_reasons
from .lazy import Lazy, LineColumns, grouped_sums, line_totals
from .ledger import rule_costs
from .lp import rule_name
from .mip import MINIMUM_FAMILIES
from .model import Model
from .rules import CUT_FAMILIES, fmt, line_values
from .rules.onoff import has_minimums, line_minimums
from .solvers import Solution, row_activity, row_tolerance

ZERO = 1e-7  # spends below this (in currency) are solver noise, shown as 0


def _f(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One line of the plan: its spend, the results expected from it and what they cost.

    ``marginal_cost_per_result`` is the cost of one more result at this spend (None where the
    curve is flat); ``max_spend`` is the most the line's curve can absorb; ``limited_by`` why
    it gets no more (:class:`~optimizer.explain.Reason`).
    """

    network: str
    segment: str
    period: str
    spend: float
    expected_results: float
    cost_per_result: float | None
    marginal_cost_per_result: float | None
    max_spend: float
    limited_by: Reason | None = None
    #: P10 and P90 of the line's results (``optimizer/risk.py``; None: no ranges made)
    results_p10: float | None = None
    results_p90: float | None = None
    #: the results that land inside the plan's dates (None: no curve line says, see
    #: :func:`response_lines`)
    results_inside: float | None = None
    #: the platforms' attributed results and the incremental ones, side by side (None: the
    #: curves carry no lift, or this line's is unknown)
    results_attributed: float | None = None
    results_incremental: float | None = None

    def to_dict(self) -> dict:
        """Return the line as its Plan JSON object (the range and the others only when set)."""
        d = {
            "network": self.network,
            "segment": self.segment,
            "period": self.period,
            "spend": self.spend,
            "expected_results": self.expected_results,
            "cost_per_result": self.cost_per_result,
            "marginal_cost_per_result": self.marginal_cost_per_result,
            "max_spend": self.max_spend,
            "limited_by": None if self.limited_by is None else self.limited_by.to_dict(),
        }
        if self.results_p10 is not None:
            d["results_p10"], d["results_p90"] = self.results_p10, self.results_p90
        for key in LINE_RESPONSE_KEYS:
            v = getattr(self, key)
            if v is not None:
                d[key] = v
        return d


#: a plan line's optional figures of its curve's carry-over and lift (Plan JSON line keys)
LINE_RESPONSE_KEYS = ("results_inside", "results_attributed", "results_incremental")


@dataclass(frozen=True, slots=True)
class PlanConstraint:
    """One rule of the plan: whether it binds, its slack, its shadow price and what it costs.

    ``shadow_price`` follows the sign convention in the module docstring: a rate at the
    margin. ``gain_if_removed`` is what removing the rule would gain, measured by an exact
    re-solve (the ledger; None when not re-solved), ``gain_proven`` false when that re-solve
    stopped at its time limit (then it is a lower bound). For a rule on spend,
    ``per_1000`` is the shadow price per 1,000 of currency and ``next_result_cost`` the cost
    of the result that one more unit of room buys (under objective results).
    """

    name: str
    description: str
    family: str
    unit: str
    binding: bool
    slack: float
    shadow_price: float
    gain_if_removed: float | None = None
    gain_proven: bool | None = None
    per_1000: float | None = None
    next_result_cost: float | None = None

    def to_dict(self) -> dict:
        """Return the rule as its Plan JSON object (``words``: the rule as people say it)."""
        return {
            "name": self.name,
            "description": self.description,
            "words": self.description,
            "family": self.family,
            "unit": self.unit,
            "binding": self.binding,
            "slack": self.slack,
            "shadow_price": self.shadow_price,
            "per_1000": self.per_1000,
            "next_result_cost": self.next_result_cost,
            "gain_if_removed": self.gain_if_removed,
            "gain_proven": self.gain_proven,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """An optimal plan. ``to_dict()`` is the Plan JSON of docs/design.md (plus extras)."""

    status: str
    budget: float
    total_spend: float
    expected_results: float
    cost_per_result: float | None
    currency: str
    result_type: str
    objective: str
    #: the lines, unfunded lines and constraints: tuples, or made when first read (Lazy)
    lines: Sequence[PlanLine]
    constraints: Sequence[PlanConstraint]
    unfunded: Sequence[dict]
    excluded: tuple[dict, ...] = ()
    expected_value: float | None = None
    other_results: Mapping[str, float] = field(default_factory=dict)
    solver: Mapping = field(default_factory=dict)
    target_results: float | None = None
    #: warnings about the plan a person should read (e.g. why the budget is not spent in full)
    notes: tuple[str, ...] = ()
    #: the budget left unspent and what stopped more spend (see :func:`unspent_of`)
    unspent: Mapping = field(default_factory=dict)
    expected_profit: float | None = None
    #: P10 / P50 / P90 of the results (total, per network, segment, period) and of the cost
    #: per result, simulated (``optimizer/risk.py``); None when not made
    ranges: Mapping | None = None
    #: the chance of reaching ``target_results`` (in the same simulation)
    target_probability: float | None = None
    #: the chance asked for (``--confidence``): the budget is the least that reaches it
    target_confidence: float | None = None
    #: a risk-aware plan's figures beside the mean plan's (``objective: cvar``)
    risk: Mapping | None = None
    #: the results inside the plan's dates and after them (carry-over; None: no curve line
    #: carries ``inside``); they add up to ``expected_results``
    results_inside: float | None = None
    results_after: float | None = None
    #: attributed and incremental results side by side (None: no curve line carries
    #: ``lift``, or some funded line's is unknown: a note says which)
    results_attributed: float | None = None
    results_incremental: float | None = None
    cost_per_incremental_result: float | None = None
    #: what the curves' points count: ``attributed`` or ``incremental`` (the LP maximises it)
    results_basis: str = "attributed"
    #: false for results that cannot be added across periods (reach): no total is shown
    results_additive: bool = True

    def totals_by(self, kind: str) -> dict[str, dict[str, float]]:
        """Sum spend and results per network, segment or period (``kind`` is one of those)."""
        lazy = self.lines if isinstance(self.lines, Lazy) else None
        if lazy is not None and lazy.columns is not None:  # made or not: the lines' floats
            return grouped_sums(kind, lazy.columns)
        out: dict[str, dict[str, float]] = {}
        for ln in self.lines:
            t = out.setdefault(getattr(ln, kind), {"spend": 0.0, "expected_results": 0.0})
            t["spend"] += ln.spend
            t["expected_results"] += ln.expected_results
        return out

    @property
    def results_note(self) -> str | None:
        """Say why the plan shows no total of results across periods (None: it does)."""
        return None if self.results_additive else not_additive_note(self.result_type)

    def by_period(self) -> dict[str, dict]:
        """Return each period's spend, results, cost per result and the other results known.

        Per-period totals hold whether or not results add up across periods. One pass over
        the lines (a pass per period took 3 s at 208,000 lines of 52 periods).
        """
        by: dict[str, list[PlanLine]] = {}
        for ln in self.lines:
            by.setdefault(ln.period, []).append(ln)
        known = [
            key
            for key in LINE_RESPONSE_KEYS
            if any(getattr(ln, key) is not None for ln in self.lines)
        ]
        out: dict[str, dict] = {}
        for period in sorted(by):
            lines = by[period]
            spend = sum(ln.spend for ln in lines)
            results = sum(ln.expected_results for ln in lines)
            t = {
                "spend": spend,
                "expected_results": results,
                "cost_per_result": spend / results if results > 0 else None,
            }
            for key in known:
                t[key] = known_sum(lines, key)
            out[period] = t
        return out

    def ledger(self) -> list[PlanConstraint]:
        """Return the binding rules, the most costly first: by the gain if removed, then price.

        Rules not re-solved (None) come after those measured; the ends of curves are not rules.
        """
        rules = [c for c in self.constraints if c.binding and c.family != "curve_end"]
        return sorted(
            rules, key=lambda c: (c.gain_if_removed is None, -(c.gain_if_removed or 0.0),
                                  -abs(c.shadow_price))
        )  # fmt: skip

    def curve_ends(self) -> list[PlanConstraint]:
        """Return the lines at the end of their curves (the forecast's caps), as limits."""
        return [c for c in self.constraints if c.family == "curve_end"]

    def to_dict(self) -> dict:
        """Return the Plan JSON; optional keys appear only when set."""
        d = {
            "status": self.status,
            "budget": self.budget,
            "total_spend": self.total_spend,
            "expected_results": self.expected_results,
            "cost_per_result": self.cost_per_result,
            "currency": self.currency,
            "result_type": self.result_type,
            "objective": self.objective,
            "lines": [ln.to_dict() for ln in self.lines],
            "constraints": [c.to_dict() for c in self.constraints],
            "unfunded": [dict(u) for u in self.unfunded],
            "excluded": [dict(e) for e in self.excluded],
            "solver": dict(self.solver),
            "notes": list(self.notes),
            "ledger": [_ledger_entry(c) for c in self.ledger()],
            "unspent": dict(self.unspent),
        }
        if self.expected_value is not None:
            d["expected_value"] = self.expected_value
        if self.expected_profit is not None:
            d["expected_profit"] = self.expected_profit
        if self.other_results:
            d["other_results"] = dict(self.other_results)
        if self.target_results is not None:
            d["target_results"] = self.target_results
        for key in ("ranges", "target_probability", "target_confidence", "risk"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        for key in PLAN_RESPONSE_KEYS:
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        d["results_basis"] = self.results_basis
        d["results_additive"] = self.results_additive
        d["by_period"] = self.by_period()
        if not self.results_additive:
            _without_totals_across_periods(d, self.result_type)
        return d


#: the plan's optional totals of carry-over and lift (Plan JSON keys, only when known)
PLAN_RESPONSE_KEYS = (
    "results_inside",
    "results_after",
    "results_attributed",
    "results_incremental",
    "cost_per_incremental_result",
)
#: the Plan JSON keys that hold a total across periods: null when results are not additive
TOTALS_ACROSS_PERIODS = ("expected_results", "cost_per_result", *PLAN_RESPONSE_KEYS)


def summed_name(result_type: str, additive: bool) -> str:
    """Name what a total across periods counts.

    The result type; for results that do not add up across periods (reach) the sum plans
    maximise and targets count, ``person-periods of reach``.
    """
    return result_type if additive else f"person-periods of {result_type}"


def not_additive_note(result_type: str) -> str:
    """Say why a plan on non-additive results (reach) shows no total across periods."""
    return (
        f"{result_type} cannot be added across periods (people reached in two periods would "
        "be counted twice), so no total across periods is shown, only each period's; the "
        f"plan maximises the sum of the periods' {result_type} (person-periods, not people)"
    )


def _without_totals_across_periods(d: dict, result_type: str) -> None:
    """Null the Plan JSON's totals across periods in place, and say why (``results_note``).

    The ranges keep their periods; their total, cost per result, networks and segments
    (each a sum across periods) keep their keys with null quantiles.
    """
    note = not_additive_note(result_type)
    for key in TOTALS_ACROSS_PERIODS:
        if key in d:
            d[key] = None
    d["results_note"] = note
    r = d.get("ranges")
    if isinstance(r, Mapping):
        r = dict(r)
        nulls = {"p10": None, "p50": None, "p90": None}
        for key in ("total", "cost_per_result"):
            if key in r:
                r[key] = dict(nulls)
        for key in ("networks", "segments"):
            if isinstance(r.get(key), Mapping):
                r[key] = {name: dict(nulls) for name in r[key]}
        r["note"] = f"{r.get('note') or ''}; {note}".lstrip("; ")
        d["ranges"] = r


def known_sum(lines: Sequence[PlanLine], key: str) -> float | None:
    """Return the sum of the lines' ``key``, or None when a line with spend or results lacks it.

    A line with neither spend nor results counts 0 whatever it lacks (it brings nothing).
    """
    total = 0.0
    for ln in lines:
        v = getattr(ln, key)
        if v is None:
            if ln.spend > 0 or ln.expected_results > 0:
                return None
            continue
        total += v
    return total


def _ledger_entry(c: PlanConstraint) -> dict:
    """Return one ledger row: the rule in words and by id, what removing it gains, its price."""
    return {
        "rule": c.name,
        "words": c.description,
        "family": c.family,
        "unit": c.unit,
        "gain_if_removed": c.gain_if_removed,
        "gain_proven": c.gain_proven,
        "shadow_price": c.shadow_price,
        "per_1000": c.per_1000,
        "next_result_cost": c.next_result_cost,
    }


def line_results(model: Model, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the results at ``spend`` on each curve (tiers filled in order) and the slope there.

    The slope is that of the last tier with spend in it, or of the first tier at zero spend.
    """
    start = model.tier_start
    width = model.col_ub[: model.n_tier]
    cum = np.cumsum(width)
    before = cum - width - np.repeat(cum[start[:-1]] - width[start[:-1]], np.diff(start))
    fill = np.clip(spend[model.tier_line] - before, 0.0, width)
    per_tier = model.tier_slope * fill
    res = np.add.reduceat(per_tier, start[:-1].astype(np.intp))
    # marginal: slope of the last tier with spend in it, or of the first tier at zero spend
    used = fill > 1e-9 * np.maximum(1.0, width)  # not a rounding crumb past a full tier
    last = np.maximum.reduceat(np.where(used, np.arange(len(fill)), -1), start[:-1].astype(np.intp))
    idx = np.where(last >= 0, last, start[:-1])
    return res, model.tier_slope[idx]


def read_plan(
    model: Model,
    sol: Solution,
    *,
    curves,
    spec,
    solver=None,
) -> Plan:
    """Turn a solver's solution of ``model`` into a :class:`Plan`.

    Adds what the solution alone does not say: results of other types on their curves, each
    reported rule's slack, price and measured cost (the ledger), why each line gets no more
    (``optimizer/explain.py``), the lines at the end of their curves, and the budget left
    unspent and what stopped it. ``solver`` is the HiGHS solver that solved ``model``, reused
    warm by the ledger's re-solves.
    """
    spec = spec.for_curves(curves)  # the names as the model has them (facebook: meta)
    spend = _line_spend(model, sol)
    on = np.round(sol.x[model.binary_cols]) > 0.5 if model.is_mip else None
    terms = _terms(model, curves, spec)
    results, mslope = line_results(model, spend)
    lines = Lazy(
        lambda: _line_objects(model, spend, results, mslope, line_reasons(model, sol, on, terms)),
        len(model.lines),
        LineColumns(model.lines, spend, results, curves if _whole(model, curves) else None),
    )
    other = _other_results(model, spec, spend)
    rules = tuple(_costed(model, sol, _constraints(model, sol, other, on), terms, solver))
    constraints = Lazy(lambda: (*rules, *_curve_end_limits(lines, terms)))
    value = _value(model, results, terms)
    plan = plan_of(model, sol, curves, spec, lines, constraints, other)
    if spec.objective == "profit":
        plan = replace(plan, expected_profit=(value or 0.0) - plan.total_spend)
    return replace(plan, expected_value=value)


def _whole(model: Model, curves) -> bool:
    """Say whether ``model`` plans every line of ``curves`` (none excluded), in their order."""
    return len(model.lines) == len(getattr(curves, "lines", ())) and hasattr(curves, "memo")


def plan_of(model: Model, sol: Solution, curves, spec, lines, constraints, other) -> Plan:
    """Return the :class:`Plan` of ``lines`` and ``constraints``, with what follows from them.

    Its totals, unspent budget, unfunded and excluded lines and notes; ``model`` is the LP
    solved and ``sol`` its solution.
    """
    lines = response_lines(model.lines, lines, curves)
    total_spend, total_results = line_totals(lines)
    unspent = unspent_of(spec.budget, total_spend, lines)
    notes = unspent_notes(spec.budget, total_spend, unspent, curves.currency)
    if sol.status == "time_limit":
        notes = (*notes, time_limit_note(sol))
    response, response_notes = response_totals(lines, total_spend, curves)
    return Plan(
        status=sol.status,
        budget=spec.budget,
        total_spend=total_spend,
        expected_results=total_results,
        cost_per_result=total_spend / total_results if total_results > 0 else None,
        currency=curves.currency,
        result_type=curves.result_type,
        objective=spec.objective,
        lines=lines if isinstance(lines, Lazy) else tuple(lines),
        constraints=constraints if isinstance(constraints, Lazy) else tuple(constraints),
        unfunded=Lazy(lambda: _unfunded(lines)),
        excluded=tuple(
            {"network": ln.network, "segment": ln.segment, "period": ln.period}
            for ln in model.excluded
        ),
        other_results=other,
        solver=_solver_info(model, sol),
        notes=(*notes, *response_notes),
        unspent=unspent,
        **response,
    )


def response_lines(curve_lines, lines: Sequence[PlanLine], curves) -> Sequence[PlanLine]:
    """Return ``lines`` with their results inside the plan and attributed / incremental.

    ``curve_lines`` are the curve lines planned (matched by key). Results inside the plan
    are the line's results x its ``inside`` (a line without it counts as wholly inside),
    set on every line when any curve line carries ``inside``. Where any curve line carries
    ``lift``: under basis ``attributed`` the attributed results are the results and the
    incremental ones results x ratio (unknown on a line without lift); under ``incremental``
    the incremental results are the results and the attributed ones results / ratio
    (unknown when the ratio is 0).
    """
    has_inside, has_lift = _response_kinds(curves, curve_lines)
    if not (has_inside or has_lift):
        return lines
    by_key = {ln.key: ln for ln in curve_lines}
    incremental = getattr(curves, "basis", "attributed") == "incremental"
    out = []
    for p in lines:
        ln = by_key[(p.network, p.segment, p.period)]
        r = p.expected_results
        inside = None
        if has_inside:
            inside = r if ln.inside is None else r * ln.inside
        att = inc = None
        if has_lift and incremental:
            inc = r
            att = r / ln.lift.ratio if ln.lift is not None and ln.lift.ratio > 0 else None
        elif has_lift:
            att = r
            inc = None if ln.lift is None else r * ln.lift.ratio
        out.append(
            replace(p, results_inside=inside, results_attributed=att, results_incremental=inc)
        )
    return out


def _response_kinds(curves, curve_lines) -> tuple[bool, bool]:
    """Return whether any curve line carries ``inside``, and whether any carries ``lift``."""

    def find() -> tuple[bool, bool]:
        all_lines = getattr(curves, "lines", curve_lines)
        return (
            any(ln.inside is not None for ln in all_lines),
            any(ln.lift is not None for ln in all_lines),
        )

    memo = getattr(curves, "memo", None)
    return find() if memo is None else memo("response_kinds", find)


def response_totals(
    lines: Sequence[PlanLine], total_spend: float, curves
) -> tuple[dict, tuple[str, ...]]:
    """Return the plan's totals of carry-over and lift (:class:`Plan` fields), and notes.

    The results inside the plan and after it (they add up to the plan's results); the
    attributed and incremental results and the cost per incremental result, None with a
    note when a funded line's are unknown (no note for results that do not add up across
    periods: the Plan JSON shows none of these totals then); the curves' basis and
    additivity.
    """
    out: dict = {
        "results_basis": getattr(curves, "basis", "attributed"),
        "results_additive": getattr(curves, "additive", True),
    }
    notes: list[str] = []
    if isinstance(lines, Lazy) and not lines.made:
        return out, ()  # lines still to make: no curve line carries inside or lift
    if any(p.results_inside is not None for p in lines):
        out["results_inside"] = sum(p.results_inside or 0.0 for p in lines)
        out["results_after"] = sum(p.expected_results - (p.results_inside or 0.0) for p in lines)
    for key, words in (
        ("results_attributed", "attributed"),
        ("results_incremental", "incremental"),
    ):
        if not any(getattr(p, key) is not None for p in lines):
            continue
        total = known_sum(lines, key)
        out[key] = total
        if total is None and out["results_additive"]:  # (else no total is shown anyway)
            notes.append(_unknown_note(lines, key, words, getattr(curves, "result_type", "")))
    inc = out.get("results_incremental")
    if inc is not None:
        out["cost_per_incremental_result"] = total_spend / inc if inc > 0 else None
    return out, tuple(notes)


def point_figures(curve_lines, spend, results, curves) -> dict:
    """Return a frontier point's totals of carry-over and lift, its basis and additivity.

    ``spend`` and ``results`` per line of ``curve_lines`` (the model's lines). The keys of
    :data:`PLAN_RESPONSE_KEYS` the curves give (as a plan's: see :func:`response_totals`),
    ``results_basis`` and ``results_additive``.
    """
    bare = [
        PlanLine(ln.network, ln.segment, ln.period, float(s), float(r), None, None, ln.max_spend)
        for ln, s, r in zip(curve_lines, spend, results, strict=True)
    ]
    lines = response_lines(curve_lines, bare, curves)
    out, _ = response_totals(lines, sum(p.spend for p in lines), curves)
    return out


def _unknown_note(lines: Sequence[PlanLine], key: str, words: str, result_type: str) -> str:
    """Say which funded lines leave the plan's attributed or incremental total unknown."""
    missing = [
        f"{p.network}/{p.segment}/{p.period}"
        for p in lines
        if getattr(p, key) is None and (p.spend > 0 or p.expected_results > 0)
    ]
    one = len(missing) == 1
    if words == "incremental":
        why = "carries no lift test" if one else "carry no lift test"
    else:
        why = "has a lift ratio of 0" if one else "have a lift ratio of 0"
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return (
        f"no total of {words} {result_type}: {_count(len(missing), 'funded line')} {why} "
        f"({shown}); the lines that have them show them"
    )


def _terms(model: Model, curves, spec) -> Terms:
    """Return what the reasons' words need: names, the objective and each line's value."""
    if spec.objective == "results":
        values = np.ones(len(model.lines))
    else:
        values = np.array(line_values(spec, model.lines, curves.result_type), dtype=float)
    minimums: tuple = ()  # (Terms: () when no line has one)
    if has_minimums(spec):
        minimums = tuple(line_minimums(spec, [ln.key for ln in model.lines], curves.currency))
    return Terms(curves.result_type, curves.currency, spec.objective, values, minimums)


def _line_spend(model: Model, sol: Solution) -> np.ndarray:
    """Return each line's spend: its tiers added up, with solver noise below ZERO cleared."""
    nt = model.n_tier
    x = np.clip(sol.x[:nt], 0.0, model.col_ub[:nt])
    spend = np.add.reduceat(x, model.tier_start[:-1].astype(np.intp))
    spend[np.abs(spend) < ZERO] = 0.0
    return spend


def _plan_lines(
    model: Model, spend: np.ndarray, reasons: Sequence[Reason | None]
) -> list[PlanLine]:
    """Return the plan's lines: spend, results, the cost of the next result and the reason."""
    results, mslope = line_results(model, spend)
    return _line_objects(model, spend, results, mslope, reasons)


def _line_objects(
    model: Model, spend: np.ndarray, results: np.ndarray, mslope: np.ndarray, reasons
) -> list[PlanLine]:
    """Return the lines of ``spend``, its ``results`` and slopes there (:func:`line_results`)."""
    # the numbers of every line at once, as Python floats (None where not defined)
    with np.errstate(divide="ignore", invalid="ignore"):
        cpr = np.where(results > 0, spend / results, np.nan)
        mcpr = np.where(mslope > 0, 1.0 / mslope, np.nan)
    return [
        PlanLine(
            network=ln.network,
            segment=ln.segment,
            period=ln.period,
            spend=s,
            expected_results=r,
            cost_per_result=None if c != c else c,
            marginal_cost_per_result=None if m != m else m,
            max_spend=ln.max_spend,
            limited_by=why,
        )
        for ln, s, r, c, m, why in zip(
            model.lines, spend.tolist(), results.tolist(), cpr.tolist(), mcpr.tolist(), reasons,
            strict=True,
        )
    ]  # fmt: skip


def _value(model: Model, results: np.ndarray, terms: Terms) -> float | None:
    """Return the plan's value under objectives 'value' and 'profit' (None under 'results')."""
    if model.objective == "results":
        return None
    return sum((results * terms.values).tolist())  # in the lines' order, as their sum


def _other_results(model: Model, spec, spend: np.ndarray) -> dict[str, float]:
    """Return the results of each results floor's type, valued on its curves at the spend."""
    other = {}
    for fl in spec.results_floors:
        by_key = {ln.key: ln for ln in fl.curves.lines}
        other[fl.result_type] = sum(
            by_key[ln.key].results_at(float(spend[i])) if ln.key in by_key else 0.0
            for i, ln in enumerate(model.lines)
        )
    return other


def _constraints(model: Model, sol: Solution, other: dict, on) -> list[tuple[int, PlanConstraint]]:
    """Return every reported rule (and its row) with its slack, whether it binds and its price."""
    act = row_activity(model, sol.x).tolist()
    row_tol = row_tolerance(model, sol.x).tolist()  # the one binding test (optimizer/solvers.py)
    duals = np.asarray(sol.row_dual, dtype=float).tolist()
    out = []
    for i, info in enumerate(model.rows):
        if not info.report:
            continue
        if info.family in MINIMUM_FAMILIES and on is not None:
            li = int(np.searchsorted(model.binary_cols, model.indices[model.indptr[i + 1] - 1]))
            if not on[li]:
                continue  # a line switched off: its minimum does not apply
        slack = _slack(model, i, act[i])
        if slack is None:
            continue
        if info.family == "results_floor":
            # the LP's hypograph columns may sit below their curves (they only need to reach
            # the floor): the floor's true slack is what the curves give at this spend
            slack = float(other[info.target[0]] - info.limit)
        tol = row_tol[i]
        if abs(slack) < tol:
            slack = 0.0
        y = duals[i]
        if abs(y) < 1e-12 or slack > tol:
            y = 0.0  # a rule with room to spare has no price (complementary slackness)
        binding = slack <= tol if info.family not in CUT_FAMILIES else y > 1e-12
        item = PlanConstraint(
            name=info.name,
            description=info.description,
            family=info.family,
            unit=info.unit,
            binding=bool(binding),
            slack=max(slack, 0.0),
            shadow_price=y,
        )
        out.append((i, item))
    return out


def _costed(model: Model, sol: Solution, rules: list, terms: Terms, solver) -> list[PlanConstraint]:
    """Add what each binding rule costs (the ledger's re-solves) and its price per 1,000.

    A rule that holds spend at 0 (a marginal-cost ceiling) shows no slack: it is re-solved
    too, and binds when it has a price or removing it would gain something.
    """
    rows = [r for r, c in rules if c.binding or c.family in CUT_FAMILIES]
    costs = rule_costs(model, sol, rows, time_limit=sol.time_limit, solver=solver)
    by_row = {rc.row: rc for rc in costs}
    out = []
    for r, c in rules:
        per, nxt = _per_1000(c, terms)
        rc = by_row.get(r)
        gain = None if rc is None else rc.gain
        binding = c.binding or bool(gain and gain > 1e-9 * max(1.0, abs(sol.objective)))
        out.append(  # (the constructor: dataclasses.replace took 8 us a rule)
            PlanConstraint(
                c.name,
                c.description,
                c.family,
                c.unit,
                binding,
                c.slack,
                c.shadow_price,
                gain_if_removed=gain if binding else None,
                gain_proven=None if rc is None or not binding else rc.proven,
                per_1000=per,
                next_result_cost=nxt,
            )
        )
    return out


def _per_1000(c: PlanConstraint, terms: Terms) -> tuple[float | None, float | None]:
    """Return a spend rule's price per 1,000 of currency, and the cost of the result it buys."""
    if c.unit != terms.currency or c.shadow_price == 0.0:
        return None, None
    y = c.shadow_price
    # only more budget buys results at this rate; more room on another rule moves money
    nxt = 1.0 / y if y > 0 and terms.objective == "results" and c.family == "budget" else None
    return 1000.0 * y, nxt


def _curve_end_limits(lines: Sequence[PlanLine], terms: Terms) -> list[PlanConstraint]:
    """Return the lines at the end of their curves as limits: the forecast's caps."""
    out = []
    for ln in lines:
        r = ln.limited_by
        if r is None or r.cause != "curve_end":
            continue
        sv = float(r.shadow_value or 0.0)
        out.append(
            PlanConstraint(
                name=rule_name("curve_end", ln.network, ln.segment, ln.period),
                description=(
                    f"line {ln.network}/{ln.segment}/{ln.period} at the end of its curve "
                    f"(the forecast's cap of {fmt(ln.max_spend)} {terms.currency})"
                ),
                family="curve_end",
                unit=terms.currency,
                binding=True,
                slack=0.0,
                shadow_price=sv,
                per_1000=1000.0 * sv if sv else None,
                next_result_cost=1.0 / sv if sv > 0 and terms.objective == "results" else None,
            )
        )
    return out


def _slack(model: Model, i: int, activity: float) -> float | None:
    """Return how far row ``i`` is from its limit (None for a 'max' row with no limit)."""
    info = model.rows[i]
    if info.sense == "max":
        ub = model.row_ub[i]
        return float(ub - activity) if math.isfinite(ub) else None
    if info.sense == "min":
        return float(activity - model.row_lb[i])
    return 0.0


def _unfunded(lines: list[PlanLine]) -> list[dict]:
    """Say, for each line with no spend, why: its reason, and how much cheaper it must be."""
    out = []
    for ln in lines:
        if ln.spend != 0 or ln.limited_by is None:
            continue
        r = ln.limited_by
        out.append(
            {
                "network": ln.network,
                "segment": ln.segment,
                "period": ln.period,
                "cost_per_result": ln.marginal_cost_per_result,
                "cheaper_by_pct": r.cheaper_by_pct,
                "needed_cost_per_result": r.needed_cost_per_result,
                "cause": r.cause,
                "rule": r.rule,
                "reason": r.words,
            }
        )
    return out


def _solver_info(model: Model, sol: Solution) -> dict:
    """Return what the plan says of its solve: solver, times, size and settings.

    ``seconds`` is the solve's here; ``allocate`` replaces it with the whole call's.

    An on/off plan adds the proven bound, the relative gap to it and how it was proven.
    """
    info = {
        "name": sol.solver,
        "method": sol.method,
        "seconds": sol.seconds,
        "solve_seconds": sol.seconds,
        "mip": sol.mip,
        "variables": model.n_col,
        "rows": model.n_row,
        "settings": dict(sol.settings),
        "time_limit": sol.time_limit,
    }
    if sol.mip:
        info.update(gap=sol.gap, bound=sol.bound, search=sol.search)
    return info


def time_limit_note(sol: Solution) -> str:
    """Say that the search stopped at its time limit, and how far from the best it may be."""
    gap = 100.0 * (sol.gap or 0.0)
    return (
        f"the search for on/off lines stopped at its time limit of {sol.time_limit:g} s: this "
        f"is the best plan found, proven within {gap:.3g}% of the best possible; raise the "
        "time limit (--time-limit, ADPLAN_TIME_LIMIT) to search longer"
    )


def time_limited(plan: Plan, sol: Solution) -> Plan:
    """Return ``plan`` marked ``time_limit`` by the solve ``sol`` (its gap and a note)."""
    solver = {**plan.solver, "gap": sol.gap, "bound": sol.bound, "search": sol.search}
    return replace(
        plan, status="time_limit", solver=solver, notes=(*plan.notes, time_limit_note(sol))
    )


#: budget left unspent (relative) above which the plan says why
UNSPENT_RTOL = 1e-6
MAX_RULES_NAMED = 5
_CAUSE_WORDS = {
    "curve_end": "the end of their curves (the forecast's caps)",
    "not_worth": "profit: their next results cost more than they are worth",
    "no_results": "flat curves: more spend brings no more results",
    "on_off": "the on/off rules",
    "price": "price",
    "margin": "break-even",
    "tie": "break-even",
}


def unspent_of(budget: float, total_spend: float, lines) -> dict:
    """Return the budget left unspent and what stopped more spend, from the lines' reasons.

    ``stopped_by`` groups the lines that could take more by the cause that binds them (a
    rule by its name), with how many lines and how much room on their curves each holds,
    the most room first. Empty when the budget is spent in full.
    """
    left = budget - total_spend
    if left <= UNSPENT_RTOL * max(1.0, budget):
        return {"amount": 0.0, "stopped_by": []}
    groups: dict[tuple, dict] = {}
    for ln in lines:
        r = ln.limited_by
        if r is None:
            continue
        key = (r.cause, r.rule)
        words = r.rule_words if r.rule else _CAUSE_WORDS.get(r.cause, r.cause)
        g = groups.setdefault(
            key, {"cause": r.cause, "rule": r.rule, "words": words, "lines": 0, "room": 0.0}
        )
        g["lines"] += 1
        g["room"] += max(ln.max_spend - ln.spend, 0.0)
    order = sorted(groups.values(), key=lambda g: (g["cause"] == "curve_end", -g["room"]))
    return {"amount": left, "stopped_by": order}


def stopped_words(groups, most: int = MAX_RULES_NAMED) -> str:
    """Say what stopped more spend: each cause in words, its rule id and how many lines.

    ``groups`` are ``unspent["stopped_by"]``: the first ``most``, joined by "; ", then "and N
    more".
    """
    parts = []
    for g in list(groups)[:most]:
        who = ([str(g["rule"])] if g.get("rule") else []) + [_count(int(g["lines"]), "line")]
        parts.append(f"{g.get('words') or g['cause']} ({', '.join(who)})")
    more = len(groups) - most
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def target_notes(plan: Plan, objective: str) -> Plan:
    """Return ``plan`` (made for a target) with a note when the spec's objective was set aside.

    A target asks for the least spend that reaches it, spread for results: an objective
    'value', 'profit' or 'cvar' does not apply.
    """
    if objective == "results":
        return plan
    note = (
        f"planned for {plan.result_type}: a target asks for the least spend that reaches it, "
        f"so the objective '{objective}' does not apply"
    )
    return replace(plan, notes=(*plan.notes, note))


def unspent_notes(
    budget: float, total_spend: float, unspent: Mapping, currency: str
) -> tuple[str, ...]:
    """Explain why the budget is not spent in full, naming what stops more spend (or nothing)."""
    left = float(unspent.get("amount") or 0.0)
    if left <= 0:
        return ()
    head = (
        f"only {fmt(total_spend)} of the {fmt(budget)} {currency} budget is spent "
        f"({fmt(left)} {currency} left)"
    )
    groups = list(unspent.get("stopped_by", ()))
    if all(g["cause"] == "curve_end" for g in groups):
        return (f"{head}: every line is at the end of its curve (the forecast's cap)",)
    return (f"{head}; more spend is stopped by {stopped_words(groups)}",)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")
