"""The heavy-work pool: forecasts, plans, frontiers and scenario runs, bounded in number and time.

Heavy work never runs on the request threads (Starlette's thread limiter, which the light
routes share) nor on the event loop, but in one :class:`HeavyPool` per app
(``app.state.heavy_pool``): ``ADPLAN_WORKERS`` threads, and room for ``ADPLAN_QUEUE``
requests more waiting for one.

* **Admission.** :class:`HeavyAdmission` (ASGI middleware) gives each request to a heavy
  route (:data:`HEAVY_ROUTES`) a :class:`Ticket`, once its body has arrived and before it is
  parsed; with ``workers + queue`` tickets out the answer is at once 503 ``busy`` with a
  ``Retry-After`` header, and the body is never parsed. A ticket is held until the request
  has answered *and* its work has stopped, so a solve that outlives its request still counts.
* **Time budget.** A ticket's deadline is ``ADPLAN_REQUEST_TIME_BUDGET`` seconds after
  admission, waiting included. The request thread waits for the work at most until then and
  answers 503 ``time_budget_spent`` (``Retry-After``) if it is not done; work still waiting
  is cancelled. A running thread cannot be stopped: each solve is given
  :func:`solver_time_limit`, ``ADPLAN_TIME_LIMIT`` cut to what is left of the budget, so it
  stops there with its best plan.
* **Client gone.** A client that closes its connection while its work waits has that work
  cancelled; nothing is solved for nobody.

The operations (``service.operations``) submit themselves with :func:`heavy`; called
outside a request (the tests, the CLI) they run inline as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse

from .errors import ServiceError
from .limits import send_error
from .settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

#: (method, path) of the routes whose work runs in the pool; each is admitted (or refused)
#: before its body is parsed. A heavy operation reached from any other route still runs in
#: the pool, admitted when it is submitted.
HEAVY_ROUTES = frozenset(
    {
        ("POST", "/v1/plans"),
        ("POST", "/v1/forecasts"),
        ("POST", "/v1/frontiers"),
        ("POST", "/v1/scenario-runs"),
    }
)

#: of a request's time budget, the seconds kept for what follows the solve (reading the
#: plan, saving it, answering): at most this, and at most a tenth of the budget
RESERVE_SECONDS = 2.0

_POOL: contextvars.ContextVar[HeavyPool | None] = contextvars.ContextVar(
    "adplan_pool", default=None
)
_TICKET: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "adplan_ticket", default=None
)
_IN_POOL: contextvars.ContextVar[bool] = contextvars.ContextVar("adplan_in_pool", default=False)


class PoolError(ServiceError):
    """Heavy work refused or cut short: 503 with ``Retry-After`` (seconds) and ``retry_after``."""

    status_code = 503
    code = "busy"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}

    def body(self) -> dict:
        """Return the JSON body, with ``retry_after`` (the header's seconds)."""
        return {**super().body(), "retry_after": self.retry_after}


class ServiceBusy(PoolError):
    """Every worker and every waiting place is taken (503 ``busy``)."""

    code = "busy"


class TimeBudgetSpent(PoolError):
    """The request's time budget ran out, waiting or working (503 ``time_budget_spent``)."""

    code = "time_budget_spent"


class WorkCancelled(PoolError):
    """The client closed its connection before its work started; nothing was done."""

    code = "cancelled"


async def pool_error_response(_request: Request, exc: Exception) -> JSONResponse:
    """Answer a :class:`PoolError`: its status, JSON body and ``Retry-After`` header."""
    assert isinstance(exc, PoolError)
    return JSONResponse(status_code=exc.status_code, content=exc.body(), headers=exc.headers)


class Ticket:
    """One admitted heavy request's place in the pool, until the request and its work end."""

    def __init__(self, pool: HeavyPool, deadline: float) -> None:
        self.pool = pool
        self.deadline = deadline
        self.gone = False
        self.future: Future | None = None
        self._refs = 1  # the request; +1 while its work is submitted

    def left(self) -> float:
        """Return the seconds left of the request's time budget (negative once spent)."""
        return self.deadline - time.monotonic()

    def hold(self) -> None:
        """Keep the place for work about to be submitted (released when it ends)."""
        with self.pool.lock:
            self._refs += 1

    def release(self, _future: Future | None = None) -> None:
        """Let go of one hold; the place is free once the request and its work both let go."""
        with self.pool.lock:
            self._refs -= 1
            if self._refs == 0:
                self.pool.admitted -= 1

    def abandon(self) -> None:
        """Cancel the work of a client that left, if it has not started."""
        self.gone = True
        if self.future is not None:
            self.future.cancel()


class HeavyPool:
    """``workers`` threads for heavy work and ``queue`` places to wait for one (see module)."""

    def __init__(self, workers: int, queue: int, budget: float) -> None:
        self.workers, self.queue, self.budget = workers, queue, budget
        self.lock = threading.Lock()
        self.admitted = 0  # tickets out: requests waiting, working, or whose work still runs
        self.running = 0
        self.refused = 0
        self._mean = 1.0  # seconds per piece of work, a moving average (for Retry-After)
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> HeavyPool:
        """Return the pool ADPLAN_WORKERS, ADPLAN_QUEUE and ADPLAN_REQUEST_TIME_BUDGET ask for."""
        return cls(settings.workers, settings.queue, settings.request_time_budget)

    def admit(self) -> Ticket | None:
        """Return a ticket for one more heavy request, or None when the pool and queue are full."""
        with self.lock:
            if self._refuse():
                return None
            self.admitted += 1
        return Ticket(self, time.monotonic() + self.budget)

    def full(self) -> bool:
        """Return True when every place is taken (counting it as a refusal)."""
        with self.lock:
            return self._refuse()

    def _refuse(self) -> bool:
        """With the lock held: True (and one more refusal counted) when every place is taken."""
        if self.admitted >= self.workers + self.queue:
            self.refused += 1
            return True
        return False

    def retry_after(self) -> int:
        """Return the seconds after which a place is likely free (at least 1, at most the budget)."""
        with self.lock:
            rounds = max(self.admitted, 1) / self.workers
            guess = self._mean * rounds
        return int(min(max(math.ceil(guess), 1), math.ceil(self.budget)))

    def busy(self) -> ServiceBusy:
        """Return the 503 of a full pool."""
        return ServiceBusy(
            f"the server is busy: all {self.workers} workers and {self.queue} waiting places "
            "for forecasts, plans, frontiers and scenario runs are taken (settings "
            "ADPLAN_WORKERS, ADPLAN_QUEUE); retry after the Retry-After seconds",
            self.retry_after(),
        )

    def spent(self, started: bool) -> TimeBudgetSpent:
        """Return the 503 of a request whose time budget ran out (waiting, or working)."""
        where = "while it ran" if started else "before a worker was free"
        return TimeBudgetSpent(
            f"the request's time budget of {self.budget:g} s (setting "
            f"ADPLAN_REQUEST_TIME_BUDGET) ran out {where}; nothing was saved. Retry after the "
            "Retry-After seconds, or ask for less (fewer lines, budgets or variants)",
            self.retry_after(),
        )

    def stats(self) -> dict:
        """Return ``workers``, ``queue``, ``running``, ``admitted`` and ``refused`` (so far)."""
        with self.lock:
            return {
                "workers": self.workers,
                "queue": self.queue,
                "running": self.running,
                "admitted": self.admitted,
                "refused": self.refused,
            }

    def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn(*args, **kwargs)`` on a worker and return its result (or raise its error).

        Uses the request's ticket (:class:`HeavyAdmission`), or takes one here (503 when the
        pool is full). Waits at most what is left of the request's time budget.
        """
        ticket = _TICKET.get()
        if ticket is not None:
            return self._submit(ticket, fn, args, kwargs)
        ticket = self.admit()
        if ticket is None:
            raise self.busy()
        try:
            return self._submit(ticket, fn, args, kwargs)
        finally:
            ticket.release()

    def _submit(self, ticket: Ticket, fn: Callable[..., R], args: tuple, kwargs: dict) -> R:
        if ticket.gone:
            raise WorkCancelled("the client closed the connection; nothing was done", 1)
        left = ticket.left()
        if left <= 0:
            raise self.spent(False)
        ctx = contextvars.copy_context()
        ctx.run(_enter_worker, ticket)
        ticket.hold()
        try:
            future = self._threads().submit(ctx.run, self._work, ticket, fn, args, kwargs)
        except BaseException:
            ticket.release()
            raise
        future.add_done_callback(ticket.release)
        ticket.future = future
        if ticket.gone:  # the client left while this was being submitted
            future.cancel()
        try:
            return future.result(timeout=left)
        except FutureTimeout:
            raise self.spent(not future.cancel()) from None
        except CancelledError:
            raise WorkCancelled("the client closed the connection; nothing was done", 1) from None

    def _work(self, ticket: Ticket, fn: Callable[..., R], args: tuple, kwargs: dict) -> R:
        if ticket.left() <= 0:  # its waiter has answered 503 already
            raise self.spent(False)
        t0 = time.monotonic()
        with self.lock:
            self.running += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1
                self._mean = 0.8 * self._mean + 0.2 * (time.monotonic() - t0)

    def _threads(self) -> ThreadPoolExecutor:
        """Return the executor, started on first use (and again after :meth:`shutdown`)."""
        with self.lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="adplan-heavy"
                )
            return self._executor

    def shutdown(self) -> None:
        """Cancel the waiting work; running work ends at its time limit.

        The app's lifespan calls it when the server stops; work submitted later (the app
        started again, as test clients do) gets new threads.
        """
        with self.lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _enter_worker(ticket: Ticket) -> None:
    _TICKET.set(ticket)
    _IN_POOL.set(True)


def heavy(fn: Callable[P, R]) -> Callable[P, R]:
    """Make ``fn`` run in the request's :class:`HeavyPool` (inline outside a request)."""

    @wraps(fn)
    def submitted(*args: P.args, **kwargs: P.kwargs) -> R:
        pool = _POOL.get()
        if pool is None or _IN_POOL.get():
            return fn(*args, **kwargs)
        return pool.run(fn, *args, **kwargs)

    return submitted


