"""Dependencies of the routes, as ``Annotated`` aliases, and the route class of ``/v1``.

``SettingsDep`` is :func:`service.settings.get_settings`, so tests can swap settings with
``app.dependency_overrides[get_settings]``; :func:`service.app.create_app` does the same when
it is given settings.

Every ``/v1`` call names the role it needs (:data:`Reader`, :data:`Writer`, :data:`Admin`):
the key's entry in ADPLAN_API_KEYS gives its role and workspace (:class:`Caller`). A key in
the URL is refused (401) before anything else. :class:`ServiceRoute` checks a JSON body's
nesting before FastAPI parses it and makes every POST idempotent with ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from fastapi import Depends, Header, Path, Request, Response, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, APIKeyQuery
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool

from optimizer import Curves

from .db import NamedPlan, PlanStore, Replay, open_tokens, seal_tokens
from .errors import (
    Forbidden,
    IdempotencyConflict,
    IdempotencyInProgress,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from .operations import ServerHistory
from .schemas import PLAN_NAME_RULE, PLAN_NAME_SCHEMA, plan_name_problem
from .settings import ROLES, ApiKey, Settings, get_settings

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="a key of ADPLAN_API_KEYS (KEY, KEY:ROLE or KEY:ROLE:WORKSPACE); its role "
    "(read, write, admin) says what it may do, its workspace what it sees. Never in the URL",
)
download_token = APIKeyQuery(
    name="token",
    auto_error=False,
    scheme_name="DownloadToken",
    description="a plan's read-only token (from its links); grants only that plan's CSV/XLSX",
)

feed_token = APIKeyQuery(
    name="token",
    auto_error=False,
    scheme_name="FeedToken",
    description="a named plan's read-only feed token (from its feed links); grants only that "
    "named plan's feeds",
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


# -- keys, roles and workspaces -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls: the workspace and the role of the key sent."""

    workspace: str
    role: str


RANK = {role: i for i, role in enumerate(ROLES)}
#: what each role is needed for, in the message of a 403
NEEDED_FOR = {
    "read": "reading plans and scenario runs",
    "write": "creating plans, forecasts, frontiers and scenario runs (POST)",
    "admin": "deleting plans and rotating their download tokens",
}
#: query parameters that look like an API key (any case): refused, a key goes in a header
KEY_PARAMS = frozenset({"api_key", "apikey", "api-key", "key", "x-api-key", "x_api_key"})


def find_key(presented: str | None, settings: Settings) -> ApiKey | None:
    """Return the configured key equal to ``presented`` (compared in constant time), or None."""
    if not presented:
        return None
    given = presented.encode("utf-8", "surrogatepass")
    found = None
    for key in settings.keys:
        if hmac.compare_digest(given, key.key.encode("utf-8", "surrogatepass")):
            found = key
    return found


def refuse_key_in_url(request: Request) -> None:
    """Refuse (401) a request that carries something like an API key in its query string."""
    for name in request.query_params:
        if name.lower() in KEY_PARAMS:
            raise Unauthorized(
                f"an API key in the URL (?{name[:20]}=) is refused: URLs are logged and kept in "
                "histories; send the key in the X-API-Key header (and replace this key, it may "
                "have leaked)"
            )


def authenticate(request: Request, settings: Settings, presented: str | None) -> Caller:
    """Return the caller of a request's ``X-API-Key``; 401 if it has none or an unknown one."""
    refuse_key_in_url(request)
    if not presented:
        raise Unauthorized("missing X-API-Key header")
    key = find_key(presented, settings)
    if key is None:
        raise Unauthorized("invalid API key")
    return Caller(key.workspace, key.role)


def check_role(caller: Caller, needed: str) -> None:
    """Refuse (403, naming the role needed) a caller whose role is below ``needed``."""
    if RANK[caller.role] < RANK[needed]:
        raise Forbidden(
            f"this key has the role {caller.role!r}; {NEEDED_FOR[needed]} needs the role "
            f"{needed!r}{' or admin' if needed != 'admin' else ''}: use a key with that role "
            "(ADPLAN_API_KEYS)",
            role=caller.role,
            needed=needed,
        )


