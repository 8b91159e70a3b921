"""What the routes do: convert the request, call the functions the CLI calls, convert back.

Every function here is synchronous and CPU-bound. The six the routes call for heavy work
(:func:`make_plan`, :func:`make_delta`, :func:`make_replan`, :func:`make_forecast`,
:func:`make_frontier`, :func:`make_scenario_run`) submit themselves to the app's heavy-work pool
(:func:`service.pool.heavy`): at most ADPLAN_WORKERS run at once, off the request threads,
within the request's time budget, and each solve gets ADPLAN_TIME_LIMIT cut to what is left
of that budget (:func:`service.pool.solver_time_limit`). Outside a request they run inline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from forecasting.errors import ForecastingError
from forecasting.options import DEFAULT_RESPONSE, ResponseOptions
from optimizer import Curves, Plan, PlanSpec, SpecError
from scenarios.exports.write import json_safe
from scenarios.forecast_inputs import DEFAULT_CAP_MULTIPLE

from .db import NewPlan, StoredPlan, dump_json
from .errors import InvalidInput
from .history import MODEL, CacheKey, ForecastCache, StartupHistory
from .limits import check_count, check_curves_size
from .pool import heavy, solver_time_limit
from .schemas import (
    DeltaRequest,
    ForecastRequest,
    FrontierRequest,
    HistoryRow,
    OverridesBody,
    PlanRequest,
    ReplanRequest,
    ScenarioRunRequest,
    response_of,
)
from .settings import Settings

if TYPE_CHECKING:
    from scenarios.delta import CurrentPlan
    from scenarios.runs import VariantRun

# -- conversions ----------------------------------------------------------------------------


def solver_of(
    req: PlanRequest | FrontierRequest | ScenarioRunRequest | DeltaRequest | ReplanRequest,
    settings: Settings,
) -> str:
    """Return the solver a request runs with: its ``solver``, else ADPLAN_SOLVER, else highs.

    ``scenarios.solver.choose_solver``, the rule of every command; an unknown name is 422
    with the same message as on the command line.
    """
    from scenarios.solver import choose_solver

    try:
        return choose_solver(req.solver, settings.solver)
    except SpecError as e:
        raise InvalidInput(str(e)) from None


def _size(data: Mapping) -> tuple[int, int]:
    """Return (lines, LP variables) of a request's curves, counting only what is well formed."""
    lines = data.get("lines")
    if not isinstance(lines, list):
        return 0, 0
    n_vars = 0
    for ln in lines:
        points = ln.get("points") if isinstance(ln, Mapping) else None
        if isinstance(points, list):
            n_vars += max(len(points) - 1, 0)
    return len(lines), n_vars


def curves_from_body(data: Mapping, settings: Settings) -> Curves:
    """Check a request's curves against the size limits, then read them as a file's are.

    ``Curves.from_dict`` (``scenarios.inputs``), as ``optimizer.load_curves`` reads a curves
    file: the same checks and the same messages (``curves: lines[0]: ...``).
    """
    from scenarios.inputs import curves_from_mapping

    check_curves_size(*_size(data), settings)
    return curves_from_mapping(data, source="curves")


def curves_json(curves: Curves) -> dict:
    """Return ``curves.to_dict()`` made safe to store as JSON.

    The lines are validated finite numbers already, so only the free-form metadata needs
    cleaning.
    """
    d = curves.to_dict()
    for k in curves.meta:
        d[k] = json_safe(d[k])
    return d


def check_curves(curves: Curves, settings: Settings) -> None:
    """Refuse curves over ADPLAN_MAX_LINES or ADPLAN_MAX_VARIABLES."""
    check_curves_size(len(curves.lines), sum(len(ln.points) - 1 for ln in curves.lines), settings)


def history_rows(rows: Sequence[HistoryRow]) -> list[dict]:
    """Return the rows as JSON-ready dicts (ISO dates, no None), as the plan's inputs keep them."""
    return [r.model_dump(mode="json", exclude_none=True) for r in rows]


