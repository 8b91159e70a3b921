"""/v1/plans: solve, persist, list, read, download and delete plans; delta plans, re-plans.

Reading needs the role read, solving (POST, a delta plan too) write, deleting and rotating tokens admin; every
call sees only the plans of its key's workspace (another workspace's plan is 404).
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from .. import operations
from ..db import PlanStore, StoredPlan, decode_cursor, dump_json, iso
from ..deps import (
    Admin,
    DefaultCurvesDep,
    DownloadCaller,
    IdempotencyKey,
    Reader,
    ServerHistoryDep,
    ServiceRoute,
    SettingsDep,
    StoreDep,
    Writer,
)
from ..errors import InvalidInput, NotFound, error_responses
from ..schemas import DeltaRequest, PlanOut, PlanPage, PlanRequest, ReplanRequest, TokenOut
from ..settings import Settings
from .links import CREATED_HEADERS, base_url, plan_links
from .named_plans import version_ref

router = APIRouter(prefix="/v1/plans", tags=["plans"], route_class=ServiceRoute)

_ID = "$response.body#/id"
#: OpenAPI links from a new plan (POST /v1/plans, 201) to what can be done with it
PLAN_LINKS = {
    "GetPlan": {"operationId": "get_plan", "parameters": {"plan_id": _ID}},
    "GetPlanCsv": {"operationId": "get_plan_csv", "parameters": {"plan_id": _ID}},
    "GetPlanXlsx": {"operationId": "get_plan_xlsx", "parameters": {"plan_id": _ID}},
    "RotatePlanToken": {"operationId": "rotate_plan_token", "parameters": {"plan_id": _ID}},
    "DeletePlan": {"operationId": "delete_plan", "parameters": {"plan_id": _ID}},
}

_EXAMPLE_CURVES: dict[str, Any] = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {
            "network": "meta",
            "segment": "f-25-34",
            "period": "2027-01",
            "points": [[0, 0], [1000, 50], [3000, 120], [6000, 180]],
        },
        {
            "network": "tiktok",
            "segment": "f-25-34",
            "period": "2027-01",
            "points": [[0, 0], [2000, 90], [5000, 150]],
        },
    ],
}
#: a forecast's uncertainty on each line (what ``adplan forecast`` writes): plans get ranges
_EXAMPLE_SPREAD = {
    "level_var": 0.01,
    "log_spend_centre": 7.0,
    "elasticity_se": 0.1,
    "dispersion": 0.02,
}
_UNSURE_CURVES = {
    **_EXAMPLE_CURVES,
    "lines": [{**ln, "spread": _EXAMPLE_SPREAD} for ln in _EXAMPLE_CURVES["lines"]],
}
PLAN_EXAMPLES: dict[str, Any] = {
    "curves": {
        "summary": "curves and a spec",
        "value": {
            "curves": _EXAMPLE_CURVES,
            "spec": {"budget": 6000, "networks": {"meta": {"min_share": 0.2}}},
            "name": "q1",
        },
    },
    "cvar": {
        "summary": "a risk-aware plan: the most results in the worst 10% of scenarios",
        "value": {
            "curves": _UNSURE_CURVES,
            "spec": {"budget": 6000, "objective": "cvar", "alpha": 0.1},
            "name": "q1-safe",
        },
    },
    "target": {
        "summary": "the smallest budget reaching 200 results with probability 0.9",
        "value": {
            "curves": _UNSURE_CURVES,
            "spec": {"budget": 6000},
            "target_results": 200,
            "confidence": 0.9,
        },
    },
}

_DOWNLOAD_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def plan_out(
    request: Request,
    settings: Settings,
    plan: StoredPlan,
    token: str | None,
    *,
    inputs: bool = False,
) -> dict:
    """Return the Plan JSON of ``plan`` with ``id``, ``created_at``, ``name``, ``kind`` and links.

    ``token`` goes into the download links; ``inputs`` adds the plan's curves/history and spec.
    """
    out = dict(plan.result)
    out.update(
        id=plan.id,
        created_at=iso(plan.created_at),
        name=plan.name,
        kind=plan.kind,
        links=plan_links(request, settings, plan.id, token),
    )
    if plan.scenario_run_id:
        out["scenario_run_id"] = plan.scenario_run_id
    if inputs:
        out["inputs"] = plan.inputs
    return out


def plan_json_response(
    request: Request,
    settings: Settings,
    plan: StoredPlan,
    token: str | None,
    result_json: str | None,
    *,
    status_code: int = 200,
    extra: dict | None = None,
) -> Response:
    """Return :func:`plan_out` as a ready JSON response, without encoding the plan again.

    ``result_json`` is ``plan.result`` already serialised (what was stored): the fields the
    service adds (and ``extra``'s) are spliced onto it, so a large plan is encoded once per
    request and not validated again against the response model.
    """
    out = {**plan_out(request, settings, plan, token), **(extra or {})}
    added = {k: v for k, v in out.items() if k not in plan.result}
    taken = any(out[k] is not v for k, v in plan.result.items())  # a service key in the plan
    body: str
    if result_json is None or not plan.result or taken:
        body = dump_json(out)
    else:
        body = f"{result_json[:-1]},{dump_json(added)[1:]}"
    return Response(
        content=body.encode(),
        status_code=status_code,
        media_type="application/json",
        headers={"Location": out["links"]["self"]},
    )


def _get(store: PlanStore, plan_id: str, workspace: str | None) -> StoredPlan:
    """Return the plan if it is in ``workspace`` (None: a token's download); 404 if not."""
    plan = store.get_plan(plan_id, workspace=workspace)
    if plan is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    return plan


_DOWNLOAD_ERRORS = error_responses(401, 403, 404)


# downloads come first: "/{plan_id}" would otherwise also match "<id>.csv"
@router.get(
    "/{plan_id}.csv",
    operation_id="get_plan_csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "one row per plan line",
        },
        **_DOWNLOAD_ERRORS,
    },
    summary="The plan as CSV (X-API-Key with the role read, or ?token=)",
)
def plan_csv(plan_id: str, store: StoreDep, caller: DownloadCaller) -> Response:
    """Download the plan as CSV: one row per plan line, no totals row.

    Cells that start with `=`, `+`, `-` or `@` are neutralised, as in the workbook.
    Send X-API-Key, or the plan's `?token=` from its links.
    """
    from scenarios.exports import plan_csv_text

    plan = _get(store, plan_id, caller.workspace if caller else None)
    return Response(
        content=plan_csv_text(plan.result),
        media_type="text/csv; charset=utf-8",
        headers={
            **_DOWNLOAD_HEADERS,
            "Content-Disposition": f'inline; filename="adplan-plan-{plan.id}.csv"',
        },
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/{plan_id}.xlsx",
    operation_id="get_plan_xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "the plan workbook",
        },
        **_DOWNLOAD_ERRORS,
    },
    summary="The plan as an XLSX workbook (X-API-Key with the role read, or ?token=)",
)
def plan_xlsx(plan_id: str, store: StoreDep, caller: DownloadCaller) -> Response:
    """Download the plan workbook (XLSX).

    Send X-API-Key, or the plan's `?token=` from its links.
    """
    from scenarios.exports import plan_xlsx_bytes

    plan = _get(store, plan_id, caller.workspace if caller else None)
    return Response(
        content=plan_xlsx_bytes(plan.result),
        media_type=XLSX,
        headers={
            **_DOWNLOAD_HEADERS,
            "Content-Disposition": f'attachment; filename="adplan-plan-{plan.id}.xlsx"',
        },
    )