def _role(needed: str) -> Callable[..., Caller]:
    def require(
        request: Request,
        settings: SettingsDep,
        key: Annotated[str | None, Security(api_key_header)],
    ) -> Caller:
        caller = authenticate(request, settings, key)
        check_role(caller, needed)
        return caller

    require.__name__ = f"require_{needed}"
    require.__doc__ = f"Return the caller; 401 without a valid key, 403 below the {needed} role."
    return require


#: the caller of a call that needs the role read (GETs and downloads), write (POSTs) or admin
Reader = Annotated[Caller, Depends(_role("read"))]
Writer = Annotated[Caller, Depends(_role("write"))]
Admin = Annotated[Caller, Depends(_role("admin"))]


def require_download_access(
    request: Request,
    plan_id: str,
    settings: SettingsDep,
    store: StoreDep,
    key: Annotated[str | None, Security(api_key_header)],
    token: Annotated[str | None, Security(download_token)],
) -> Caller | None:
    """Return the caller of a key with the read role, or None for the plan's own ``?token=``.

    A token that belongs to another plan (or to none) is 403; a missing plan is 404. A key's
    caller sees only the plans of its workspace (the route answers 404 for the others).
    """
    refuse_key_in_url(request)
    if key:
        caller = authenticate(request, settings, key)
        check_role(caller, "read")
        return caller
    if not token:
        raise Unauthorized("send X-API-Key or the plan's ?token= from its links")
    ok = store.check_token(plan_id, token)
    if ok is None:
        raise NotFound(f"no plan with id {plan_id!r}")
    if not ok:
        raise Forbidden("this token does not grant access to this plan")
    return None


DownloadCaller = Annotated[Caller | None, Depends(require_download_access)]


#: a named plan's name in a path (documented with its pattern; :func:`valid_name` says the rule)
NameParam = Annotated[
    Annotated[str, WithJsonSchema(PLAN_NAME_SCHEMA)],
    Path(description=f"the named plan's name: {PLAN_NAME_RULE}"),
]


def valid_name(name: str) -> str:
    """Return a named plan's name in lower case; 422 saying the rule if it is not one."""
    problem = plan_name_problem(name)
    if problem is not None:
        raise InvalidInput(f"name: {problem}")
    return name.lower()


def get_named_or_404(store: PlanStore, name: str, workspace: str) -> NamedPlan:
    """Return the named plan of ``workspace``; 404 if it has none by that name."""
    named = store.get_named(name, workspace=workspace)
    if named is None:
        raise NotFound(f"no named plan {name!r}; name a plan with PUT /v1/named-plans/{name}")
    return named


def not_this_token(name: str) -> Forbidden:
    """Return the one refusal of a feed token: a wrong or revoked one, or an unknown name.

    The same status and words either way, so that a token (or a guess) says nothing of
    whether some workspace has the name.
    """
    return Forbidden(
        f"this token does not grant the feeds of {name!r}: it is not the feed token of a "
        f"named plan {name!r}, or it was revoked (a new one was issued: POST "
        f"/v1/named-plans/{name}/token)"
    )


def named_by_token(store: PlanStore, name: str, token: str) -> NamedPlan:
    """Return the named plan whose feed token this is; 403 otherwise, the name known or not."""
    workspace = store.feed_token_workspace(name, token)
    named = None if workspace is None else store.get_named(name, workspace=workspace)
    if named is None:
        raise not_this_token(name)
    return named


