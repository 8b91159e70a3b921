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
    return operations.make_forecast(body, settings, server_history)