def history_frame(rows: Sequence[HistoryRow], settings: Settings):
    """Return the rows as a validated canonical history DataFrame."""
    import pandas as pd

    from forecasting import validate_history

    check_count(
        "the number of history rows",
        len(rows),
        settings.max_history_rows,
        "ADPLAN_MAX_HISTORY_ROWS",
    )
    records = [r.model_dump(exclude_none=False) for r in rows]
    df = pd.DataFrame.from_records(records, columns=list(HistoryRow.model_fields))
    for col in ("impressions", "clicks", "currency", "campaign"):
        if col in df.columns and df[col].isna().all():
            df = df.drop(columns=col)
    df["date"] = pd.to_datetime(df["date"])
    return validate_history(df, source="history")


@dataclass(slots=True)
class Forecast:
    """A forecast's curves, its warnings and its full result (``ForecastResult.to_dict()``)."""

    curves: Curves
    warnings: list[str] = field(default_factory=list)
    result: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Window:
    """What a forecast is asked for: its days, period, result type, cap multiple and response.

    ``response`` is the forecast's ``forecasting.options.ResponseOptions`` (frozen, hashable).
    """

    start: date
    end: date
    period: str = "week"
    result_type: str | None = None
    cap_multiple: float = DEFAULT_CAP_MULTIPLE
    response: ResponseOptions = DEFAULT_RESPONSE

    def key(self) -> CacheKey:
        """Return the key of this window's forecast of the start-up history (with the model)."""
        return (
            self.start,
            self.end,
            self.period,
            self.result_type,
            self.cap_multiple,
            MODEL,
            self.response,
        )


def window_of(req: ForecastRequest | PlanRequest | FrontierRequest | ScenarioRunRequest) -> Window:
    """Return the window a request asks for (its ``from`` and ``to`` must both be given)."""
    if req.from_ is None or req.to is None:
        raise InvalidInput("give both 'from' and 'to' (the span to forecast from the history)")
    return Window(
        req.from_,
        req.to,
        req.period,
        req.result_type,
        req.cap_multiple,
        response_of(req.response),
    )


def check_window(known: Iterable[tuple[str, str]], window: Window, settings: Settings) -> None:
    """Refuse, before fitting anything, a window whose curves would exceed ADPLAN_MAX_LINES.

    ``known``: the history's (network, segment) pairs; the lines its priors add (segments it
    does not have) count too.
    """
    from optimizer.names import normalise_network

    lines = {(normalise_network(n), s) for n, s in known}
    priors = window.response.priors if window.response is not None else None
    if priors is not None:
        lines |= {(p.network, p.segment) for p in priors.entries if p.segment is not None}
    pairs = len(lines)
    step = 7 if window.period == "week" else 28
    periods = (window.end - window.start).days // step + 2  # an upper bound
    check_count(
        f"the number of curve lines to forecast ({pairs} network x segment pairs x up to "
        f"{periods} {window.period}s)",
        pairs * periods,
        settings.max_lines,
        "ADPLAN_MAX_LINES",
    )


def forecast_frame(history, window: Window, settings: Settings) -> Forecast:
    """Run ``forecasting.forecast_curves`` on a validated history and check its curves."""
    from forecasting import forecast_curves

    w = window
    try:
        res = forecast_curves(
            history,
            w.start,
            w.end,
            period=w.period,
            result_type=w.result_type,
            cap_multiple=w.cap_multiple,
            response=w.response,
        )
    except ForecastingError:
        raise
    except ValueError as e:  # arguments the forecaster refuses (e.g. an empty span)
        raise InvalidInput(f"forecast: {e}") from None
    check_curves(res.curves, settings)
    return Forecast(curves=res.curves, warnings=list(res.warnings or []), result=res.to_dict())


def forecast(rows: Sequence[HistoryRow], window: Window, settings: Settings) -> Forecast:
    """Forecast the curves of ``window`` from history rows, within the size limits."""
    check_count(
        "the number of history rows",
        len(rows),
        settings.max_history_rows,
        "ADPLAN_MAX_HISTORY_ROWS",
    )
    check_window({(r.network, r.segment) for r in rows}, window, settings)
    history = history_frame(rows, settings)
    return forecast_frame(history, window, settings)


NO_STARTUP_HISTORY = (
    "'from' and 'to' without 'history' rows forecast from the server's start-up history, and "
    "this server has none: set ADPLAN_HISTORY_PATH, or give 'history' rows or 'curves'"
)


