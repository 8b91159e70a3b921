"""Links to plans, named plans and their downloads and feeds (tokens only where shown)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from ..settings import Settings


def base_url(request: Request, settings: Settings) -> str:
    """Return ADPLAN_PUBLIC_URL, or the URL the request came to, without a trailing slash."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


def plan_links(request: Request, settings: Settings, plan_id: str, token: str | None) -> dict:
    """Return the plan's ``self``, ``csv`` and ``xlsx`` links; ``token`` goes on the last two."""
    base = f"{base_url(request, settings)}/v1/plans/{plan_id}"
    query = f"?{urlencode({'token': token})}" if token else ""
    return {"self": base, "csv": f"{base}.csv{query}", "xlsx": f"{base}.xlsx{query}"}


#: the header of a POST's answer that is the replay of an earlier one (Idempotency-Key)
REPLAY_HEADERS = {
    "Idempotent-Replayed": {
        "description": "true when this is the stored answer to an earlier request with the "
        "same Idempotency-Key (nothing ran again)",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
#: the headers of a 201: where the new resource is, and whether the answer is a replay
CREATED_HEADERS = {
    "Location": {
        "description": "the URL of what was made",
        "required": True,
        "schema": {"type": "string"},
    },
    **REPLAY_HEADERS,
}


def feed_url(
    request: Request,
    settings: Settings,
    name: str,
    kind: str,
    suffix: str,
    token: str | None,
    locale: str | None = None,
) -> str:
    """Return the URL of a named plan's feed (``suffix`` csv or odc), with its query."""
    query = {k: v for k, v in (("token", token), ("locale", locale)) if v}
    tail = f"?{urlencode(query)}" if query else ""
    return f"{base_url(request, settings)}/v1/feeds/{name}/{kind}.{suffix}{tail}"


def named_links(
    request: Request, settings: Settings, name: str, plan_id: str | None, token: str | None
) -> dict:
    """Return a named plan's ``self``, ``current_plan`` and ``feeds`` links.

    ``token`` (shown only when it is made or re-issued) goes on the feeds' links.
    """
    from scenarios.exports.feeds import FEEDS

    base = base_url(request, settings)
    return {
        "self": f"{base}/v1/named-plans/{name}",
        "current_plan": f"{base}/v1/plans/{plan_id}" if plan_id else None,
        "feeds": {
            kind: {
                "csv": feed_url(request, settings, name, kind, "csv", token),
                "odc": feed_url(request, settings, name, kind, "odc", token),
            }
            for kind in FEEDS
        },
    }
