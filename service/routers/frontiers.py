"""/v1/frontiers: expected results and marginal cost per result at several budgets."""

from __future__ import annotations

from fastapi import APIRouter

from .. import operations
from ..deps import (
    DefaultCurvesDep,
    IdempotencyKey,
    ServerHistoryDep,
    ServiceRoute,
    SettingsDep,
    Writer,
)
from ..errors import error_responses
from ..schemas import FrontierOut, FrontierRequest
from .links import REPLAY_HEADERS

router = APIRouter(prefix="/v1/frontiers", tags=["frontiers"], route_class=ServiceRoute)


@router.post(
    "",
    response_model=FrontierOut,
    operation_id="create_frontier",
    dependencies=[IdempotencyKey],
    summary="The budget frontier of a plan (role write)",
    responses={
        200: {"description": "one point per budget", "headers": REPLAY_HEADERS},
        **error_responses(401, 403, 409, 503),
    },
)
def create_frontier(
    body: FrontierRequest,
    _caller: Writer,
    settings: SettingsDep,
    default_curves: DefaultCurvesDep,
    server_history: ServerHistoryDep,
) -> dict:
    """Solve the plan at each of `budgets`: expected results and marginal cost per result.

    The curves come as for a plan: `curves`, `history` rows with `from` and `to`,
    `from` and `to` alone (the start-up history), or the server's default curves.
    Each point has the P10, P50 and P90 of its results (`results_p10`, ...; null where the
    rules cannot hold), simulated from the curves' uncertainty. Under objective cvar the
    frontier is that of the plans with the most expected results. Nothing is saved.
    """
    return operations.make_frontier(body, default_curves, settings, server_history)