def require_feed_access(
    request: Request,
    name: NameParam,
    settings: SettingsDep,
    store: StoreDep,
    key: Annotated[str | None, Security(api_key_header)],
    token: Annotated[str | None, Security(feed_token)],
) -> NamedPlan:
    """Return the named plan a feed request reads: by a key with the role read, or its token.

    A key sees the names of its workspace (404 for a name its workspace does not have); a
    token, the one named plan it belongs to: 403 for another's, a revoked one, or a name no
    workspace has (the same answer, :func:`not_this_token`). A malformed name is 422.
    """
    refuse_key_in_url(request)
    name = valid_name(name)
    if key:
        caller = authenticate(request, settings, key)
        check_role(caller, "read")
        return get_named_or_404(store, name, caller.workspace)
    if not token:
        raise Unauthorized("send X-API-Key or the feed's ?token= (from the named plan's links)")
    return named_by_token(store, name, token)


FeedAccess = Annotated[NamedPlan, Depends(require_feed_access)]


# -- the body: nesting, encoding --------------------------------------------------------------

#: the deepest nesting of arrays and objects a JSON body may have (the deepest real body, a
#: results floor's curves in a variant's spec patch, is about 10)
MAX_JSON_DEPTH = 64
_NOT_MARK = bytes(b for b in range(256) if b not in b'"[]{}')
_STEP = np.zeros(256, np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def json_depth(body: bytes) -> int:
    r"""Return how deeply arrays and objects nest in JSON text (brackets in strings skipped).

    Counted on the bytes, before parsing, in C and numpy (tens of ms for 10 MB): a body
    nested 100,000 deep costs nothing to refuse and never reaches a recursive parser. The
    escapes ``\\`` and ``\"`` are dropped first (left to right, as JSON reads them), so
    every quote left opens or closes a string; a bracket counts when it is outside them.
    """
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = np.frombuffer(plain.translate(None, _NOT_MARK), np.uint8)
    if not marks.size:
        return 0
    inside = np.bitwise_xor.accumulate(marks == ord('"'))
    steps = np.where(inside, 0, _STEP[marks])
    return int(np.cumsum(steps, dtype=np.int64).max())


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of this content type as JSON (none counts as JSON)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("", "application/json") or (
        media.startswith("application/") and media.endswith("+json")
    )


async def check_body(request: Request) -> bytes:
    """Read the body; refuse (422) JSON that is not UTF-8 or nests deeper than the limit."""
    body = await request.body()
    if not body or not _is_json(request.headers.get("content-type")):
        return body
    try:
        body.decode(json.detect_encoding(body), "surrogatepass")
    except (UnicodeDecodeError, LookupError):
        raise InvalidInput("the body is not JSON text: it is not valid UTF-8") from None
    opening = body.count(b"[") + body.count(b"{")  # an upper bound of the depth, cheap
    depth = json_depth(body) if opening > MAX_JSON_DEPTH else 0
    if depth > MAX_JSON_DEPTH:
        raise InvalidInput(
            f"the body nests arrays and objects {depth:,} levels deep, above the limit of "
            f"{MAX_JSON_DEPTH}"
        )
    return body


# -- idempotency ------------------------------------------------------------------------------

IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")
IDEMPOTENCY_DOC = (
    "makes the POST safe to retry: a retry with the same key (same workspace) and the same "
    "request gets the first answer again (header Idempotent-Replayed: true), nothing runs "
    "twice; the key with another request is 409, and so is a retry while the first still "
    "runs (with Retry-After). Keys are kept 24 hours. 1-255 visible ASCII characters; use a "
    "random one (a UUID)"
)


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[!-~]+$",
            description=IDEMPOTENCY_DOC,
        ),
    ] = None,
) -> str | None:
    """Return the request's ``Idempotency-Key`` (checked and documented here, used by the route)."""
    return key


IdempotencyKey = Depends(idempotency_key)


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """Return the SHA-256 of what makes two requests the same: method, path, query and body."""
    h = hashlib.sha256(f"{method.upper()} {path}?{query}\n".encode("utf-8", "surrogatepass"))
    h.update(body)
    return h.hexdigest()


def _writer_of(request: Request) -> Caller | None:
    """Return the caller if the request's key may POST, else None (the route refuses it)."""
    settings = request.app.state.settings
    if any(name.lower() in KEY_PARAMS for name in request.query_params):
        return None
    key = find_key(request.headers.get("x-api-key"), settings)
    if key is None or RANK[key.role] < RANK["write"]:
        return None
    return Caller(key.workspace, key.role)