@dataclass(slots=True)
class ServerHistory:
    """The start-up history and the cache of its forecasts (``app.state``)."""

    history: StartupHistory | None
    cache: ForecastCache

    def forecast(self, window: Window, settings: Settings) -> Forecast:
        """Return the forecast of the start-up history for this window, fitted once per window."""
        if self.history is None:
            raise InvalidInput(NO_STARTUP_HISTORY)
        check_window(self.history.pairs, window, settings)
        frame = self.history.frame
        return self.cache.get(window.key(), lambda: forecast_frame(frame, window, settings))


def span_of(req) -> Window | None:
    """Return the window of a request that asks for one, or None if it gives neither day."""
    if req.from_ is None and req.to is None:
        return None
    return window_of(req)


#: the kind of a plan forecast from the start-up history
STARTUP_KIND = "startup_history"


@dataclass(slots=True)
class Problem:
    """The curves of a request (given, forecast or the server's default) and their origin."""

    curves: Curves
    kind: str
    inputs: dict
    warnings: list[str] = field(default_factory=list)


def problem_curves(
    req: PlanRequest | FrontierRequest | ScenarioRunRequest,
    default_curves: Curves | None,
    settings: Settings,
    server_history: ServerHistory | None = None,
) -> Problem:
    """Return the curves a request plans on, with their kind and the inputs to store.

    In order: the request's ``curves``; its ``history`` rows forecast over ``from``..``to``;
    ``from``..``to`` alone, forecast from the start-up history; else the default curves.
    """
    if req.curves is not None:
        curves = curves_from_body(req.curves, settings)
        return Problem(curves, "curves", {"curves": curves_json(curves)})
    if req.history is not None:
        window = window_of(req)
        fc = forecast(req.history, window, settings)
        inputs = {"history": history_rows(req.history), **_window_inputs(window, fc)}
        return Problem(fc.curves, "history", _with_response(inputs, req), fc.warnings)
    span = span_of(req)
    if span is not None:
        if server_history is None:
            raise InvalidInput(NO_STARTUP_HISTORY)
        fc = server_history.forecast(span, settings)
        inputs = {"history": "startup", **_window_inputs(span, fc)}
        return Problem(fc.curves, STARTUP_KIND, _with_response(inputs, req), list(fc.warnings))
    if default_curves is None:
        raise InvalidInput(
            "give 'curves', or 'history' with 'from' and 'to'; this server has no default "
            "curves (setting ADPLAN_CURVES_PATH)"
        )
    check_curves(default_curves, settings)
    return Problem(default_curves, "default", {"curves": "default"})


def _window_inputs(window: Window, fc: Forecast) -> dict:
    """Return what a plan forecast over ``window`` keeps of it: the window and the curves."""
    return {
        "from": window.start.isoformat(),
        "to": window.end.isoformat(),
        "period": window.period,
        "result_type": window.result_type,
        "cap_multiple": window.cap_multiple,
        "curves": curves_json(fc.curves),
    }


def _with_response(inputs: dict, req: PlanRequest | FrontierRequest | ScenarioRunRequest) -> dict:
    """Return ``inputs`` with the request's ``response`` as it was given (when it gave one)."""
    if req.response is not None:
        inputs["response"] = req.response.model_dump(mode="json", exclude_none=True)
    return inputs


def request_spec(data: Mapping) -> PlanSpec:
    """Return the :class:`optimizer.PlanSpec` of a request's spec (before its curves are made).

    ``PlanSpec.from_dict`` (``scenarios.inputs``), the one way from a mapping to a spec
    (``optimizer.load_spec`` ends in it too): the same checks and messages as for a file.
    Checked against the curves later (``spec.check(curves)``), once they are known.
    """
    from scenarios.inputs import spec_from_mapping

    return spec_from_mapping(data, source="spec")


def solve_plan(req: PlanRequest, curves: Curves, spec: PlanSpec, solver: str, limit: float) -> Plan:
    """Return the plan a request asks for: at the spec's budget, or the least reaching a target.

    With ``target_results``, ``optimizer.min_budget_for_results`` (with ``confidence``: the
    least budget reaching it with that probability), as ``adplan optimize --target-results``.
    """
    from optimizer import allocate, min_budget_for_results

    if req.target_results is None:
        return allocate(curves, spec, solver=solver, time_limit=limit)
    return min_budget_for_results(
        curves,
        spec,
        req.target_results,
        solver=solver,
        time_limit=limit,
        confidence=req.confidence,
    )