@router.post(
    "",
    status_code=201,
    response_model=PlanOut,
    operation_id="create_plan",
    dependencies=[IdempotencyKey],
    summary="Solve and save a plan (role write)",
    responses={
        201: {"description": "the plan, saved", "links": PLAN_LINKS, "headers": CREATED_HEADERS},
        **error_responses(401, 403, 409, 503),
    },
)
def create_plan(
    body: Annotated[PlanRequest, Body(openapi_examples=PLAN_EXAMPLES)],
    caller: Writer,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    default_curves: DefaultCurvesDep,
    server_history: ServerHistoryDep,
) -> Response:
    """Solve a plan and save it with its inputs.

    The curves are the body's `curves`; or forecast from its `history` rows over
    `from`..`to`; or, with `from` and `to` alone, from the server's start-up history;
    or, with only a `spec`, the server's default curves. With `named_plan` the plan becomes
    that named plan's next version (its feeds serve it; a new name's feed token is in the
    answer's `named_plan.links`, shown only then). A forecast takes `response` (how
    the response is modelled: carry-over, season, shape, events, priors, lift tests,
    incremental results). The answer is the Plan JSON with
    `id`, `created_at` and `links`; the download links carry the plan's read-only
    token, shown only here. The plan belongs to the key's workspace.

    The plan's `ranges` give the P10/P50/P90 of its results, simulated from the curves'
    uncertainty (each line's `spread`, else its `low`/`high`). With `target_results` the
    budget is the smallest whose plan reaches that many results (`target_probability`: the
    chance it does); with `confidence` too, the smallest that reaches them with that
    probability (out of reach: 422 `infeasible`). Under the spec's `objective: cvar` the
    plan raises the mean of its worst `alpha` share of scenarios; its `risk` compares it
    with the plan with the most expected results.
    """
    new = operations.make_plan(body, default_curves, settings, server_history)
    plan, token = store.add_plan(new, workspace=caller.workspace)
    extra = None
    if body.named_plan is not None:
        named, feed_token = store.add_version(
            body.named_plan, plan.id, source="plan", workspace=caller.workspace
        )
        extra = {"named_plan": version_ref(request, settings, named, feed_token)}
    return plan_json_response(
        request, settings, plan, token, new.result_json, status_code=201, extra=extra
    )


