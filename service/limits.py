"""Size limits: the request body (413) and the problem a request asks to solve (422)."""

from __future__ import annotations

import json

from fastapi import HTTPException

from .errors import ProblemTooLarge, RequestTooLarge
from .settings import Settings


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413 before reading them all.

    A declared ``Content-Length`` over the limit is refused at once; a chunked body is
    counted as it arrives and refused as soon as it passes the limit.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on, refusing it with 413 once its body is over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        if declared is not None and declared > self.max_bytes:
            await _send_413(send, self.max_bytes)
            return

        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeHTTP(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


class BodyTooLargeHTTP(HTTPException):
    """Raised while the body is read; FastAPI passes HTTPExceptions through unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=str(RequestTooLarge(limit)))
        self.limit = limit


async def _send_413(send, limit: int) -> None:
    err = RequestTooLarge(limit)
    body = json.dumps(err.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