# -- operations -----------------------------------------------------------------------------


@heavy
def make_plan(
    req: PlanRequest,
    default_curves: Curves | None,
    settings: Settings,
    server_history: ServerHistory | None = None,
) -> NewPlan:
    """Solve the plan a request asks for; what the service persists."""
    solver = solver_of(req, settings)
    spec = request_spec(req.spec)
    prob = problem_curves(req, default_curves, settings, server_history)
    spec.check(prob.curves)
    plan = solve_plan(req, prob.curves, spec, solver, solver_time_limit(settings))
    result = json_safe(plan.to_dict())
    if prob.warnings:
        result["warnings"] = list(prob.warnings)
    inputs = {**prob.inputs, "spec": json_safe(req.spec)}
    for key in ("target_results", "confidence"):  # how the plan was asked for, kept with it
        if getattr(req, key, None) is not None:
            inputs[key] = getattr(req, key)
    # serialised once here: the same text is stored and (the result) sent back
    return NewPlan(
        kind=prob.kind,
        inputs=inputs,
        result=result,
        name=req.name,
        inputs_json=dump_json(inputs),
        result_json=dump_json(result),
    )


def _saved_curves(
    stored: StoredPlan,
    default_curves: Curves | None,
    settings: Settings,
    then: str = "ask for the delta of that plan",
) -> Curves:
    """Return the curves a saved plan was solved on (kept with it, or the server's default).

    ``then``: what to do after posting the plan again, in the message of a plan without them.
    """
    kept = (stored.inputs or {}).get("curves")
    if isinstance(kept, Mapping):
        return curves_from_body(kept, settings)
    if kept == "default" and default_curves is not None:
        check_curves(default_curves, settings)
        return default_curves
    if kept == "default":
        raise InvalidInput(
            f"plan {stored.id} was solved on the server's default curves, and this server has "
            "none now (setting ADPLAN_CURVES_PATH); post the plan again with its curves"
        )
    why = (
        "was made by a scenario run, so its curves are the run's with the variant's overrides "
        "and are not kept with it"
        if stored.kind == "scenario"
        else "keeps no curves to solve again"
    )
    raise InvalidInput(
        f"plan {stored.id} {why}; post the plan to POST /v1/plans with its curves and spec, "
        f"then {then}"
    )


def _current(stored: StoredPlan, extra: float) -> tuple[CurrentPlan, float]:
    """Return the saved plan as the delta's current plan, and the new budget (422 if bad)."""
    from scenarios.delta import current_plan_from_dict, delta_budget
    from scenarios.errors import ScenarioError

    try:
        current = current_plan_from_dict(stored.result, source=f"plan {stored.id}")
        return current, delta_budget(current.budget, extra)
    except ScenarioError as e:
        raise InvalidInput(str(e)) from None


@heavy
def make_delta(
    stored: StoredPlan, req: DeltaRequest, default_curves: Curves | None, settings: Settings
) -> NewPlan:
    """Solve a saved plan's curves and spec at its budget + ``req.extra``; the new plan.

    Its result is the Plan JSON with the ``delta`` (``scenarios.delta``) against the saved
    plan; its inputs are the saved plan's, with the new budget in the spec and ``from_plan``
    (the saved plan's id and the extra).
    """
    from scenarios.delta import check_current_plan, delta_plan
    from scenarios.errors import ScenarioError

    solver = solver_of(req, settings)
    current, budget = _current(stored, req.extra)
    inputs = dict(stored.inputs or {})
    for key in ("target_results", "confidence"):  # a plan at a budget, not to a target
        inputs.pop(key, None)
    curves = _saved_curves(stored, default_curves, settings)
    spec = request_spec(inputs.get("spec") or {})
    spec.check(curves)
    try:
        check_current_plan(current, curves)
    except ScenarioError as e:
        raise InvalidInput(str(e)) from None
    limit = solver_time_limit(settings)
    made = delta_plan(curves, spec, current, req.extra, solver=solver, time_limit=limit)
    result = json_safe(made.to_dict())
    if stored.result.get("warnings"):
        result["warnings"] = list(stored.result["warnings"])
    inputs["spec"] = {**inputs["spec"], "budget": budget}
    inputs["from_plan"] = {"id": stored.id, "extra": req.extra}
    return _derived(stored, inputs, result, req.name)


