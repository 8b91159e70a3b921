"""Delta plans: where extra money (or a cut) goes, line by line, against the current plan.

::

    current = read_current_plan("plan.json")            # the Plan JSON adplan optimize wrote
    result = delta_plan(curves, spec, current, 5000)    # allocate at its budget + 5000
    result.plan                                          # the new optimizer.Plan
    result.delta.lines                                   # per line: spend and results change
    result.to_dict()                                     # the Plan JSON with a "delta" key

The new plan is ``optimizer.allocate(curves, spec.with_budget(current.budget + extra))``:
the spec's rules hold, only its budget is replaced. The current plan's results are valued
again on the same curves at its spend (``CurveLine.results_at``), so the change reflects the
change in spend only; when they differ from what the plan file says, a note gives both.

The current plan is read by :func:`read_current_plan` (a file, through
``optimizer.curves.read_json`` as every JSON input file is) or :func:`current_plan_from_dict`
(a mapping: the service's saved plan); a malformed plan is a
:class:`~scenarios.errors.ScenarioFileError` naming the source and the key (``lines[3].spend``),
and so is a line no curve has (:func:`check_current_plan`). Everything here is pure but
:func:`delta_plan`, which solves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from optimizer import MAX_BUDGET, Curves, Plan, PlanSpec
from optimizer.allocate import summed_words
from optimizer.curves import LineNamed, read_json
from optimizer.plan import not_additive_note
from optimizer.rules import fmt
from optimizer.values import control_char_message

from .errors import ScenarioError, ScenarioFileError

#: a line whose spend moves by less than this (half a cent) has not changed
MIN_CHANGE = 0.005
#: relative difference above which the file's results and the curves' are said to differ
RESULTS_RTOL = 1e-6
#: what to give, in the messages about the current plan
PLAN_HINT = "give the Plan JSON that adplan optimize writes (--out plan.json or --json)"


# -- the current plan -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrentLine(LineNamed):
    """One line of the current plan: its spend and the results its file says it brings."""

    network: str
    segment: str
    period: str
    spend: float
    expected_results: float | None = None


@dataclass(frozen=True, slots=True)
class CurrentPlan:
    """The plan the money moves from, as read from its Plan JSON (only what a delta needs).

    ``expected_results`` is the file's total (None when it gives none); ``currency`` and
    ``result_type`` are None when the file does not say them.
    """

    budget: float
    lines: tuple[CurrentLine, ...]
    expected_results: float | None = None
    currency: str | None = None
    result_type: str | None = None
    source: str = "plan"

    @property
    def total_spend(self) -> float:
        """Return the spend of every line, added up."""
        return math.fsum(ln.spend for ln in self.lines)


def _bad(source: str, key: str, what: str) -> ScenarioFileError:
    return ScenarioFileError(f"{source}: {key}: {what}; {PLAN_HINT}", file=source, key=key)


def _number(value, source: str, key: str, *, positive: bool = False) -> float:
    """Return ``value`` as a finite number >= 0 (> 0 with ``positive``); else the error."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and math.isfinite(value) and (value > 0 if positive else value >= 0):
        return float(value)
    need = "a number above 0" if positive else "a number >= 0"
    raise _bad(source, key, f"expected {need}, got {value!r}")


def _name(value, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(source, key, f"expected a non-empty string, got {value!r}")
    msg = control_char_message(value, f"{source}: {key}")
    if msg is not None:
        raise ScenarioFileError(msg, file=source, key=key)
    return value


def _optional_number(raw: Mapping, name: str, source: str, key: str) -> float | None:
    value = raw.get(name)
    return None if value is None else _number(value, source, f"{key}{name}")


def _line(raw, i: int, source: str) -> CurrentLine:
    key = f"lines[{i}]"
    if not isinstance(raw, Mapping):
        raise _bad(source, key, f"expected an object, got {type(raw).__name__}")
    names = {k: _name(raw.get(k), source, f"{key}.{k}") for k in ("network", "segment", "period")}
    if "spend" not in raw:
        raise _bad(source, f"{key}.spend", "is missing")
    return CurrentLine(
        **names,
        spend=_number(raw["spend"], source, f"{key}.spend"),
        expected_results=_optional_number(raw, "expected_results", source, f"{key}."),
    )


def _lines(raw, source: str) -> tuple[CurrentLine, ...]:
    if not isinstance(raw, list) or not raw:
        raise _bad(source, "lines", "expected a non-empty list of plan lines")
    lines: list[CurrentLine] = []
    first_at: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(raw):
        ln = _line(r, i, source)
        if ln.key in first_at:
            raise _bad(
                source,
                f"lines[{i}]",
                f"line {ln.label} appears twice (first at lines[{first_at[ln.key]}])",
            )
        first_at[ln.key] = i
        lines.append(ln)
    return tuple(lines)


def _text(raw: Mapping, name: str, source: str) -> str | None:
    value = raw.get(name)
    return None if value is None else _name(value, source, name)


def current_plan_from_dict(data, source: str = "plan") -> CurrentPlan:
    """Read the current plan from its Plan JSON structure (``Plan.to_dict()``).

    Parameters
    ----------
    data
        The Plan JSON: ``budget`` (a number above 0) and ``lines`` (each with ``network``,
        ``segment``, ``period`` and ``spend`` >= 0; ``expected_results`` optional), optionally
        ``expected_results``, ``currency`` and ``result_type``. Other keys are ignored, so a
        re-plan's or a delta plan's JSON reads too.
    source
        How messages name the plan (the file name, or ``plan <id>``).

    Returns
    -------
    CurrentPlan
        What a delta needs of the plan.

    Raises
    ------
    ScenarioFileError
        Naming ``source`` and the key at fault (``lines[3].spend``).
    """
    if not isinstance(data, Mapping):
        raise ScenarioFileError(
            f"{source}: expected the Plan JSON object, got {type(data).__name__}; {PLAN_HINT}",
            file=source,
        )
    if "budget" not in data:
        raise _bad(source, "budget", "is missing")
    return CurrentPlan(
        budget=_number(data["budget"], source, "budget", positive=True),
        lines=_lines(data.get("lines"), source),
        expected_results=_optional_number(data, "expected_results", source, ""),
        currency=_text(data, "currency", source),
        result_type=_text(data, "result_type", source),
        source=source,
    )


def read_current_plan(path: str | Path) -> CurrentPlan:
    """Read the current plan from a Plan JSON file (``adplan optimize --out plan.json``).

    Parameters
    ----------
    path
        The file; read as every JSON input file is (``optimizer.curves.read_json``).

    Returns
    -------
    CurrentPlan
        The plan, with the file as its ``source``.

    Raises
    ------
    ScenarioFileError
        The file is missing, not UTF-8, not JSON or not a plan; the message names it.
    """
    p = Path(path)

    def error(message: str) -> ScenarioFileError:
        return ScenarioFileError(message, file=str(p))

    data = read_json(p, "the current plan's JSON file", error, PLAN_HINT)
    return current_plan_from_dict(data, source=str(p))


def delta_budget(budget: float, extra: float) -> float:
    """Return the budget of the new plan, ``budget + extra``, if it is a budget.

    Raises
    ------
    ScenarioError
        ``extra`` is not a finite number, or the new budget is not above 0 and at most 1e12.
    """
    if isinstance(extra, bool) or not isinstance(extra, int | float) or not math.isfinite(extra):
        raise ScenarioError(f"extra must be a finite number (negative: a cut), got {extra!r}")
    new = budget + extra
    if not 0 < new <= MAX_BUDGET:
        raise ScenarioError(
            f"extra {fmt(extra)} would make the budget {fmt(new)} (the current plan's "
            f"{fmt(budget)} plus {fmt(extra)}); a budget must be above 0 and at most 1e12 "
            "(1,000,000,000,000)"
        )
    return new


def check_current_plan(current: CurrentPlan, curves: Curves) -> None:
    """Refuse a current plan that is not of these curves.

    Raises
    ------
    ScenarioFileError
        A line no curve has (named, with the plan's source), or another currency or result
        type than the curves'.
    """
    for what, mine, theirs in (
        ("currency", current.currency, curves.currency),
        ("result_type", current.result_type, curves.result_type),
    ):
        if mine is not None and mine != theirs:
            raise ScenarioFileError(
                f"{current.source}: {what}: the plan is in {mine!r} but the curves in "
                f"{theirs!r}; give the curves the plan was made with",
                file=current.source,
                key=what,
            )
    keys = {ln.key for ln in curves.lines}
    for i, ln in enumerate(current.lines):
        if ln.key not in keys:
            raise ScenarioFileError(
                f"{current.source}: lines[{i}]: no curve has line {ln.label}; give the curves "
                "the plan was made with",
                file=current.source,
                key=f"lines[{i}]",
            )


# -- the delta ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeltaLine(LineNamed):
    """One line: its spend and results in the current plan and in the new one.

    ``current_results`` are the curves' results at the current spend (not the file's).
    """

    network: str
    segment: str
    period: str
    current_spend: float
    spend: float
    current_results: float
    expected_results: float

    @property
    def change(self) -> float:
        """Return the new spend minus the current."""
        return self.spend - self.current_spend

    @property
    def results_change(self) -> float:
        """Return the new expected results minus the current."""
        return self.expected_results - self.current_results

    @property
    def changed(self) -> bool:
        """Return True when the spend moved by at least :data:`MIN_CHANGE`."""
        return abs(self.change) >= MIN_CHANGE

    def to_dict(self) -> dict:
        """Return the line as its JSON object."""
        return {
            "network": self.network,
            "segment": self.segment,
            "period": self.period,
            "current_spend": self.current_spend,
            "spend": self.spend,
            "change": self.change,
            "current_results": self.current_results,
            "expected_results": self.expected_results,
            "results_change": self.results_change,
        }


def cost_per_extra_result(spend_change: float, results_change: float) -> float | None:
    """Return what each extra result costs (or, for a cut, each result given up saves).

    ``spend_change / results_change`` when both move the same way; None when they do not
    (more money that brings no more results, a cut that loses none) or either is 0.
    """
    if spend_change == 0 or results_change == 0 or (spend_change > 0) != (results_change > 0):
        return None
    return spend_change / results_change


@dataclass(frozen=True, slots=True)
class PlanDelta:
    """Where the extra money (or the cut) goes: totals and every line with spend in either plan.

    ``lines`` are sorted by the size of their change, largest first (then by line);
    lines with no spend in either plan are left out.
    """

    from_budget: float
    to_budget: float
    extra: float
    current_spend: float
    spend: float
    current_results: float
    expected_results: float
    currency: str
    result_type: str
    lines: tuple[DeltaLine, ...]
    notes: tuple[str, ...] = ()
    #: false for results that cannot be added across periods (reach): the JSON then shows
    #: no total of results (``current_results`` ... null), each period's instead
    additive: bool = True

    @property
    def spend_change(self) -> float:
        """Return the new plan's total spend minus the current plan's."""
        return self.spend - self.current_spend

    @property
    def results_change(self) -> float:
        """Return the new plan's expected results minus the current plan's (on these curves)."""
        return self.expected_results - self.current_results

    @property
    def cost_per_extra_result(self) -> float | None:
        """Return :func:`cost_per_extra_result` of the totals (None: results are not additive)."""
        if not self.additive:
            return None
        return cost_per_extra_result(self.spend_change, self.results_change)

    def by_period(self) -> dict[str, dict]:
        """Return each period's spend and results in both plans, and their changes."""
        out: dict[str, dict] = {}
        for ln in self.lines:
            t = out.setdefault(ln.period, dict.fromkeys(_PERIOD_KEYS, 0.0))
            t["current_spend"] += ln.current_spend
            t["spend"] += ln.spend
            t["current_results"] += ln.current_results
            t["expected_results"] += ln.expected_results
        for t in out.values():
            t["spend_change"] = t["spend"] - t["current_spend"]
            t["results_change"] = t["expected_results"] - t["current_results"]
        return dict(sorted(out.items()))

    @property
    def changed(self) -> tuple[DeltaLine, ...]:
        """Return the lines whose spend moved, largest change first."""
        return tuple(ln for ln in self.lines if ln.changed)

    def to_dict(self) -> dict:
        """Return the delta as its JSON object (the ``delta`` key of a delta plan).

        For results that do not add up across periods (reach) the totals of results are null,
        with ``results_note`` saying why and ``by_period`` each period's (:meth:`by_period`).
        """
        d = self._to_dict()
        if not self.additive:
            for key in _RESULTS_TOTALS:
                d[key] = None
            d["results_additive"] = False
            d["results_note"] = not_additive_note(self.result_type)
            d["by_period"] = self.by_period()
        return d

    def _to_dict(self) -> dict:
        return {
            "from_budget": self.from_budget,
            "to_budget": self.to_budget,
            "extra": self.extra,
            "currency": self.currency,
            "result_type": self.result_type,
            "current_spend": self.current_spend,
            "spend": self.spend,
            "spend_change": self.spend_change,
            "current_results": self.current_results,
            "expected_results": self.expected_results,
            "results_change": self.results_change,
            "cost_per_extra_result": self.cost_per_extra_result,
            "lines_changed": len(self.changed),
            "lines": [ln.to_dict() for ln in self.lines],
            "notes": list(self.notes),
        }


#: a period's figures in :meth:`PlanDelta.by_period` (then spend_change, results_change)
_PERIOD_KEYS = ("current_spend", "spend", "current_results", "expected_results")
#: the delta's totals of results across periods: null for reach
_RESULTS_TOTALS = ("current_results", "expected_results", "results_change", "cost_per_extra_result")


def _delta_lines(current: CurrentPlan, plan: Plan, curves: Curves) -> list[DeltaLine]:
    """Return a DeltaLine per curve line with spend in either plan, largest change first."""
    now = {ln.key: ln.spend for ln in current.lines}
    new = {(ln.network, ln.segment, ln.period): ln for ln in plan.lines}
    out = []
    for cl in curves.lines:
        before = now.get(cl.key, 0.0)
        after = new[cl.key] if cl.key in new else None
        spend = after.spend if after is not None else 0.0
        if before == 0 and spend == 0:
            continue
        out.append(
            DeltaLine(
                *cl.key,
                current_spend=before,
                spend=spend,
                current_results=cl.results_at(before),
                expected_results=after.expected_results if after is not None else 0.0,
            )
        )
    out.sort(key=lambda d: (-abs(d.change), d.key))
    return out


def _results_note(current: CurrentPlan, recomputed: float, result_type: str) -> str | None:
    """Say so when the plan file's results differ from the curves' at the same spend."""
    said = current.expected_results
    if said is None and all(ln.expected_results is not None for ln in current.lines):
        said = math.fsum(ln.expected_results or 0.0 for ln in current.lines)
    if said is None or math.isclose(said, recomputed, rel_tol=RESULTS_RTOL, abs_tol=1e-9):
        return None
    return (
        f"{current.source} says its spend brings {fmt(said)} {result_type}; on these curves the "
        f"same spend brings {fmt(recomputed)}: the change is counted from {fmt(recomputed)}, so "
        "it reflects the change in spend only"
    )


def _spend_note(delta_spend: float, extra: float, currency: str) -> str | None:
    """Say so when the new plan's spend moves by another amount than the extra asked."""
    if math.isclose(delta_spend, extra, rel_tol=1e-6, abs_tol=MIN_CHANGE):
        return None
    return (
        f"the spend changes by {delta_spend:+,.2f} {currency}, not by the {extra:+,.2f} asked: "
        "the current plan did not spend its whole budget, or the rules or the curves stop the "
        "new plan from spending all of its own (see the plan's notes)"
    )


def _summed_note(result_type: str) -> str:
    """Say what a delta's change in results across periods counts for reach."""
    return (
        f"{result_type} cannot be added across periods: the change in {result_type} is each "
        f"period's (delta.by_period) and each line's; summed across periods it counts "
        "person-periods, not people, so the delta's totals of results are null"
    )


def plan_delta(current: CurrentPlan, plan: Plan, curves: Curves, extra: float) -> PlanDelta:
    """Compare the new ``plan`` with the ``current`` one, line by line, on ``curves``.

    Parameters
    ----------
    current
        The plan the money moves from (checked with :func:`check_current_plan`).
    plan
        The new plan, solved on ``curves`` at the current budget + ``extra``.
    curves
        The curves both plans are valued on.
    extra
        The money added (negative: a cut).

    Returns
    -------
    PlanDelta
        The totals, every line with spend in either plan and the notes.
    """
    check_current_plan(current, curves)
    lines = _delta_lines(current, plan, curves)
    by_key = {cl.key: cl for cl in curves.lines}
    recomputed = math.fsum(by_key[ln.key].results_at(ln.spend) for ln in current.lines)
    notes = (
        _results_note(current, recomputed, summed_words(curves)),
        _spend_note(plan.total_spend - current.total_spend, extra, curves.currency),
        None if curves.additive else _summed_note(curves.result_type),
    )
    return PlanDelta(
        from_budget=current.budget,
        to_budget=plan.budget,
        extra=float(extra),
        current_spend=current.total_spend,
        spend=plan.total_spend,
        current_results=recomputed,
        expected_results=plan.expected_results,
        currency=curves.currency,
        result_type=curves.result_type,
        lines=tuple(lines),
        notes=tuple(n for n in notes if n is not None),
        additive=curves.additive,
    )


@dataclass(frozen=True, slots=True)
class DeltaPlan:
    """The new plan and its delta against the current plan."""

    plan: Plan
    delta: PlanDelta

    def to_dict(self) -> dict:
        """Return the new plan's Plan JSON with the delta under ``delta``."""
        d = self.plan.to_dict()
        d["delta"] = self.delta.to_dict()
        return d


def delta_plan(
    curves: Curves,
    spec: PlanSpec,
    current: CurrentPlan,
    extra: float,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
) -> DeltaPlan:
    """Solve the plan at the current plan's budget + ``extra`` and compare it with the current.

    Parameters
    ----------
    curves, spec
        What the plan is solved on; only the spec's budget is replaced.
    current
        The current plan (its lines must be lines of ``curves``).
    extra
        Money added to the current plan's budget (negative: a cut).
    solver, time_limit
        As for ``optimizer.allocate``.

    Returns
    -------
    DeltaPlan
        The new plan and the delta.

    Raises
    ------
    ScenarioError
        The new budget is not above 0 and at most 1e12, or the current plan is not of
        ``curves``; ``optimizer.InfeasibleError`` when the rules cannot hold at the new budget.
    """
    from optimizer import allocate

    budget = delta_budget(current.budget, extra)
    check_current_plan(current, curves)
    plan = allocate(curves, spec.with_budget(budget), solver=solver, time_limit=time_limit)
    return DeltaPlan(plan=plan, delta=plan_delta(current, plan, curves, extra))


__all__ = [
    "MIN_CHANGE",
    "CurrentLine",
    "CurrentPlan",
    "DeltaLine",
    "DeltaPlan",
    "PlanDelta",
    "check_current_plan",
    "cost_per_extra_result",
    "current_plan_from_dict",
    "delta_budget",
    "delta_plan",
    "plan_delta",
    "read_current_plan",
]