DELTA_EXAMPLES: dict[str, Any] = {
    "extra": {"summary": "5,000 more", "value": {"extra": 5000}},
    "cut": {"summary": "a cut of 2,000", "value": {"extra": -2000, "name": "q1-cut"}},
}


@router.post(
    "/{plan_id}/delta",
    status_code=201,
    response_model=PlanOut,
    operation_id="create_plan_delta",
    dependencies=[IdempotencyKey],
    summary="Solve a saved plan at its budget plus extra money (or a cut), save it, show "
    "where the money goes (role write)",
    responses={
        201: {
            "description": "the new plan, saved, with its `delta` against the saved plan",
            "links": copy.deepcopy(PLAN_LINKS),  # its own: tools may rewrite links in place
            "headers": CREATED_HEADERS,
        },
        **error_responses(401, 403, 404, 409, 503),
    },
)
def create_plan_delta(
    plan_id: str,
    body: Annotated[DeltaRequest, Body(openapi_examples=DELTA_EXAMPLES)],
    caller: Writer,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    default_curves: DefaultCurvesDep,
) -> Response:
    """Solve a saved plan's own curves and spec at its budget + `extra`, and save the result.

    The spec's rules hold; only the budget changes (a negative `extra` is a cut; the new
    budget must be above 0 and at most 1e12). The answer is the new plan's Plan JSON with
    `id`, `created_at`, `links` and `delta`: the budgets, the change in spend and results,
    the cost of each extra result, and per line (largest change first) the current and new
    spend and results. The saved plan's results are valued again on its curves at its
    spend, so the change reflects spend only. The new plan is saved like any other (in the
    key's workspace, with its inputs: the saved plan's, at the new budget). A plan of
    another workspace, or none, is 404; a plan made by a scenario run is 422.
    """
    stored = store.get_plan(plan_id, workspace=caller.workspace, with_inputs=True)
    if stored is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    new = operations.make_delta(stored, body, default_curves, settings)
    plan, token = store.add_plan(new, workspace=caller.workspace)
    return plan_json_response(request, settings, plan, token, new.result_json, status_code=201)


REPLAN_EXAMPLES: dict[str, Any] = {
    "actuals": {
        "summary": "two weeks spent, re-plan the rest",
        "value": {
            "as_of": "2027-01-18",
            "actuals": [
                {
                    "date": "2027-01-04",
                    "network": "meta",
                    "segment": "f-25-34",
                    "result_type": "purchases",
                    "spend": 900,
                    "results": 41,
                }
            ],
        },
    }
}


@router.post(
    "/{plan_id}/replan",
    status_code=201,
    response_model=PlanOut,
    operation_id="create_plan_replan",
    dependencies=[IdempotencyKey],
    summary="Re-plan a saved plan around its actual spend up to a day, save it (and make it "
    "the current version of the named plans whose current version the plan is) (role write)",
    responses={
        201: {
            "description": "the re-plan, saved, with its `replan` section (and `named_plans`: "
            "the names it became the current version of)",
            "links": copy.deepcopy(PLAN_LINKS),
            "headers": CREATED_HEADERS,
        },
        **error_responses(401, 403, 404, 409, 503),
    },
)
def create_plan_replan(
    plan_id: str,
    body: Annotated[ReplanRequest, Body(openapi_examples=REPLAN_EXAMPLES)],
    caller: Writer,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    default_curves: DefaultCurvesDep,
) -> Response:
    """Re-plan a saved plan: lock what was spent before `as_of`, optimise the rest again.

    `actuals` are canonical history rows (as `history` in `POST /v1/plans`); the spend
    before `as_of` is summed per line and period of the plan's own curves: periods ended by
    then are locked at it, the running one keeps it as a floor, and the rest of the budget
    is optimised over the open periods under the plan's own spec (`scenarios.replan`). The
    new plan is saved like any other, with the `replan` section (per line and period the
    planned, actual and re-planned spend). If the plan is a version of named plans, the
    re-plan becomes the next, current version of each name whose CURRENT version is the
    re-planned plan (their feed URLs serve it from now on); a name whose current version is
    another plan (the plan is an older version of it) is left as it is, unless the body's
    `named_plan` names it. `named_plans` lists the names that advanced. A plan of another
    workspace, or none, is 404; a plan made by a scenario run (its curves are not kept with
    it) is 422.
    """
    stored = store.get_plan(plan_id, workspace=caller.workspace, with_inputs=True)
    if stored is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    new = operations.make_replan(stored, body, default_curves, settings)
    plan, token = store.add_plan(new, workspace=caller.workspace)
    refs = _advance_names(
        request, settings, store, stored.id, plan.id, body.named_plan, caller.workspace
    )
    return plan_json_response(
        request,
        settings,
        plan,
        token,
        new.result_json,
        status_code=201,
        extra={"named_plans": refs} if refs else None,
    )


