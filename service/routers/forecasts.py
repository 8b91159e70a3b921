"""/v1/forecasts: history rows in, response curves out (not saved)."""

from __future__ import annotations

from fastapi import APIRouter

from .. import operations
from ..deps import ApiKey, ServerHistoryDep, SettingsDep
from ..schemas import ForecastOut, ForecastRequest

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"], dependencies=[ApiKey])


@router.post("", response_model=ForecastOut, summary="Forecast response curves from history")
def create_forecast(
    body: ForecastRequest, settings: SettingsDep, server_history: ServerHistoryDep
) -> dict:
    """Forecast response curves for `from`..`to` from history rows (nothing is saved).

    Without `history` rows, the server's start-up history (ADPLAN_HISTORY_PATH) is
    forecast; that forecast is fitted once per window and then reused.
    """
    return operations.make_forecast(body, settings, server_history)