def _derived(stored: StoredPlan, inputs: dict, result: dict, name: str | None) -> NewPlan:
    """Return a plan made from a saved one (a delta, a re-plan), named as the request says.

    It keeps the saved plan's kind and, when the request gives no name, its name.
    """
    return NewPlan(
        kind=stored.kind,
        inputs=inputs,
        result=result,
        name=name if name is not None else stored.name,
        inputs_json=dump_json(inputs),
        result_json=dump_json(result),
    )


def _spec_at_plan_budget(stored: StoredPlan) -> dict:
    """Return the spec mapping a saved plan is re-planned under: its own, at its budget.

    A plan made for a target has the budget found as its ``budget``; the spec's was not a
    limit then. A re-plan's ``budget`` is what was left after off-plan spend: the budget
    the user set is its ``replan.budget_as_set``.
    """
    spec = dict((stored.inputs or {}).get("spec") or {})
    section = stored.result.get("replan")
    budget = stored.result.get("budget")
    if isinstance(section, dict) and section.get("budget_as_set") is not None:
        budget = section["budget_as_set"]
    if isinstance(budget, int | float) and budget > 0:
        spec["budget"] = budget
    return spec


def _actuals(rows: Sequence[HistoryRow], settings: Settings):
    """Return the actuals as a validated history frame (no rows: an empty list)."""
    return history_frame(rows, settings) if rows else []


@heavy
def make_replan(
    stored: StoredPlan, req: ReplanRequest, default_curves: Curves | None, settings: Settings
) -> NewPlan:
    """Re-plan a saved plan's curves and spec around the actual spend before ``req.as_of``.

    ``scenarios.replan.replan``: elapsed periods locked at their actual spend, the rest of
    the budget optimised again. The result is the re-plan's Plan JSON with its ``replan``
    section; the inputs are the saved plan's, with its budget, the actuals and ``from_plan``.
    """
    from scenarios.errors import ActualsError
    from scenarios.replan import replan

    solver = solver_of(req, settings)
    then = "re-plan that plan"
    curves = _saved_curves(stored, default_curves, settings, then=then)
    spec_dict = _spec_at_plan_budget(stored)
    spec = request_spec(spec_dict)
    spec.check(curves)
    actuals = _actuals(req.actuals, settings)
    limit = solver_time_limit(settings) / 3  # the original, the open periods, the whole
    try:
        made = replan(
            curves, spec, actuals, req.as_of, solver=solver, time_limit=limit, source="spec"
        )
    except ActualsError as e:
        raise InvalidInput(str(e)) from None
    result = json_safe(made.to_dict())
    inputs = {k: v for k, v in (stored.inputs or {}).items() if k not in _NOT_REPLANNED}
    inputs["spec"] = spec_dict
    inputs["actuals"] = history_rows(req.actuals)
    inputs["from_plan"] = {"id": stored.id, "as_of": req.as_of.isoformat()}
    return _derived(stored, inputs, result, req.name)


#: what a re-plan does not keep of the saved plan's inputs (it is a plan at a budget, on
#: its own actuals)
_NOT_REPLANNED = ("target_results", "confidence", "actuals", "from_plan")


@heavy
def make_forecast(
    req: ForecastRequest, settings: Settings, server_history: ServerHistory | None = None
) -> dict:
    """Forecast the curves a request asks for; the JSON-safe body of the response."""
    if req.history is not None:
        fc = forecast(req.history, window_of(req), settings)
    elif server_history is None:
        raise InvalidInput(NO_STARTUP_HISTORY)
    else:
        fc = server_history.forecast(window_of(req), settings)
    out = dict(fc.result)
    out["curves"] = fc.curves.to_dict()
    out["warnings"] = list(fc.warnings)
    return json_safe(out)


@heavy
def make_frontier(
    req: FrontierRequest,
    default_curves: Curves | None,
    settings: Settings,
    server_history: ServerHistory | None = None,
) -> dict:
    """Solve the request's plan at each of its budgets; the JSON-safe body of the response."""
    check_count(
        "the number of budgets", len(req.budgets), settings.max_budgets, "ADPLAN_MAX_BUDGETS"
    )
    solver = solver_of(req, settings)
    spec = request_spec(req.spec)
    prob = problem_curves(req, default_curves, settings, server_history)
    spec.check(prob.curves)
    from scenarios.solver import frontier_points

    limit = solver_time_limit(settings)  # the whole sweep's
    points = frontier_points(prob.curves, spec, list(req.budgets), solver=solver, time_limit=limit)
    out = {
        "currency": prob.curves.currency,
        "result_type": prob.curves.result_type,
        "points": list(points),
    }
    if prob.warnings:
        out["warnings"] = prob.warnings
    return json_safe(out)