def _advance_names(
    request: Request,
    settings: Settings,
    store: PlanStore,
    replanned: str,
    plan_id: str,
    named_plan: str | None,
    workspace: str,
) -> list[dict]:
    """Make a re-plan the next version of the names it takes over; their refs, by name.

    The names whose current version is the re-planned plan, and ``named_plan`` if given
    (made if new: its feed token, shown only now, is in its links).
    """
    advanced = store.advance_current(replanned, plan_id, source="replan", workspace=workspace)
    refs = {n.name: version_ref(request, settings, n, None) for n in advanced}
    if named_plan is not None and named_plan not in refs:
        named, feed_token = store.add_version(
            named_plan, plan_id, source="replan", workspace=workspace
        )
        refs[named.name] = version_ref(request, settings, named, feed_token)
    return [refs[name] for name in sorted(refs)]


@router.get(
    "",
    response_model=PlanPage,
    operation_id="list_plans",
    summary="List saved plans (role read)",
    responses=error_responses(401, 403),
)
def list_plans(
    caller: Reader,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="page size")] = 50,
    cursor: Annotated[str | None, Query(max_length=40, description="from next_cursor")] = None,
    scenario_run_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    """List the saved plans of the key's workspace, newest first, a page at a time.

    Pass `next_cursor` as `?cursor=` (or follow `next`) for the next page; filter by
    `scenario_run_id` for the plans of one scenario run. `limit` above ADPLAN_MAX_PAGE_SIZE
    and a cursor this server did not give are 422.
    """
    if limit > settings.max_page_size:
        raise InvalidInput(
            f"limit is {limit}, above the largest page of {settings.max_page_size} "
            "(setting ADPLAN_MAX_PAGE_SIZE); page with ?cursor="
        )
    seq = None
    if cursor:
        seq = decode_cursor(cursor)
        if seq is None:
            raise InvalidInput("cursor is not one this server gave; use next_cursor from a page")
    plans, nxt = store.list_plans(
        limit=limit, cursor=seq, scenario_run_id=scenario_run_id, workspace=caller.workspace
    )
    items = [{**p, "links": plan_links(request, settings, p["id"], None)} for p in plans]
    next_url = None
    if nxt:
        next_url = f"{base_url(request, settings)}/v1/plans?limit={limit}&cursor={nxt}"
        if scenario_run_id:
            next_url += f"&scenario_run_id={scenario_run_id}"
    return {"items": items, "next_cursor": nxt, "next": next_url}


@router.get(
    "/{plan_id}",
    response_model=PlanOut,
    operation_id="get_plan",
    summary="Read a plan (role read)",
    responses=error_responses(401, 403, 404),
)
def get_plan(
    plan_id: str,
    caller: Reader,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    include_inputs: Annotated[bool, Query(description="add the curves/history and spec")] = False,
) -> dict:
    """Read a saved plan; with `include_inputs=true` also its curves or history and spec."""
    plan = store.get_plan(plan_id, workspace=caller.workspace, with_inputs=include_inputs)
    if plan is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    return plan_out(request, settings, plan, None, inputs=include_inputs)


@router.delete(
    "/{plan_id}",
    status_code=204,
    operation_id="delete_plan",
    summary="Delete a plan (role admin)",
    responses={204: {"description": "deleted"}, **error_responses(401, 403, 404)},
)
def delete_plan(plan_id: str, caller: Admin, store: StoreDep) -> Response:
    """Delete a saved plan of the key's workspace (its download links stop working)."""
    if not store.delete_plan(plan_id, workspace=caller.workspace):
        raise NotFound(f"no plan with id {plan_id!r}")
    return Response(status_code=204)


@router.post(
    "/{plan_id}/token",
    response_model=TokenOut,
    operation_id="rotate_plan_token",
    dependencies=[IdempotencyKey],
    summary="Issue a new download token, the old one stops working (role admin)",
    responses=error_responses(401, 403, 404, 409),
)
def rotate_token(
    plan_id: str, caller: Admin, request: Request, settings: SettingsDep, store: StoreDep
) -> dict:
    """Issue a new download token for a plan; links with the old one stop working."""
    token = store.rotate_token(plan_id, workspace=caller.workspace)
    if token is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    return {"id": plan_id, "links": plan_links(request, settings, plan_id, token)}
