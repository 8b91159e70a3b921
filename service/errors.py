"""Errors become HTTP responses here, and only here.

================================  ======  ===============================================
error                             status  body (:class:`service.schemas.ErrorBody`)
================================  ======  ===============================================
no key, unknown key, key in URL   401     ``{"error": "unauthorized", "detail"}``
role too low, another's token     403     ``{"error": "forbidden", "detail", "needed_role"}``
no such plan or run (workspace)   404     ``{"error": "not_found", "detail"}``
Idempotency-Key reused/running    409     ``{"error": "idempotency_conflict" | ..._in_progress}``
a feed the version cannot give    409     ``{"error": "feed_unavailable", "detail"}``
ClientTooSlow (service.limits)    408     ``{"error": "request_timeout", "limit"}`` (closed)
RequestTooLarge                   413     ``{"error": "request_too_large", "limit"}``
malformed JSON, schema errors     422     ``{"error": "invalid_request", "detail", "errors"}``
CurveError, SpecError             422     ``{"error": "invalid_curves" | "invalid_spec", ...}``
ForecastingError, ScenarioError   422     ``{"error": "invalid_history" | "invalid_scenario"}``
ProblemTooLarge                   422     ``{"error": "problem_too_large", "limit", "value"}``
InfeasibleError                   422     ``{"error": "infeasible", "diagnosis", "rules", "repairs"}``
SolverError                       503     ``{"error": "solver_unavailable"}``
PoolError (service.pool)          503     ``{"error": "busy" | "time_budget_spent", ...}``
anything else                     500     ``{"error": "internal"}`` (never a stack trace)
================================  ======  ===============================================

No response is ever 400: a body FastAPI cannot parse is 422 like any other bad input.
:func:`error_responses` documents these statuses, with :class:`~service.schemas.ErrorBody`,
on the operations that can answer them.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from forecasting.errors import ForecastingError
from optimizer.errors import (
    CurveError,
    InfeasibleError,
    OptimizerError,
    SolverError,
    SpecError,
)
from optimizer.values import control_char_message
from scenarios.errors import ScenarioError
from scenarios.exports.write import json_safe

from .schemas import CONTROL_CHAR, ErrorBody

log = logging.getLogger("adplan.service")


class ServiceError(Exception):
    """Root of the service's own errors (422 unless a subclass says otherwise)."""

    status_code = 422
    code = "invalid_request"
    headers: dict[str, str] | None = None

    def body(self) -> dict:
        """Return the JSON body of the response: ``error`` (the code) and ``detail``."""
        return {"error": self.code, "detail": str(self)}


#: the header of every 401: the scheme the key goes in
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "ApiKey"}


class Unauthorized(ServiceError):
    """No key, an unknown key, or a key sent where it must not be (401)."""

    status_code = 401
    code = "unauthorized"
    headers = UNAUTHORIZED_HEADERS


class Forbidden(ServiceError):
    """A known key whose role does not allow the call, or another plan's token (403)."""

    status_code = 403
    code = "forbidden"

    def __init__(self, message: str, *, role: str | None = None, needed: str | None = None):
        super().__init__(message)
        self.role, self.needed = role, needed

    def body(self) -> dict:
        """Return the JSON body, with the key's ``role`` and the ``needed_role`` when known."""
        extra = {"role": self.role, "needed_role": self.needed} if self.needed else {}
        return {**super().body(), **extra}


class NotFound(ServiceError):
    """No such plan or run in the caller's workspace (404; other workspaces' ids never leak)."""

    status_code = 404
    code = "not_found"


class IdempotencyConflict(ServiceError):
    """An Idempotency-Key sent again with another request (method, path or body) (409)."""

    status_code = 409
    code = "idempotency_conflict"


class IdempotencyInProgress(ServiceError):
    """An Idempotency-Key sent again while its first request still runs (409, Retry-After)."""

    status_code = 409
    code = "idempotency_in_progress"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class FeedUnavailable(ServiceError):
    """A named plan's feed that its current version cannot give (409).

    E.g. a comparison of a plan no scenario run made, or a current version whose plan was
    deleted since.
    """

    status_code = 409
    code = "feed_unavailable"


