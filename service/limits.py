"""Limits on what one request may ask: its size (413), its problem (422) and its pace (408).

:class:`ReadBody` (ASGI middleware) receives each request's whole body before the app sees
it: over ``ADPLAN_MAX_REQUEST_BYTES`` it is refused with 413 as soon as that is known (a
declared ``Content-Length`` at once, a chunked body when it passes the limit); a client that
has not sent it all within ``ADPLAN_CLIENT_TIMEOUT`` seconds gets 408 and the connection is
closed. Neither reaches a route, a thread or the heavy-work pool.

The request head (line and headers) comes before any ASGI app runs, so its deadline is the
server's: :func:`h11_with_head_timeout` is uvicorn's h11 protocol with one
(``adplan serve`` uses it). Uvicorn's own ``timeout_keep_alive`` only closes a connection
idle after a response; a client that sends a head a byte at a time, or connects and sends
nothing, is otherwise never cut off.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Iterable
from typing import Any

from .errors import ProblemTooLarge, RequestTooLarge, ServiceError
from .settings import Settings


class ClientTooSlow(ServiceError):
    """The client did not send its request within ADPLAN_CLIENT_TIMEOUT seconds (408)."""

    status_code = 408
    code = "request_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the request was not received within {seconds:g} s (setting "
            "ADPLAN_CLIENT_TIMEOUT); send it at once, not a little at a time"
        )
        self.limit = seconds

    def body(self) -> dict:
        """Return the JSON body, with the ``limit`` in seconds."""
        return {**super().body(), "limit": self.limit}


class ReadBody:
    """ASGI middleware: receive the whole body first, within the size limit and the time limit.

    413 for a body over ``max_bytes`` (declared or counted), 408 for one not received within
    ``timeout`` seconds; both close the connection. The app gets the body in one message.
    """

    def __init__(self, app, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on with its body read, or answer 413 or 408."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await send_error(send, RequestTooLarge(self.max_bytes), close=True)
            return
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._read(receive)
        except TimeoutError:
            await send_error(send, ClientTooSlow(self.timeout), close=True)
            return
        except RequestTooLarge as e:
            await send_error(send, e, close=True)
            return
        if body is not None:  # None: the client left
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive) -> bytes | None:
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                raise RequestTooLarge(self.max_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive):
    """Return a ``receive`` that gives ``body`` in one message, then what the client sends."""
    given = False

    async def replay() -> dict:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def send_error(
    send, err: ServiceError, *, close: bool = False, headers: Iterable[tuple[str, str]] = ()
) -> None:
    """Answer ``err`` (its status, JSON body and headers) from ASGI middleware.

    ``close`` adds ``Connection: close`` (for a body that was not read to its end).
    """
    body = json.dumps(err.body()).encode()
    extra = {**(getattr(err, "headers", None) or {}), **dict(headers)}
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), str(v).encode()) for k, v in extra.items()),
    ]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": err.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _raw_408(seconds: float) -> bytes:
    """Return a whole HTTP/1.1 408 response with the JSON error body (written by the server)."""
    body = json.dumps(ClientTooSlow(seconds).body()).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def h11_with_head_timeout(head_timeout: float, **kwargs: Any) -> asyncio.Protocol:
    """Return uvicorn's h11 protocol for one connection, with a deadline on each request head.

    Give ``functools.partial(h11_with_head_timeout, seconds)`` as uvicorn's ``http``. A
    connection must send each request line and headers within ``head_timeout`` seconds of
    opening (or of its first byte after a response); else it gets 408 (when part of a head
    came) and is closed. The body's deadline is :class:`ReadBody`'s.
    """
    return _timed_h11()(head_timeout, **kwargs)


@functools.cache
def _timed_h11() -> type:
    """Build the protocol class (uvicorn is imported only by the server that uses it)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return type("TimedH11Protocol", (_HeadTimeout, H11Protocol), {})


class _HeadTimeout:
    """What :func:`h11_with_head_timeout` adds to uvicorn's ``H11Protocol`` (a mixin)."""

    # set by H11Protocol
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def __init__(self, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.head_timeout = head_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = False

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._expire)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._head_bytes = False

    def connection_made(self, transport) -> None:
        """Start the clock of the first request's head."""
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Start the clock at a head's first byte; stop it once the head is in."""
        if self._between_requests():
            self._head_bytes = True
            if self._head_timer is None:
                self._arm()
        super().data_received(data)  # type: ignore[misc]
        if not self._between_requests():  # the head is in: the body is ReadBody's
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _expire(self) -> None:
        self._head_timer = None
        if not self._between_requests() or self.transport.is_closing():
            return
        if self._head_bytes:
            self.transport.write(_raw_408(self.head_timeout))
        self.transport.close()


def check_curves_size(n_lines: int, n_variables: int, settings: Settings) -> None:
    """Refuse (ProblemTooLarge) curves over ADPLAN_MAX_LINES or ADPLAN_MAX_VARIABLES."""
    if n_lines > settings.max_lines:
        raise ProblemTooLarge(
            "the number of curve lines", n_lines, settings.max_lines, "ADPLAN_MAX_LINES"
        )
    if n_variables > settings.max_variables:
        raise ProblemTooLarge(
            "the number of LP variables (curve segments over all lines)",
            n_variables,
            settings.max_variables,
            "ADPLAN_MAX_VARIABLES",
        )


def check_count(what: str, value: int, limit: int, setting: str) -> None:
    """Refuse (ProblemTooLarge, naming ``setting``) a ``value`` above ``limit``."""
    if value > limit:
        raise ProblemTooLarge(what, value, limit, setting)
