"""/v1/frontiers: expected results and marginal cost per result at several budgets."""

from __future__ import annotations

from fastapi import APIRouter

from .. import operations
from ..deps import ApiKey, DefaultCurvesDep, ServerHistoryDep, SettingsDep
from ..schemas import FrontierOut, FrontierRequest

router = APIRouter(prefix="/v1/frontiers", tags=["frontiers"], dependencies=[ApiKey])


@router.post("", response_model=FrontierOut, summary="The budget frontier of a plan")
def create_frontier(
    body: FrontierRequest,
    settings: SettingsDep,
    default_curves: DefaultCurvesDep,
    server_history: ServerHistoryDep,
) -> dict:
    """Solve the plan at each of `budgets`: expected results and marginal cost per result.

    The curves come as for a plan: `curves`, `history` rows with `from` and `to`,
    `from` and `to` alone (the start-up history), or the server's default curves.
    Nothing is saved.
    """
    return operations.make_frontier(body, default_curves, settings, server_history)