# -- scenario runs --------------------------------------------------------------------------


@dataclass(slots=True)
class ScenarioOutcome:
    """A scenario run, ready to persist: its document, summary and the feasible plans."""

    name: str
    document: dict
    variants: list[dict]  # variant, status, error, diagnosis, notes (plan added by the route)
    plans: dict[str, NewPlan]  # variant name -> plan, for the feasible ones
    comparison: dict | list | None
    frontier: list[dict]
    warnings: list[str]


def _overrides(body: OverridesBody | None):
    from scenarios.files import Overrides

    if body is None:
        return Overrides()
    return Overrides(
        cost_per_result=dict(body.cost_per_result),
        exclude_networks=tuple(body.exclude.networks),
        exclude_segments=tuple(body.exclude.segments),
        budget=body.budget,
        rules=dict(body.rules) if body.rules is not None else {},
    )


@heavy
def make_scenario_run(
    req: ScenarioRunRequest,
    default_curves: Curves | None,
    settings: Settings,
    server_history: ServerHistory | None = None,
) -> ScenarioOutcome:
    """Run a scenario document (base and variants) as ``adplan scenario run`` does."""
    from scenarios.files import Scenario, Variant
    from scenarios.runs import run_scenario

    check_count(
        "the number of variants", len(req.variants), settings.max_variants, "ADPLAN_MAX_VARIANTS"
    )
    solver = solver_of(req, settings)
    request_spec(req.spec)  # the base spec as a plan's: refused before any forecast
    prob = problem_curves(req, default_curves, settings, server_history)
    scenario = Scenario(
        name=req.name,
        description=req.description,
        spec=dict(req.spec),
        start=req.from_,
        end=req.to,
        period=req.period if prob.kind in ("history", STARTUP_KIND) else None,
        result_type=req.result_type,
        cap_multiple=req.cap_multiple,
        response=response_of(req.response),
        overrides=_overrides(req.overrides),
        variants=tuple(
            Variant(
                name=v.name,
                spec_patch=dict(v.spec) if v.spec is not None else {},
                overrides=_overrides(v.overrides),
                description=v.description,
            )
            for v in req.variants
        ),
        source=f"scenario {req.name}",
    )
    # each solve (base, variants, the base's frontier) gets an equal share of what is left
    solves = 1 + len(req.variants) + int(bool(req.frontier))
    run = run_scenario(
        scenario,
        None,
        solver=solver,
        curves=prob.curves,
        frontier=req.frontier,
        report=False,
        time_limit=solver_time_limit(settings) / solves,
    )
    document = req.model_dump(mode="json", by_alias=True, exclude_none=True)
    if prob.kind in ("history", STARTUP_KIND):
        document["curves"] = prob.inputs["curves"]
    variants = [
        {
            "variant": v.name,
            "status": v.status,
            "error": v.error,
            "diagnosis": json_safe(v.diagnosis),
            "notes": list(v.notes),
        }
        for v in run.variants
    ]
    plans = {v.name: _variant_plan(v, v.plan) for v in run.variants if v.plan is not None}
    return ScenarioOutcome(
        name=req.name,
        document=json_safe(document),
        variants=variants,
        plans=plans,
        comparison=json_safe(run.comparison),
        frontier=json_safe(run.frontier),
        warnings=[*prob.warnings, *run.warnings],
    )


def _variant_plan(v: VariantRun, plan: Plan) -> NewPlan:
    """Return a variant's ``plan`` as the service stores it (the JSON edge).

    Its inputs are the variant's name, its spec as the scenario writes it and its overrides.
    """
    inputs = {"variant": v.name, "spec": v.spec_as_written(), "overrides": v.overrides.to_dict()}
    return NewPlan(
        kind="scenario",
        name=v.name,
        inputs=json_safe(inputs),
        result=json_safe(plan.to_dict()),
    )