def solver_time_limit(settings: Settings) -> float:
    """Return the seconds a solve may take: ADPLAN_TIME_LIMIT, cut to the request's budget.

    Some of what is left is kept for reading and saving the plan (:data:`RESERVE_SECONDS`,
    at most a tenth of the budget). Raises :class:`TimeBudgetSpent` if nothing is left.
    """
    ticket = _TICKET.get()
    if ticket is None:
        return settings.time_limit
    reserve = min(RESERVE_SECONDS, 0.1 * ticket.pool.budget)
    left = ticket.left() - reserve
    if left <= 0:
        raise ticket.pool.spent(True)
    return min(settings.time_limit, left)


class HeavyAdmission:
    """ASGI middleware: admit each request to a heavy route into the pool, or answer 503.

    Every request gets the app's pool (so the operations find it); a request to one of
    :data:`HEAVY_ROUTES` gets a :class:`Ticket` first, once its body has arrived (the
    middleware :class:`service.limits.ReadBody` reads it). Its work is cancelled if the
    client closes the connection before the work starts.
    """

    def __init__(self, app, pool: HeavyPool) -> None:
        self.app = app
        self.pool = pool

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on with the pool (and a ticket for heavy work), or answer 503."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _POOL.set(self.pool)
        try:
            if (scope["method"], _path(scope)) in HEAVY_ROUTES:
                await self._heavy(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            _POOL.reset(token)

    async def _heavy(self, scope, receive, send) -> None:
        ticket = self.pool.admit()
        if ticket is None:
            await send_error(send, self.pool.busy())
            return
        try:
            first = await _whole_body(receive)  # at once: ReadBody has read it
            if first is None:  # the client left
                return
            gone = asyncio.Event()
            watch = asyncio.create_task(_watch(receive, ticket, gone))
            token = _TICKET.set(ticket)
            try:
                await self.app(scope, _then_disconnect(first, gone), send)
            finally:
                _TICKET.reset(token)
                watch.cancel()
        finally:
            ticket.release()


class BusyBeforeBody:
    """ASGI middleware, outermost: a heavy request that finds the pool full gets 503 at once.

    Before its body is read, so a flood of refused requests costs the server their headers
    only (the connection is closed, the body never read). Whoever passes is admitted for
    real by :class:`HeavyAdmission` once the body has arrived.
    """

    def __init__(self, app, pool: HeavyPool) -> None:
        self.app = app
        self.pool = pool

    async def __call__(self, scope, receive, send) -> None:
        """Answer 503 busy without reading the body, or pass the request on."""
        heavy = scope["type"] == "http" and (scope["method"], _path(scope)) in HEAVY_ROUTES
        if heavy and self.pool.full():
            await send_error(send, self.pool.busy(), close=True)
            return
        await self.app(scope, receive, send)


def _path(scope) -> str:
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _whole_body(receive) -> dict | None:
    """Return the body as one ``http.request`` message, or None if the client left."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


async def _watch(receive, ticket: Ticket, gone: asyncio.Event) -> None:
    """Wait for the client to leave; then cancel its work if it has not started."""
    while (await receive())["type"] != "http.disconnect":
        pass
    ticket.abandon()
    gone.set()


def _then_disconnect(first: dict, gone: asyncio.Event):
    """Return a ``receive`` that gives ``first`` (the body), then waits for the disconnect."""
    given = False

    async def receive() -> dict:
        nonlocal given
        if not given:
            given = True
            return first
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive
