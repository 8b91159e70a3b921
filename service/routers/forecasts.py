"""/v1/forecasts: history rows in, response curves out (not saved)."""

from __future__ import annotations

from fastapi import APIRouter

from .. import operations
from ..deps import IdempotencyKey, ServerHistoryDep, ServiceRoute, SettingsDep, Writer
from ..errors import error_responses
from ..schemas import ForecastOut, ForecastRequest
from .links import REPLAY_HEADERS

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"], route_class=ServiceRoute)


@router.post(
    "",
    response_model=ForecastOut,
    operation_id="create_forecast",
    dependencies=[IdempotencyKey],
    summary="Forecast response curves from history (role write)",
    responses={
        200: {"description": "the curves and the forecast", "headers": REPLAY_HEADERS},
        **error_responses(401, 403, 409, 503),
    },
)
def create_forecast(
    body: ForecastRequest,
    _caller: Writer,
    settings: SettingsDep,
    server_history: ServerHistoryDep,
) -> dict:
    """Forecast response curves for `from`..`to` from history rows (nothing is saved).

    Without `history` rows, the server's start-up history (ADPLAN_HISTORY_PATH) is
    forecast; that forecast is fitted once per window (and `response`) and then reused.
    `response` sets how the response is modelled (carry-over, season, shape, events, priors,
    lift tests, incremental results: `adplan forecast --carryover ... --incremental`); the
    answer's `response` says what the forecast chose, and each of `lines` its carry-over,
    shape, prior shares and lift.
    """
    return operations.make_forecast(body, settings, server_history)
