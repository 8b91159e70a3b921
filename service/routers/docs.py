"""``/docs`` (Swagger UI) and ``/redoc`` that work offline: their assets come from a package.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank without internet
(or behind a proxy that blocks it). Here the JavaScript, CSS and icon are those the package
``fastapi_offline`` installs, served under :data:`STATIC_PATH`; the pages reference nothing
outside the server.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: where the assets are served
STATIC_PATH = "/static-docs"


def assets_dir() -> str:
    """Return the folder of the installed Swagger UI and ReDoc assets (``fastapi_offline``)."""
    return str(files("fastapi_offline") / "static")


def install(app: FastAPI) -> None:
    """Serve the assets and the two pages on ``app`` (left out of the OpenAPI document)."""
    app.mount(STATIC_PATH, StaticFiles(directory=assets_dir()), name="static-docs")

    def _static(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{STATIC_PATH}/{name}"

    def _openapi(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """Serve Swagger UI with the package's assets."""
        return get_swagger_ui_html(
            openapi_url=_openapi(request),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=_static(request, "swagger-ui-bundle.js"),
            swagger_css_url=_static(request, "swagger-ui.css"),
            swagger_favicon_url=_static(request, "favicon.png"),
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        """Serve ReDoc with the package's assets (no web fonts)."""
        return get_redoc_html(
            openapi_url=_openapi(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=_static(request, "redoc.standalone.js"),
            redoc_favicon_url=_static(request, "favicon.png"),
            with_google_fonts=False,
        )
