"""Settings of the HTTP service, read from the environment (prefix ``ADPLAN_``).

``ADPLAN_API_KEYS`` is a comma-separated list of the keys accepted in ``X-API-Key``, each
``KEY`` (an admin of workspace ``default``), ``KEY:ROLE`` or ``KEY:ROLE:WORKSPACE``
(:func:`parse_api_keys`; a malformed entry stops the start);
``ADPLAN_DATABASE_URL`` is any SQLAlchemy URL (default: a SQLite file in the data directory,
``ADPLAN_DATA_DIR`` or ``$XDG_DATA_HOME/adplan`` or ``~/.local/share/adplan``).
``ADPLAN_HISTORY_PATH`` is a history read once at start-up; with ``ADPLAN_FORECAST_FROM``,
``ADPLAN_FORECAST_TO`` (and ``ADPLAN_FORECAST_PERIOD``) its forecast is the default curves.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scenarios.forecast_inputs import PlanDate


def default_data_dir() -> Path:
    """Return ``$XDG_DATA_HOME/adplan``, or ``~/.local/share/adplan`` when it is not set."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "adplan"


#: what each role may do, lowest first: a role may do everything the ones before it may
ROLES = ("read", "write", "admin")
DEFAULT_WORKSPACE = "default"
KEY_SYNTAX = (
    "each comma-separated entry of ADPLAN_API_KEYS is KEY (an admin of workspace 'default'), "
    "KEY:ROLE or KEY:ROLE:WORKSPACE, where ROLE is read, write or admin, WORKSPACE is 1-64 "
    "letters, digits, '.', '_' or '-', and KEY is printable ASCII without spaces, ',' or ':'"
)
_KEY = re.compile(r"[!-~]+")
_WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One entry of ADPLAN_API_KEYS: the key, its role and its workspace."""

    key: str = field(repr=False)
    role: str
    workspace: str


def parse_api_key(entry: str, number: int = 1) -> ApiKey:
    """Return the :class:`ApiKey` of one entry (``KEY``, ``KEY:ROLE``, ``KEY:ROLE:WORKSPACE``).

    A malformed entry is a ValueError naming the entry by its position (never the key) and
    giving the syntax.
    """
    key, *rest = entry.split(":")
    role = rest[0] if rest else "admin"
    workspace = rest[1] if len(rest) > 1 else DEFAULT_WORKSPACE
    problem = None
    if len(rest) > 2:
        problem = "has more than two ':'"
    elif not _KEY.fullmatch(key):
        problem = "has an empty key or a key with spaces or characters outside printable ASCII"
    elif role not in ROLES:
        problem = f"has the unknown role {role[:20]!r}"
    elif not _WORKSPACE.fullmatch(workspace):
        problem = f"has the malformed workspace {workspace[:70]!r}"
    if problem:
        raise ValueError(f"entry {number} {problem}; {KEY_SYNTAX}")
    return ApiKey(key, role, workspace)


def parse_api_keys(entries: tuple[str, ...]) -> tuple[ApiKey, ...]:
    """Return the keys of ADPLAN_API_KEYS' entries; ValueError on a malformed or repeated one."""
    keys = tuple(parse_api_key(e, i) for i, e in enumerate(entries, 1))
    seen: dict[str, int] = {}
    for i, k in enumerate(keys, 1):
        if k.key in seen:
            raise ValueError(
                f"entry {i} repeats the key of entry {seen[k.key]}; give each key once "
                f"(one role, one workspace)"
            )
        seen[k.key] = i
    return keys


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    # hide_input_in_errors: an error about ADPLAN_API_KEYS never prints the keys
    model_config = SettingsConfigDict(
        env_prefix="ADPLAN_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        repr=False,
        description="entries KEY, KEY:ROLE or KEY:ROLE:WORKSPACE accepted in X-API-Key "
        "(env: comma-separated)",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/adplan.db"
    )
    curves_path: Path | None = Field(
        default=None,
        description="default curves JSON loaded at start-up (used when a request has none)",
    )
    history_path: Path | None = Field(
        default=None,
        description="history (canonical CSV or any export adplan ingest reads) read once at "
        "start-up; requests with 'from' and 'to' but no rows forecast from it",
    )
    forecast_from: PlanDate | None = Field(
        default=None,
        description="with forecast_to: a window forecast at start-up (default curves); "
        "YYYY-MM-DD, read as every date a user types (optimizer.periods.plan_day)",
    )
    forecast_to: PlanDate | None = Field(default=None, description="last day of that window")
    forecast_period: Literal["week", "month"] | None = Field(
        default=None, description="period of the start-up window (default week)"
    )
    forecast_cache_size: int = Field(
        default=16, gt=0, description="forecasts of the start-up history kept (LRU)"
    )
    solver: str | None = Field(
        default=None,
        description="highs or cbc: the solver of requests that name none (default: highs)",
    )
    public_url: str | None = Field(
        default=None, description="base URL put in links (default: the URL the request came to)"
    )

    # limits
    max_request_bytes: int = Field(default=10_000_000, gt=0)
    max_lines: int = Field(default=20_000, gt=0, description="curve lines in one problem")
    max_variables: int = Field(default=250_000, gt=0, description="LP variables (curve tiers)")
    max_history_rows: int = Field(default=200_000, gt=0)
    max_budgets: int = Field(default=200, gt=0, description="budgets in one frontier")
    max_variants: int = Field(default=50, gt=0, description="variants in one scenario run")
    max_page_size: int = Field(default=200, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)

    # bounded work (docs/service.md, "Load")
    time_limit: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="seconds a solver may search a mixed-integer plan before it returns the "
        "best plan found with status time_limit and its proven gap",
    )
    workers: int = Field(
        default=2, gt=0, le=256, description="heavy requests (solve, forecast) run at once"
    )
    queue: int = Field(
        default=2,
        ge=0,
        le=10_000,
        description="heavy requests that may wait for a worker; beyond it the answer is 503",
    )
    request_time_budget: float = Field(
        default=120.0,
        gt=0,
        le=86_400,
        description="seconds one heavy request may take, waiting included (solver limits "
        "are cut to what is left)",
    )
    client_timeout: float = Field(
        default=30.0, gt=0, le=3_600, description="seconds a client may take to send a request"
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, v):
        if v is None:
            return ()
        if isinstance(v, str):
            v = v.split(",")
        entries = tuple(k.strip() for k in v if k and k.strip())
        parse_api_keys(entries)  # a malformed entry stops the start (the syntax in the message)
        return entries

    @property
    def keys(self) -> tuple[ApiKey, ...]:
        """Return the parsed entries of ``api_keys`` (roles and workspaces)."""
        return _parsed_keys(self.api_keys)

    @field_validator("forecast_period", mode="before")
    @classmethod
    def _lower(cls, v):
        return v.strip().lower() or None if isinstance(v, str) else v

    @field_validator("solver", mode="before")
    @classmethod
    def _solver(cls, v):
        """Check the name as every command does (``scenarios.solver``): one message."""
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        from scenarios.solver import check_solver

        return check_solver(v)

    @model_validator(mode="after")
    def _forecast_window(self) -> Settings:
        window = self.forecast_from is not None or self.forecast_to is not None
        if window and (self.forecast_from is None or self.forecast_to is None):
            raise ValueError(
                "ADPLAN_FORECAST_FROM and ADPLAN_FORECAST_TO go together: set both or neither"
            )
        if self.forecast_period is not None and not window:
            raise ValueError(
                "ADPLAN_FORECAST_PERIOD needs ADPLAN_FORECAST_FROM and ADPLAN_FORECAST_TO"
            )
        if window and self.history_path is None:
            raise ValueError(
                "ADPLAN_FORECAST_FROM/ADPLAN_FORECAST_TO need ADPLAN_HISTORY_PATH (the history "
                "to forecast from)"
            )
        if window and self.forecast_from > self.forecast_to:
            raise ValueError(
                f"ADPLAN_FORECAST_FROM ({self.forecast_from}) is after ADPLAN_FORECAST_TO "
                f"({self.forecast_to})"
            )
        if window and self.curves_path is not None:
            raise ValueError(
                "ADPLAN_CURVES_PATH and ADPLAN_FORECAST_FROM/ADPLAN_FORECAST_TO both give the "
                "default curves: unset one of them (ADPLAN_HISTORY_PATH alone may stay with "
                "ADPLAN_CURVES_PATH)"
            )
        return self

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            path = Path(self.data_dir).expanduser() / "adplan.db"
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        return self


@lru_cache(maxsize=8)
def _parsed_keys(entries: tuple[str, ...]) -> tuple[ApiKey, ...]:
    return parse_api_keys(entries)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read once from the environment."""
    return Settings()
