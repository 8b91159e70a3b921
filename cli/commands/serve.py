"""``adplan serve``: the HTTP API (FastAPI on uvicorn).

Imports only the standard library, typer and rich at module level; the service, FastAPI and
uvicorn load when the command runs.
"""

from __future__ import annotations

from typing import Any

import typer

from ._common import EXIT_BAD_INPUT, cli_errors, err, fail


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port."),
    workers: int = typer.Option(
        1, min=1, max=64, help="Server processes (each solves on its own core; one database)."
    ),
    log_level: str = typer.Option("info", help="Uvicorn log level."),
    limit_concurrency: int = typer.Option(
        1000,
        min=1,
        help="Connections (and requests) one process serves at once; beyond it uvicorn "
        "answers 503 to everything, /health included.",
    ),
) -> None:
    """Serve plans over HTTP (FastAPI): POST /v1/plans, GET /v1/plans/{id}.csv, ...

    Settings come from the environment: ADPLAN_API_KEYS (comma-separated, required), ADPLAN_DATABASE_URL (default: SQLite in ~/.local/share/adplan), ADPLAN_CURVES_PATH (default curves, loaded at start-up). OpenAPI docs at /docs; see docs/service.md.

    Under load (docs/service.md, "Load"): forecasts, plans, frontiers and scenario runs run ADPLAN_WORKERS at a time per process (default 2), ADPLAN_QUEUE more wait (default 2), others get 503 with Retry-After; each has ADPLAN_REQUEST_TIME_BUDGET seconds (default 120) and each solve ADPLAN_TIME_LIMIT (default 60). A client must send its request within ADPLAN_CLIENT_TIMEOUT seconds (default 30, for the head and again for the body), else 408.
    """
    with cli_errors():
        import uvicorn
        from pydantic import ValidationError

        from service import Settings, create_app

        try:
            settings = Settings()
        except ValidationError as e:
            first = e.errors()[0]
            name = "ADPLAN_" + str(first["loc"][0]).upper() if first.get("loc") else "ADPLAN_*"
            msg = str(first["msg"]).removeprefix("Value error, ")  # the check's own words
            raise fail(f"setting {name}: {msg}", EXIT_BAD_INPUT) from None
        if not settings.api_keys:
            raise fail(
                "no API keys: set ADPLAN_API_KEYS (comma-separated) so that clients can call /v1",
                EXIT_BAD_INPUT,
            )
        _check_port(host, port)
        app = _build_app(create_app, settings)  # fails fast on bad settings or default curves
        err.print(
            f"adplan serving on http://{host}:{port} (docs at /docs), "
            f"database {_redact(settings.database_url)}, {workers} worker(s)",
            highlight=False,
            soft_wrap=True,
        )
        options = uvicorn_options(settings, limit_concurrency)
        if workers == 1:
            uvicorn.run(app, host=host, port=port, log_level=log_level, **options)
        else:  # each worker process builds its own app from the same environment
            app.state.store.close()
            uvicorn.run(
                "service.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level=log_level,
                **options,
            )


#: seconds a keep-alive connection may stay idle between requests (uvicorn's default)
KEEP_ALIVE_SECONDS = 5.0
#: the largest request head (line and headers) h11 buffers; larger is 400 (h11's default)
MAX_HEAD_BYTES = 16 * 1024


def uvicorn_options(settings, limit_concurrency: int | None = None) -> dict[str, Any]:
    """Return uvicorn's options for the service (see docs/service.md, "Load").

    The h11 protocol with a deadline of ADPLAN_CLIENT_TIMEOUT on each request head
    (``service.limits.h11_with_head_timeout``; the body's deadline is the app's), the idle
    keep-alive timeout, the largest head and, if given, the most connections at once.
    """
    from functools import partial

    from service.limits import h11_with_head_timeout

    return {
        "http": partial(h11_with_head_timeout, settings.client_timeout),
        "timeout_keep_alive": min(KEEP_ALIVE_SECONDS, settings.client_timeout),
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "limit_concurrency": limit_concurrency,
    }


def _check_port(host: str, port: int) -> None:
    """Refuse, with exit 2, a host/port that cannot be listened on (in use, not local...)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise fail(f"--host {host}: cannot resolve it ({e})", EXIT_BAD_INPUT) from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            raise fail(
                f"cannot listen on {host}:{port} ({e.strerror or e}); choose another --port "
                "or stop what is using it",
                EXIT_BAD_INPUT,
            ) from None


def _build_app(create_app, settings):
    """Call ``create_app``; a bad database URL or data folder is a bad setting (exit 2)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return create_app(settings)
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).splitlines()[0]
        raise fail(
            f"setting ADPLAN_DATABASE_URL ({_redact(settings.database_url)}): cannot open the "
            f"database: {reason}",
            EXIT_BAD_INPUT,
        ) from None
    except OSError as e:
        raise fail(
            f"setting ADPLAN_DATA_DIR ({settings.data_dir}): {e.strerror or e} "
            f"({getattr(e, 'filename', '') or ''}); give a folder adplan can write to",
            EXIT_BAD_INPUT,
        ) from None


def _redact(url: str | None) -> str:
    """Return the database URL without its password (``Settings`` fills in a missing one)."""
    if url is None:
        return "(none)"
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" not in creds:
            return url
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def register(app: typer.Typer) -> None:
    """Add ``adplan serve`` to ``app``."""
    app.command("serve")(serve)
