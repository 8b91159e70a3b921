"""GET /health: liveness and readiness, no key needed."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import DefaultCurvesDep, ServerHistoryDep, StoreDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Is the service up?")
def health(
    store: StoreDep, default_curves: DefaultCurvesDep, server_history: ServerHistoryDep
) -> dict:
    """Report liveness, the version, the database kind and what was loaded at start-up.

    Needs no key. The database is queried, so a 200 also means that it answers.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("adplan")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        v = "unknown"
    store.ping()
    return {
        "status": "ok",
        "version": v,
        "database": store.engine.dialect.name,
        "default_curves": default_curves is not None,
        "startup_history": server_history is not None and server_history.history is not None,
    }
