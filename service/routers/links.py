"""Links to a plan and its downloads (the token goes in the download links only)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from ..settings import Settings


def base_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def plan_links(request: Request, settings: Settings, plan_id: str, token: str | None) -> dict:
    base = f"{base_url(request, settings)}/v1/plans/{plan_id}"
    query = f"?{urlencode({'token': token})}" if token else ""
    return {"self": base, "csv": f"{base}.csv{query}", "xlsx": f"{base}.xlsx{query}"}