class ProblemTooLarge(ServiceError):
    """The problem exceeds a configured size limit (names the limit)."""

    status_code = 422
    code = "problem_too_large"

    def __init__(self, what: str, value: int, limit: int, setting: str) -> None:
        super().__init__(
            f"{what} is {value:,}, above the limit of {limit:,} (setting {setting}); "
            "split the problem or ask the operator to raise the limit"
        )
        self.limit, self.value, self.setting = limit, value, setting

    def body(self) -> dict:
        """Return the JSON body, with the ``limit``, the ``value`` and the ``setting``."""
        return {**super().body(), "limit": self.limit, "value": self.value, "setting": self.setting}


class RequestTooLarge(ServiceError):
    """The request body exceeds ADPLAN_MAX_REQUEST_BYTES (413)."""

    status_code = 413
    code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than the limit of {limit:,} bytes "
            "(setting ADPLAN_MAX_REQUEST_BYTES)"
        )
        self.limit = limit

    def body(self) -> dict:
        """Return the JSON body, with the ``limit`` in bytes."""
        return {**super().body(), "limit": self.limit}


class InvalidInput(ServiceError):
    """A request is well formed but makes no sense (e.g. no curves and no default ones)."""

    status_code = 422
    code = "invalid_request"


def _json(status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=json_safe(body), headers=headers)


def error_response(exc: ServiceError) -> JSONResponse:
    """Return the response of one of the service's errors (its status, body and headers)."""
    return _json(exc.status_code, exc.body(), headers=exc.headers)


def _rules_of(diagnosis: list) -> list[str]:
    rules = []
    for item in diagnosis:
        if isinstance(item, dict) and item.get("rule") is not None:
            rules.append(str(item["rule"]))
    return rules


def _package_error(exc: Exception) -> tuple[int, dict]:
    """Return status and body for an error raised by optimizer, forecasting or scenarios."""
    if isinstance(exc, InfeasibleError):
        diagnosis = list(getattr(exc, "diagnosis", []) or [])
        return 422, {
            "error": "infeasible",
            "detail": str(exc),
            "diagnosis": diagnosis,
            "rules": _rules_of(diagnosis),
            "repairs": list(getattr(exc, "repairs", []) or []),
        }
    if isinstance(exc, SolverError):
        return 503, {"error": "solver_unavailable", "detail": str(exc)}
    if isinstance(exc, CurveError):
        return 422, {"error": "invalid_curves", "detail": str(exc)}
    if isinstance(exc, SpecError):
        return 422, {"error": "invalid_spec", "detail": str(exc)}
    if isinstance(exc, ForecastingError):
        body = {"error": "invalid_history", "detail": str(exc)}
        for attr in ("file", "row", "line", "column"):
            v = getattr(exc, attr, None)
            if v is not None:
                body[attr] = v
        return 422, body
    if isinstance(exc, ScenarioError):
        body = {"error": "invalid_scenario", "detail": str(exc)}
        key = getattr(exc, "key", None)
        if key is not None:
            body["key"] = key
        return 422, body
    return 422, {"error": "invalid_problem", "detail": str(exc)}


def _where(loc: list[str]) -> str:
    return ".".join(p for p in loc if p != "body") or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    r"""Return each refused part as ``{loc, msg, type}``; a control character's in its words.

    The message of a control character is ``optimizer.values.control_char_message``'s, with
    the field's full location (``name: 'a\x01b' holds the control character U+0001 ...``).
    """
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        msg = str(e.get("msg", ""))
        if e.get("type") == CONTROL_CHAR and isinstance(e.get("input"), str):
            msg = control_char_message(e["input"], _where(loc)) or msg
        out.append({"loc": loc, "msg": msg, "type": e.get("type", "")})
    return jsonable_encoder(out[:50])


