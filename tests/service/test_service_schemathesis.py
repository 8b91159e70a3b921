"""Property-based: schemathesis generates requests from the app's own OpenAPI schema.

Whatever it sends (valid, invalid, absurd), the answer is never a 5xx. Bounded examples
per operation keep this to a few seconds per operation.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from service import Settings, create_app

from .conftest import HEADERS, KEY

# schemathesis parametrizes at collection time, so the app (on a throwaway SQLite file) is
# built at import; the fixture below removes the folder when the module is done
_TMP = tempfile.TemporaryDirectory(prefix="adplan-schemathesis-")
APP = create_app(
    Settings(
        api_keys=[KEY],
        database_url=f"sqlite:///{Path(_TMP.name) / 'st.db'}",
        max_history_rows=500,
    )
)
CONFIG = SchemathesisConfig.from_dict(
    {
        "headers": HEADERS,
        "generation": {"max-examples": 25, "mode": "all"},
        "phases": {"coverage": {"enabled": os.environ.get("ADPLAN_ST_COVERAGE") == "1"}},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    APP.state.store.close()
    _TMP.cleanup()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case):
    response = case.call(headers=HEADERS)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    assert "Traceback" not in response.text
