"""Dependencies of the routes, as ``Annotated`` aliases (one place for all of them).

``SettingsDep`` is :func:`service.settings.get_settings`, so tests can swap settings with
``app.dependency_overrides[get_settings]``; :func:`service.app.create_app` does the same when
it is given settings.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery

from optimizer import Curves

from .db import PlanStore
from .operations import ServerHistory
from .settings import Settings, get_settings

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="one of the keys in ADPLAN_API_KEYS; needed on every /v1 call",
)
download_token = APIKeyQuery(
    name="token",
    auto_error=False,
    scheme_name="DownloadToken",
    description="a plan's read-only token (from its links); grants only that plan's CSV/XLSX",
)

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_store(request: Request) -> PlanStore:
    """Return the app's plan store (``app.state.store``)."""
    return request.app.state.store


def get_default_curves(request: Request) -> Curves | None:
    """Return the curves loaded or forecast at start-up, or None if there are none."""
    return request.app.state.default_curves


def get_server_history(request: Request) -> ServerHistory | None:
    """Return the start-up history and its forecast cache, or None if the app has none."""
    return getattr(request.app.state, "server_history", None)


StoreDep = Annotated[PlanStore, Depends(get_store)]
DefaultCurvesDep = Annotated[Curves | None, Depends(get_default_curves)]
ServerHistoryDep = Annotated[ServerHistory | None, Depends(get_server_history)]


def key_is_valid(presented: str | None, settings: Settings) -> bool:
    """Check ``presented`` against every configured key, in constant time."""
    if not presented:
        return False
    given = presented.encode("utf-8", "surrogatepass")
    ok = False
    for key in settings.api_keys:
        ok |= hmac.compare_digest(given, key.encode("utf-8", "surrogatepass"))
    return ok


UNAUTHORIZED = {"WWW-Authenticate": "ApiKey"}


def require_api_key(
    settings: SettingsDep, key: Annotated[str | None, Security(api_key_header)]
) -> None:
    """Refuse (401) a request without a valid ``X-API-Key``."""
    if not key:
        raise HTTPException(401, "missing X-API-Key header", headers=UNAUTHORIZED)
    if not key_is_valid(key, settings):
        raise HTTPException(401, "invalid API key", headers=UNAUTHORIZED)


ApiKey = Depends(require_api_key)


def require_download_access(
    plan_id: str,
    settings: SettingsDep,
    store: StoreDep,
    key: Annotated[str | None, Security(api_key_header)],
    token: Annotated[str | None, Security(download_token)],
) -> None:
    """Require a valid X-API-Key, or the plan's own token in ``?token=``.

    A token that belongs to another plan (or to none) is 403; a missing plan is 404.
    """
    if key:
        if key_is_valid(key, settings):
            return
        raise HTTPException(401, "invalid API key", headers=UNAUTHORIZED)
    if not token:
        raise HTTPException(
            401, "send X-API-Key or the plan's ?token= from its links", headers=UNAUTHORIZED
        )
    ok = store.check_token(plan_id, token)
    if ok is None:
        raise HTTPException(404, f"no plan with id {plan_id!r}")
    if not ok:
        raise HTTPException(403, "this token does not grant access to this plan")


DownloadAccess = Depends(require_download_access)
