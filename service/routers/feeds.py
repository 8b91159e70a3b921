"""/v1/feeds: a named plan's tables for spreadsheets, always of its current version.

``GET /v1/feeds/{name}/{kind}.csv`` serves the feed (``scenarios.exports.feeds``): the plan's
lines, its flighting, its rule ledger, plan against actual spend, or its scenario run's
comparison; ``?locale=fr`` gives the CSV a French sheet reads as numbers. The URL never
changes: a re-plan or a newly named version is served from then on. ``.odc`` gives the
Office Data Connection file that opens the CSV in Excel through Power Query. A key with the
role read, or the named plan's feed token (``?token=``), grants them; other query parameters
are ignored (a sheet adds ``&t=...`` to refresh).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import WithJsonSchema

from scenarios.errors import ExportError
from scenarios.exports.feeds import (
    FEEDS,
    LOCALES,
    REGION_EXCEPTIONS,
    REGIONS,
    Locale,
    check_locale,
    feed_csv_text,
    odc_text,
    supported_locales,
)

from ..db import NamedPlan, PlanStore, StoredPlan
from ..deps import (
    FeedAccess,
    NameParam,
    ServiceRoute,
    SettingsDep,
    StoreDep,
    named_by_token,
    refuse_key_in_url,
    valid_name,
)
from ..errors import FeedUnavailable, InvalidInput, error_responses
from .links import feed_url

router = APIRouter(prefix="/v1/feeds", tags=["feeds"], route_class=ServiceRoute)

#: the names of the supported locales (each also in any case, with ``_`` for ``-``)
LOCALE_NAMES = [
    *LOCALES,
    *(f"{lang}-{region}" for lang, regions in REGIONS.items() for region in regions),
    *REGION_EXCEPTIONS,
]
FeedKind = Annotated[
    Literal[FEEDS],  # type: ignore[valid-type]
    WithJsonSchema({"type": "string", "enum": list(FEEDS)}),
]
LocaleParam = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "enum": LOCALE_NAMES})] | None,
    Query(
        description="the spreadsheet's locale: its field separator and decimal mark, numbers "
        "to cents (fr: `;` and `1234,56`); without it, `,` and exact numbers. Any case, `_` "
        "for `-`; an unknown one is 422 listing those supported",
    ),
]
FEED_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_VERSION_HEADERS = {
    "X-Adplan-Version": {
        "description": "the named plan's version served (its current one)",
        "schema": {"type": "string"},
    },
    "X-Adplan-Plan-Id": {
        "description": "the id of that version's plan",
        "schema": {"type": "string"},
    },
}


#: the refusal of a feed token (:func:`~service.deps.not_this_token`), as documented
_TOKEN_403 = (
    "`forbidden`: with ?token=, a token that is not (or no longer) this named plan's, or a "
    "name that no workspace has: the same answer, so a token says nothing of other names"
)


def feed_errors(*statuses: int, by_key: bool = True) -> dict[int | str, dict]:
    """Return :func:`error_responses` with the feeds' own words for 403 and 404.

    ``by_key``: the operation takes X-API-Key too (else only the token).
    """
    out = error_responses(*statuses)
    words = {
        403: f"{_TOKEN_403}; with X-API-Key, a key without the role read" if by_key else _TOKEN_403,
        404: "`not_found`: with X-API-Key, no named plan by that name in the key's workspace "
        "(with ?token=, an unknown name is 403)",
    }
    for status, text in words.items():
        if status in out:
            out[status] = {**out[status], "description": text}
    return out


def locale_of(text: str | None) -> Locale | None:
    """Return the locale asked for (None: the exact CSV); 422 listing those supported.

    A blank ``?locale=`` is refused too: leave it out for the exact CSV.
    """
    if text is not None and not text.strip():
        raise InvalidInput(
            f"locale: it is blank; leave it out for the exact CSV, or give one of "
            f"{supported_locales()}"
        )
    try:
        return check_locale(text)
    except ExportError as e:
        raise InvalidInput(f"locale: {e}") from None


def current_plan(store: PlanStore, named: NamedPlan) -> StoredPlan:
    """Return the plan of the named plan's current version; 409 if it was deleted."""
    v = named.current
    plan = store.get_plan(v.plan_id, workspace=named.workspace)
    if plan is None:
        raise FeedUnavailable(
            f"the current version ({v.version}) of {named.name!r} is plan {v.plan_id}, which "
            f"was deleted; name another plan: PUT /v1/named-plans/{named.name}"
        )
    return plan


