"""/v1/named-plans: a name (``q1-2027``) whose versions are saved plans, and its feed token.

Naming a plan or a scenario run's variant (PUT) makes it the name's next version, the
current one its feeds serve (``/v1/feeds``, :mod:`service.routers.feeds`); a re-plan of a
version becomes the next version by itself (``POST /v1/plans/{id}/replan``). Names belong to
the key's workspace. Reading needs the role read, naming write, re-issuing the token admin.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..db import NamedPlan, PlanStore, iso
from ..deps import (
    Admin,
    IdempotencyKey,
    NameParam,
    Reader,
    ServiceRoute,
    SettingsDep,
    StoreDep,
    Writer,
    get_named_or_404,
    valid_name,
)
from ..errors import NotFound, error_responses
from ..schemas import NamedPlanOut, NamedPlanPut
from ..settings import Settings
from .links import named_links

router = APIRouter(prefix="/v1/named-plans", tags=["named plans"], route_class=ServiceRoute)


def named_out(request: Request, settings: Settings, named: NamedPlan, token: str | None) -> dict:
    """Return the answer of a named plan: its versions, the current one and its links."""
    return {
        "name": named.name,
        "created_at": iso(named.created_at),
        "current_version": named.current.version,
        "versions": [
            {
                "version": v.version,
                "plan_id": v.plan_id,
                "created_at": iso(v.created_at),
                "source": v.source,
            }
            for v in named.versions
        ],
        "token_issued": token is not None,
        "links": named_links(request, settings, named.name, named.current.plan_id, token),
    }


def version_ref(request: Request, settings: Settings, named: NamedPlan, token: str | None) -> dict:
    """Return what a plan's answer says of the named plan's version it became."""
    return {
        "name": named.name,
        "version": named.current.version,
        "token_issued": token is not None,
        "links": named_links(request, settings, named.name, named.current.plan_id, token),
    }


def _variant_plan_id(store: PlanStore, run_id: str, variant: str | None, workspace: str) -> str:
    """Return the plan id of a scenario run's variant (default: the base); 404 if none."""
    run = store.get_scenario_run(run_id, workspace=workspace)
    if run is None:
        raise NotFound(f"no scenario run with id {run_id!r}")
    plans = dict(run["plans"])
    variants = [v.get("variant") for v in (run["summary"] or {}).get("variants", [])]
    wanted = variant if variant is not None else (variants[0] if variants else None)
    if wanted not in plans:
        have = ", ".join(sorted(str(n) for n in plans)) or "none"
        raise NotFound(
            f"scenario run {run_id} has no plan for the variant {wanted!r} (its rules could "
            f"not hold, or its plan was deleted); variants with a plan: {have}"
        )
    return plans[wanted]


_NAMED = {"model": NamedPlanOut}


@router.put(
    "/{name}",
    response_model=NamedPlanOut,
    operation_id="put_named_plan",
    summary="Make a saved plan (or a scenario run's variant) a named plan's current version "
    "(role write)",
    responses={
        200: {
            "description": "the plan is the name's current version (a new one unless it "
            "was already)"
        },
        201: {
            **_NAMED,
            "description": "the name is new: version 1; its feed links carry the feed "
            "token, shown only here",
            "headers": {
                "Location": {"description": "the named plan", "schema": {"type": "string"}}
            },
        },
        **error_responses(401, 403, 404),
    },
)
def put_named_plan(
    name: NameParam,
    body: NamedPlanPut,
    caller: Writer,
    request: Request,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
) -> dict:
    """Name a plan: it becomes the named plan's next version, the one its feeds serve.

    Give `plan_id` (a saved plan), or `run_id` and `variant` (a scenario run's variant;
    without `variant`, the base). A new name starts at version 1 and gets a feed token,
    shown in the answer's feed links (201) and never again (re-issue it with
    `POST /v1/named-plans/{name}/token`). Naming the current version's plan again changes
    nothing (200). Names are per workspace; the rule: 1 to 64 letters, digits, `.`, `_` or
    `-`, starting with a letter or digit, case-insensitive (kept in lower case).
    """
    name = valid_name(name)
    ws = caller.workspace
    if body.run_id is not None:
        plan_id = _variant_plan_id(store, body.run_id, body.variant, ws)
        source = "scenario_run"
    else:
        plan_id, source = str(body.plan_id), "plan"
    if store.get_plan(plan_id, workspace=ws) is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    named, token = store.add_version(
        name, plan_id, source=source, workspace=ws, unless_current=True
    )
    out = named_out(request, settings, named, token)
    if token is not None:
        response.status_code = 201
        response.headers["Location"] = out["links"]["self"]
    return out


@router.get(
    "/{name}",
    response_model=NamedPlanOut,
    operation_id="get_named_plan",
    summary="A named plan: its versions, the current one, its feeds (role read)",
    responses=error_responses(401, 403, 404),
)
def get_named_plan(
    name: NameParam, caller: Reader, request: Request, settings: SettingsDep, store: StoreDep
) -> dict:
    """Read a named plan: its versions (oldest first), the current one and its feed links.

    The feed links carry no token here: it is shown only when the name is made or its
    token re-issued.
    """
    named = get_named_or_404(store, valid_name(name), caller.workspace)
    return named_out(request, settings, named, None)


@router.post(
    "/{name}/token",
    response_model=NamedPlanOut,
    operation_id="rotate_feed_token",
    dependencies=[IdempotencyKey],
    summary="Issue a new feed token; the old one stops working (role admin)",
    responses=error_responses(401, 403, 404, 409),
)
def rotate_feed_token(
    name: NameParam, caller: Admin, request: Request, settings: SettingsDep, store: StoreDep
) -> dict:
    """Issue a new feed token for a named plan: sheets linked with the old one get 403.

    The answer's feed links carry the new token (shown only here).
    """
    name = valid_name(name)
    token = store.rotate_feed_token(name, workspace=caller.workspace)
    if token is None:
        raise NotFound(f"no named plan {name!r}; name a plan with PUT /v1/named-plans/{name}")
    named = get_named_or_404(store, name, caller.workspace)
    return named_out(request, settings, named, token)