def _validation_detail(errors: list[dict]) -> str:
    """Return the ``detail`` of a 422 for the first refused part (it names the field)."""
    first = errors[0] if errors else {"loc": [], "msg": "invalid request", "type": ""}
    if any(e["type"] == "json_invalid" for e in errors):
        return f"the body is not valid JSON ({first['msg']})"
    if first["type"] == CONTROL_CHAR:
        return first["msg"]  # names the field already
    return f"{_where(first['loc'])}: {first['msg']}"


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def allowed_methods(request: Request) -> str | None:
    """Return the ``Allow`` of a 405: every method the OpenAPI document gives the request's path.

    FastAPI makes one route per method, and Starlette's 405 names only the first route's;
    RFC 9110 (and the document) mean all the methods of the resource. The path is matched
    against the document's templates in their order, as the routes are.
    """
    paths = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods = {m.upper() for m in operations if m.lower() in _HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")
            return ", ".join(sorted(methods)) or None
    return None


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Return the response of an HTTPException (FastAPI's, Starlette's or a limit's).

    FastAPI's only 400, a body it cannot parse, is answered 422 like any other bad body.
    """
    if exc.status_code == 400:
        return _json(422, {"error": "invalid_request", "detail": f"the body: {exc.detail}"})
    body = {"error": _HTTP_CODES.get(exc.status_code, "http_error"), "detail": str(exc.detail)}
    if getattr(exc, "limit", None) is not None:
        body["limit"] = exc.limit
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 401:
        headers.update(UNAUTHORIZED_HEADERS)
    if exc.status_code == 405:
        allow = allowed_methods(request)
        if allow:
            headers["Allow"] = allow
    return _json(exc.status_code, body, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Register every translation from exception to response on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = _validation_detail(errors)
        return _json(422, {"error": "invalid_request", "detail": detail, "errors": errors})

    @app.exception_handler(ServiceError)
    async def _service(_req: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _http_error(req, exc)

    async def _package(_req: Request, exc: Exception) -> JSONResponse:
        status, body = _package_error(exc)
        return _json(status, body)

    for root in (OptimizerError, ForecastingError, ScenarioError):
        app.add_exception_handler(root, _package)

    @app.exception_handler(Exception)
    async def _other(_req: Request, _exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("internal error %s", ref)
        return _json(
            500,
            {
                "error": "internal",
                "detail": f"internal error (reference {ref}); see the server log",
            },
        )


# -- the OpenAPI document: every error status, with the body the server sends ------------------

_WHEN = {
    401: "`unauthorized`: no X-API-Key, an unknown one, or a key sent in the URL (a download: "
    "neither a key nor a token)",
    403: "`forbidden`: the key's role does not allow this call (`needed_role` names the role "
    "it needs), a download token of another plan, or a feed token that is not (or no longer) "
    "the named plan's",
    404: "`not_found`: no such plan, scenario run or named plan in the key's workspace",
    408: "`request_timeout`: the request was not received within ADPLAN_CLIENT_TIMEOUT "
    "seconds (`limit`); the connection is closed",
    409: "`idempotency_conflict`: the Idempotency-Key was sent with another request; "
    "`idempotency_in_progress`: its first request is still running (retry after Retry-After); "
    "`feed_unavailable`: the named plan's current version cannot give this feed (a "
    "comparison without a scenario run, a plan deleted since)",
    413: "`request_too_large`: the body is over ADPLAN_MAX_REQUEST_BYTES (`limit` in bytes)",
    422: "bad input: `invalid_request` (malformed or too deeply nested JSON, a missing, unknown "
    "or out-of-range field, a control character in a name; `errors` lists each with its "
    "`loc`), `invalid_curves`, `invalid_spec`, `invalid_history`, `invalid_scenario`, "
    "`problem_too_large`, `infeasible`",
    500: "`internal`: a bug; `detail` gives a reference to the server log (never a trace)",
    503: "`busy`: every worker is taken and the queue is full; `time_budget_spent`: the "
    "request's time budget (ADPLAN_REQUEST_TIME_BUDGET) ran out; `cancelled`: the client left "
    "before its work started (these three with Retry-After and `retry_after`); "
    "`solver_unavailable`: the solver failed",
}

_INT = {"type": "integer", "minimum": 0}
_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "the scheme: ApiKey (send the key in X-API-Key)",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    409: {
        "Retry-After": {"description": "seconds to wait (idempotency_in_progress)", "schema": _INT}
    },
    503: {"Retry-After": {"description": "seconds to wait (busy)", "schema": _INT}},
}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """Return the ``responses`` of an operation for these error statuses.

    Each is documented with :class:`~service.schemas.ErrorBody`, the body the server sends,
    and its headers (``WWW-Authenticate`` on 401, ``Retry-After`` on 409 and 503). 408, 413,
    422 and 500 can answer any operation and are always added (422 replaces FastAPI's
    default, which is not what the server sends).
    """
    out: dict[int | str, dict] = {}
    for status in sorted({*statuses, 408, 413, 422, 500}):
        entry: dict = {"model": ErrorBody, "description": _WHEN[status]}
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        out[status] = entry
    return out