def comparison_of(store: PlanStore, named: NamedPlan, plan: StoredPlan) -> dict | None:
    """Return the comparison of the scenario run that made the plan, or None if none did."""
    if not plan.scenario_run_id:
        return None
    run = store.get_scenario_run(plan.scenario_run_id, workspace=named.workspace)
    comparison = ((run or {}).get("summary") or {}).get("comparison")
    return comparison if isinstance(comparison, dict) else None


def feed_text(store: PlanStore, named: NamedPlan, kind: str, locale: Locale | None) -> str:
    """Return the feed ``kind`` of the named plan's current version as CSV text (409 if none)."""
    plan = current_plan(store, named)
    comparison = comparison_of(store, named, plan) if kind == "comparison" else None
    try:
        return feed_csv_text(kind, plan.result, comparison=comparison, locale=locale)
    except ExportError as e:
        raise FeedUnavailable(
            f"{named.name!r} version {named.current.version} (plan {plan.id}): {e}"
        ) from None


@router.get(
    "/{name}/{kind}.csv",
    operation_id="get_feed_csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "the feed of the named plan's current version",
            "headers": _VERSION_HEADERS,
        },
        **feed_errors(401, 403, 404, 409),
    },
    summary="A named plan's feed as CSV, always its current version (X-API-Key with the "
    "role read, or ?token=)",
)
def get_feed_csv(
    name: NameParam,
    kind: FeedKind,
    named: FeedAccess,
    store: StoreDep,
    locale: LocaleParam = None,
) -> Response:
    """Serve the feed `kind` of the named plan's current version as CSV.

    `plan`: one row per plan line; `flighting`: spend per line and period; `ledger`: what
    the binding rules cost; `plan-vs-actual`: planned, actual and re-planned spend and
    results per line and period; `comparison`: the scenario run's variants against the
    base (409 when the current version was not made by a scenario run). No totals row.
    `?locale=` gives the CSV a sheet of that locale reads as numbers. Send X-API-Key, or
    the named plan's `?token=`; other query parameters are ignored. With a key, a name its
    workspace does not have is 404; with a token, a wrong token and a name no workspace has
    are the same 403.
    """
    del name  # read by the access check (FeedAccess)
    loc = locale_of(locale)
    text = feed_text(store, named, kind, loc)
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={
            **FEED_HEADERS,
            **_version_headers(named),
            "Content-Disposition": f'inline; filename="adplan-{named.name}-{kind}.csv"',
        },
    )


def _version_headers(named: NamedPlan) -> dict[str, str]:
    """Return the headers saying which version (and plan) a feed served."""
    return {
        "X-Adplan-Version": str(named.current.version),
        "X-Adplan-Plan-Id": named.current.plan_id,
    }


ODC = "text/x-ms-odc"


@router.get(
    "/{name}/{kind}.odc",
    operation_id="get_feed_odc",
    response_class=Response,
    responses={
        200: {
            "content": {ODC: {"schema": {"type": "string"}}},
            "description": "an Office Data Connection file: Excel opens it and loads the "
            "feed's CSV (with this token) through Power Query",
        },
        **feed_errors(401, 403, by_key=False),
    },
    summary="An Excel connection file (.odc) for a named plan's feed (?token=)",
)
def get_feed_odc(
    name: NameParam,
    kind: FeedKind,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    token: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="the named plan's feed token: it goes into the file's URL",
        ),
    ],
    locale: LocaleParam = None,
) -> Response:
    """Give an .odc file whose connection reads the feed's CSV URL with this token.

    Open it in Excel (or Data > Get Data > Existing Connections): Power Query loads the
    feed into a table, numbers typed; Refresh reads the current version again. The token
    is required: the file carries it (treat the file like the link: it grants the feeds).
    A token that is not the named plan's, or a name no workspace has, is 403 alike.
    """
    refuse_key_in_url(request)
    loc = locale_of(locale)
    named = named_by_token(store, valid_name(name), token)
    url = feed_url(request, settings, named.name, kind, "csv", token, loc.name if loc else None)
    try:
        text = odc_text(url, f"adplan {named.name} {kind}")
    except ExportError as e:  # a public URL the file cannot hold
        raise InvalidInput(f"cannot write the .odc: {e}; check ADPLAN_PUBLIC_URL") from None
    return Response(
        content=text,
        media_type=f"{ODC}; charset=utf-8",
        headers={
            **FEED_HEADERS,
            "Content-Disposition": f'attachment; filename="adplan-{named.name}-{kind}.odc"',
        },
    )
