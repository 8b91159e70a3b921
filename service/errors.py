"""Errors become HTTP responses here, and only here.

================================  ======  ===============================================
error                             status  body
================================  ======  ===============================================
malformed JSON, schema errors     422     ``{"error": "invalid_request", "detail", "errors"}``
CurveError, SpecError             422     ``{"error": "invalid_curves" | "invalid_spec", ...}``
ForecastingError, ScenarioError   422     ``{"error": "invalid_history" | "invalid_scenario"}``
ProblemTooLarge                   422     ``{"error": "problem_too_large", "limit", "value"}``
InfeasibleError                   422     ``{"error": "infeasible", "diagnosis", "rules"}``
RequestTooLarge                   413     ``{"error": "request_too_large", "limit"}``
SolverError                       503     ``{"error": "solver_unavailable"}``
anything else                     500     ``{"error": "internal"}`` (never a stack trace)
================================  ======  ===============================================
"""

from __future__ import annotations

import logging
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
from scenarios.errors import ScenarioError
from scenarios.exports.write import json_safe

log = logging.getLogger("adplan.service")


class ServiceError(Exception):
    """Root of the service's own errors."""

    status_code = 400
    code = "bad_request"

    def body(self) -> dict:
        """Return the JSON body of the response: ``error`` (the code) and ``detail``."""
        return {"error": self.code, "detail": str(self)}


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


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        out.append({"loc": loc, "msg": e.get("msg", ""), "type": e.get("type", "")})
    return jsonable_encoder(out[:50])


def install_error_handlers(app: FastAPI) -> None:
    """Register every translation from exception to response on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p != "body") or "body"
        detail = f"{where}: {first['msg']}"
        if any(e["type"] == "json_invalid" for e in errors):
            detail = f"the body is not valid JSON ({first['msg']})"
        return _json(422, {"error": "invalid_request", "detail": detail, "errors": errors})

    @app.exception_handler(ServiceError)
    async def _service(_req: Request, exc: ServiceError) -> JSONResponse:
        return _json(exc.status_code, exc.body())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "request_too_large",
        }
        body = {"error": codes.get(exc.status_code, "http_error"), "detail": exc.detail}
        if getattr(exc, "limit", None) is not None:
            body["limit"] = exc.limit
        return _json(exc.status_code, body, headers=getattr(exc, "headers", None))

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
