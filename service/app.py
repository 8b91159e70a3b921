"""``create_app()``: the FastAPI application over adplan's functions."""

from __future__ import annotations

import gc
import logging
import re
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from forecasting.errors import ForecastingError
from optimizer.errors import OptimizerError
from scenarios.inputs import read_curves

from .db import PlanStore
from .errors import ServiceError, install_error_handlers
from .history import ForecastCache, StartupHistoryError, read_startup_history
from .limits import ReadBody
from .operations import ServerHistory, Window
from .pool import BusyBeforeBody, HeavyAdmission, HeavyPool, PoolError, pool_error_response
from .routers import docs, feeds, forecasts, frontiers, health, named_plans, plans, scenario_runs
from .routers.health import DatabaseProbe
from .settings import Settings, get_settings

log = logging.getLogger("adplan.service")

DESCRIPTION = """
Plan paid social budgets over HTTP: the same functions as the `adplan` command line.

Every `/v1` call needs a key in the `X-API-Key` header. A plan's CSV and XLSX links carry a
read-only `?token=` so that Excel Power Query and Google Sheets `IMPORTDATA` can pull them
without headers; the token grants those two downloads of that one plan and nothing else.
"""


class RedactTokens(logging.Filter):
    """Keep download tokens and API keys out of the access log.

    ``?token=...``, ``?api_key=...``, ``?key=...`` and ``?x-api-key=...`` (any case) become
    ``=***``.
    """

    pattern = re.compile(
        r"([?&](?:token|api[_-]?key|key|x[_-]api[_-]key)=)[^&\s\"]+", re.IGNORECASE
    )

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the tokens in the record's arguments (or message); always keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self.pattern.sub(r"\1***", record.msg)
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())


#: first-generation threshold of the cyclic garbage collector in a serving process; with
#: Python's default (700) the collections a large request (a 1 MB body is ~100,000 lists,
#: dicts and tuples) sets off took about 110 of its 280 ms
GC_GEN0_THRESHOLD = 10_000


def tune_gc() -> None:
    """Make the cyclic GC cheap for a server.

    What start-up built (modules, the default curves) is frozen out of the collections, and
    gen-0 collections run less often. Only when the server starts (the app's lifespan), never
    on import or in ``create_app``.
    """
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0 < GC_GEN0_THRESHOLD:
        gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def _version() -> str:
    try:
        return version("adplan")
    except PackageNotFoundError:  # pragma: no cover
        return "0.0.0"


def _startup_history(settings: Settings) -> ServerHistory:
    """Read and validate ADPLAN_HISTORY_PATH once (if set); add an empty forecast cache."""
    history = None
    if settings.history_path is not None:
        history = read_startup_history(settings.history_path)
    return ServerHistory(history, ForecastCache(settings.forecast_cache_size))


def _startup_forecast(server_history: ServerHistory, settings: Settings):
    """Forecast the window ADPLAN_FORECAST_FROM..TO at start-up and return its curves.

    They become the default curves (and the first entry of the forecast cache).
    """
    start, end = settings.forecast_from, settings.forecast_to
    period = settings.forecast_period or "week"
    try:
        fc = server_history.forecast(Window(start, end, period), settings)
    except (ForecastingError, OptimizerError, ServiceError, ValueError) as e:
        raise StartupHistoryError(
            f"settings ADPLAN_FORECAST_FROM={start}, ADPLAN_FORECAST_TO={end}, "
            f"ADPLAN_FORECAST_PERIOD={period}: cannot forecast "
            f"{server_history.history.label} over this window: {e}"
        ) from e
    for w in fc.warnings:
        log.warning("start-up forecast: %s", w)
    log.info(
        "default curves: %d lines forecast for %s..%s by %s",
        len(fc.curves.lines),
        start,
        end,
        period,
    )
    return fc.curves


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: database, default curves, start-up history, routes and errors.

    Opens the database, loads the default curves and the start-up history (forecasting its
    window if one is set), and wires the routes, the error handlers, the limits on requests
    (``service.limits``) and the pool of heavy work (``service.pool``).

    ``settings`` defaults to :func:`get_settings` (the environment). The settings used are
    also installed as the override of :func:`get_settings`, so routes and state agree.
    """
    settings = settings or get_settings()
    _redact_access_log()
    store = PlanStore(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    default_curves = None
    if settings.curves_path is not None:
        default_curves = read_curves(settings.curves_path)
        log.info(
            "default curves: %d lines from %s", len(default_curves.lines), settings.curves_path
        )
    try:
        server_history = _startup_history(settings)
        if settings.forecast_from is not None and settings.forecast_to is not None:
            default_curves = _startup_forecast(server_history, settings)
    except BaseException:
        store.close()
        raise

    pool = HeavyPool.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        tune_gc()
        yield
        pool.shutdown()
        store.close()

    app = FastAPI(
        title="adplan",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by service.routers.docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.default_curves = default_curves
    app.state.server_history = server_history
    app.state.forecast_cache = server_history.cache
    app.state.heavy_pool = pool
    app.state.db_probe = DatabaseProbe(store)
    app.dependency_overrides[get_settings] = lambda: settings

    install_error_handlers(app)
    app.add_exception_handler(PoolError, pool_error_response)
    # the last added runs first: a full pool refuses at the headers; the body is read (size,
    # pace); then heavy work is admitted
    app.add_middleware(HeavyAdmission, pool=pool)
    app.add_middleware(
        ReadBody, max_bytes=settings.max_request_bytes, timeout=settings.client_timeout
    )
    app.add_middleware(BusyBeforeBody, pool=pool)
    for module in (health, plans, named_plans, feeds, forecasts, frontiers, scenario_runs):
        app.include_router(module.router)
    docs.install(app)
    return app
