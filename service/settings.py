"""Settings of the HTTP service, read from the environment (prefix ``ADPLAN_``).

``ADPLAN_API_KEYS`` is a comma-separated list of the keys accepted in ``X-API-Key``;
``ADPLAN_DATABASE_URL`` is any SQLAlchemy URL (default: a SQLite file in the data directory,
``ADPLAN_DATA_DIR`` or ``$XDG_DATA_HOME/adplan`` or ``~/.local/share/adplan``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "adplan"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="ADPLAN_", extra="ignore", frozen=True)

    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), repr=False, description="keys accepted in X-API-Key (env: comma-separated)"
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/adplan.db"
    )
    curves_path: Path | None = Field(
        default=None,
        description="default curves JSON loaded at start-up (used when a request has none)",
    )
    solver: Literal["highs", "cbc"] | None = Field(
        default=None, description="solver passed to the optimizer (default: the optimizer's)"
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

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, v):
        if v is None:
            return ()
        if isinstance(v, str):
            v = v.split(",")
        return tuple(k.strip() for k in v if k and k.strip())

    @field_validator("solver", mode="before")
    @classmethod
    def _lower(cls, v):
        return v.strip().lower() or None if isinstance(v, str) else v

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            path = Path(self.data_dir).expanduser() / "adplan.db"
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
