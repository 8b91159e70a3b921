"""/v1/scenario-runs: a scenario document in, its variants' plans out (all saved).

A run and its plans belong to the workspace of the key that made it (role write); reading it
needs the role read and a key of that workspace (another workspace's run is 404).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from .. import operations
from ..deps import (
    DefaultCurvesDep,
    IdempotencyKey,
    Reader,
    ServerHistoryDep,
    ServiceRoute,
    SettingsDep,
    StoreDep,
    Writer,
)
from ..errors import NotFound, error_responses
from ..schemas import ScenarioRunOut, ScenarioRunRequest
from .links import CREATED_HEADERS, base_url
from .plans import plan_out

router = APIRouter(prefix="/v1/scenario-runs", tags=["scenario runs"], route_class=ServiceRoute)

_ID = "$response.body#/id"
#: OpenAPI links from a new run (201) to reading it and listing its plans
RUN_LINKS = {
    "GetScenarioRun": {"operationId": "get_scenario_run", "parameters": {"run_id": _ID}},
    "ListScenarioRunPlans": {
        "operationId": "list_plans",
        "parameters": {"scenario_run_id": _ID},
    },
}


@router.post(
    "",
    status_code=201,
    response_model=ScenarioRunOut,
    operation_id="create_scenario_run",
    dependencies=[IdempotencyKey],
    summary="Run a scenario (base and variants) and save each feasible plan (role write)",
    responses={
        201: {"description": "the run, saved", "links": RUN_LINKS, "headers": CREATED_HEADERS},
        **error_responses(401, 403, 409, 503),
    },
)
def create_scenario_run(
    body: ScenarioRunRequest,
    caller: Writer,
    request: Request,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    default_curves: DefaultCurvesDep,
    server_history: ServerHistoryDep,
) -> dict:
    """Run a scenario document: its base and each variant, each feasible plan saved.

    Each entry of `plans` has the variant's `status` and either its saved `plan` (with
    links) or the `error` and `diagnosis` of rules that cannot hold. `comparison`
    compares the variants; with `"frontier": true` the base's budget frontier is added.
    """
    outcome = operations.make_scenario_run(body, default_curves, settings, server_history)
    names = [v["variant"] for v in outcome.variants if v["variant"] in outcome.plans]
    stored_plans = [outcome.plans[n] for n in names]
    summary = {
        "variants": outcome.variants,
        "comparison": outcome.comparison,
        "frontier": outcome.frontier,
        "warnings": outcome.warnings,
    }
    run, saved = store.add_scenario_run(
        name=outcome.name,
        document=outcome.document,
        summary=summary,
        plans=stored_plans,
        workspace=caller.workspace,
    )
    ids_by_name = dict(zip(names, saved, strict=True))
    plans = []
    for v in outcome.variants:
        item = dict(v)
        if v["variant"] in ids_by_name:
            plan, token = ids_by_name[v["variant"]]
            item["plan"] = plan_out(request, settings, plan, token)
            item["plan_id"] = plan.id
        plans.append(item)
    response.headers["Location"] = f"{base_url(request, settings)}/v1/scenario-runs/{run['id']}"
    return {
        "id": run["id"],
        "created_at": run["created_at"],
        "name": run["name"],
        "plans": plans,
        "comparison": outcome.comparison,
        "frontier": outcome.frontier,
        "warnings": outcome.warnings,
    }


@router.get(
    "/{run_id}",
    response_model=ScenarioRunOut,
    operation_id="get_scenario_run",
    summary="Read a scenario run (role read)",
    responses=error_responses(401, 403, 404),
)
def get_scenario_run(
    run_id: str, caller: Reader, request: Request, settings: SettingsDep, store: StoreDep
) -> dict:
    """Read a saved scenario run with its variants' plans (a deleted plan is not attached)."""
    run = store.get_scenario_run(run_id, workspace=caller.workspace)
    if run is None:
        raise NotFound(f"no scenario run with id {run_id!r}")
    summary = run["summary"] or {}
    plan_ids = dict(run["plans"])  # variant name -> plan id (deleted plans are gone)
    plans = []
    for v in summary.get("variants", []):
        item = dict(v)
        pid = plan_ids.get(v["variant"])
        plan = store.get_plan(pid, workspace=caller.workspace) if pid else None
        if plan is not None:
            item["plan_id"] = pid
            item["plan"] = plan_out(request, settings, plan, None)
        plans.append(item)
    return {
        "id": run["id"],
        "created_at": run["created_at"],
        "name": run["name"],
        "plans": plans,
        "comparison": summary.get("comparison"),
        "frontier": summary.get("frontier") or [],
        "warnings": summary.get("warnings") or [],
    }