def _lease_seconds(settings: Settings) -> float:
    """Return how long a first request holds its key (its time budget, and a margin)."""
    return float(getattr(settings, "request_time_budget", 120.0)) + 30.0


def _replayed(answer: Replay, key: str, workspace: str) -> Response:
    return Response(
        content=open_tokens(answer.body, answer.secrets, key, workspace).encode(),
        status_code=answer.status_code,
        media_type="application/json",
        headers={**answer.headers, "Idempotent-Replayed": "true"},
    )


def _answer(response: Response, key: str, workspace: str) -> Replay | None:
    """Return what to keep of a response (a 2xx JSON answer), its tokens sealed; else None."""
    body = getattr(response, "body", None)
    if not 200 <= response.status_code < 300 or not isinstance(body, bytes):
        return None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    sealed, secrets = seal_tokens(text, key, workspace)
    headers = {"Location": response.headers["location"]} if "location" in response.headers else {}
    return Replay(response.status_code, headers, sealed, secrets)


Handler = Callable[[Request], Awaitable[Response]]


async def _run_once(
    handler: Handler, request: Request, store: PlanStore, caller: Caller, key: str, lease: str
) -> Response:
    """Run the request holding its key; keep a 2xx answer, forget the key otherwise."""
    ws = caller.workspace
    try:
        response = await handler(request)
    except Exception:
        await run_in_threadpool(store.release_idempotent, ws, key, lease)
        raise
    except BaseException:  # cancelled: no more awaiting
        store.release_idempotent(ws, key, lease)
        raise
    answer = _answer(response, key, ws)
    if answer is None:
        await run_in_threadpool(store.release_idempotent, ws, key, lease)
    else:
        await run_in_threadpool(store.finish_idempotent, ws, key, lease, answer)
    return response


async def idempotent(handler: Handler, request: Request, body: bytes) -> Response:
    """Run a POST at most once per Idempotency-Key and workspace; replay its answer after."""
    key = request.headers.get("idempotency-key")
    caller = _writer_of(request)
    if key is None or caller is None or not IDEMPOTENCY_KEY.fullmatch(key):
        return await handler(request)  # no key; or the route refuses the request (401/403/422)
    store: PlanStore = request.app.state.store
    fingerprint = request_fingerprint(request.method, request.url.path, request.url.query, body)
    lease_s = _lease_seconds(request.app.state.settings)
    begun = await run_in_threadpool(
        store.begin_idempotent, caller.workspace, key, fingerprint, lease_s=lease_s
    )
    if begun.state == "replay" and begun.replay is not None:
        return _replayed(begun.replay, key, caller.workspace)
    if begun.state == "conflict":
        raise IdempotencyConflict(
            "this Idempotency-Key was used for another request (method, path or body) in the "
            "last 24 hours; send a new key with a new request"
        )
    if begun.state != "new" or begun.lease is None:
        raise IdempotencyInProgress(
            "the first request with this Idempotency-Key is still running; retry after "
            f"{begun.retry_after} s to get its answer",
            begun.retry_after,
        )
    return await _run_once(handler, request, store, caller, key, begun.lease)


class ServiceRoute(APIRoute):
    """The route class of ``/v1``: the body is checked before FastAPI parses it.

    A JSON body that is not UTF-8 or nests deeper than :data:`MAX_JSON_DEPTH` is 422 (never
    a parser's RecursionError), and every POST is idempotent with ``Idempotency-Key``
    (:func:`idempotent`).
    """

    def get_route_handler(self) -> Handler:
        """Return FastAPI's handler wrapped in the body check (and idempotency for POST)."""
        handler = super().get_route_handler()
        is_post = "POST" in (self.methods or ())

        async def route(request: Request) -> Response:
            body = await check_body(request)
            if is_post:
                return await idempotent(handler, request, body)
            return await handler(request)

        return route
