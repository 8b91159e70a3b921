"""GET /health: liveness and readiness, no key needed, never waiting behind heavy work.

The route is ``async`` and reads ``app.state`` itself (no thread-pool dependencies), so it
runs on the event loop and never queues behind the requests that hold Starlette's thread
limiter. The database ping runs on its own thread, one at a time, and is waited for at most
:data:`PING_WAIT` seconds: a database that is slower (a busy SQLite writer, a full connection
pool) is reported ``"database_state": "busy"`` rather than making /health wait.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..db import PlanStore
from ..schemas import Health

router = APIRouter(tags=["health"])

#: seconds /health waits for the database to answer ``SELECT 1``
PING_WAIT = 0.05
#: seconds a ping's "ok" stands for (a /health polled more often pings no more often)
PING_FRESH = 1.0


class DatabaseProbe:
    """Ping the database off the event loop, one ping at a time, waiting at most ``wait`` s."""

    def __init__(self, store: PlanStore, wait: float = PING_WAIT, fresh: float = PING_FRESH):
        self.store = store
        self.wait, self.fresh = wait, fresh
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adplan-ping")
        self._pending: Future | None = None
        self._ok_at = -math.inf

    async def state(self) -> str:
        """Return ``"ok"``, or ``"busy"`` if the ping has not answered within ``wait`` seconds.

        An "ok" younger than ``fresh`` seconds is answered again without a ping; a ping still
        running from an earlier call is waited for instead of starting another. A ping that
        fails raises its error (the answer is 500).
        """
        if time.monotonic() - self._ok_at < self.fresh:
            return "ok"
        pending = self._pending
        if pending is None or pending.done():
            pending = self._pending = self._executor.submit(self.store.ping)
        done, _ = await asyncio.wait([asyncio.wrap_future(pending)], timeout=self.wait)
        if not done:
            return "busy"
        done.pop().result()  # the ping's error, if any
        self._ok_at = time.monotonic()
        return "ok"


@router.get("/health", response_model=Health, summary="Is the service up?")
async def health(request: Request) -> JSONResponse:
    """Report liveness, the version, the database and its state, and what was loaded at start-up.

    Needs no key, and answers at once whatever the load. `database_state` is `ok` when the
    database answered a ping within 50 ms, `busy` when it did not (yet). `heavy` gives the
    pool of forecasts, plans, frontiers and scenario runs: `workers`, `queue` (waiting
    places), `running`, `admitted` (requests holding a place) and `refused` (503s so far).
    """
    state = request.app.state
    server_history = getattr(state, "server_history", None)
    body = {
        "status": "ok",
        "version": request.app.version,
        "database": state.store.engine.dialect.name,
        "database_state": await state.db_probe.state(),
        "default_curves": state.default_curves is not None,
        "startup_history": server_history is not None and server_history.history is not None,
        "heavy": state.heavy_pool.stats(),
    }
    return JSONResponse(body)
