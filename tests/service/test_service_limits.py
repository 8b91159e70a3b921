"""Request size (413) and problem size (422) limits, each naming the limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import HEADERS, KEY


@pytest.fixture
def small_client(tmp_path):
    from service import Settings, create_app

    settings = Settings(
        api_keys=[KEY],
        database_url=f"sqlite:///{tmp_path / 'small.db'}",
        max_request_bytes=4_000,
        max_lines=2,
        max_variables=4,
        max_budgets=3,
        max_history_rows=2,
        max_variants=1,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_body_over_the_limit_is_413_naming_it(small_client, curves, spec):
    curves["meta_note"] = "x" * 5_000
    r = small_client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
    assert r.status_code == 413
    body = r.json()
    assert body["limit"] == 4_000 and "ADPLAN_MAX_REQUEST_BYTES" in body["detail"]


def test_chunked_body_over_the_limit_is_413(small_client):
    def chunks():
        yield b'{"spec": {"budget": 1}, "name": "'
        for _ in range(10):
            yield b"y" * 1_000
        yield b'"}'

    r = small_client.post(
        "/v1/plans",
        headers={**HEADERS, "Content-Type": "application/json"},
        content=chunks(),
    )
    assert r.status_code == 413
    assert "ADPLAN_MAX_REQUEST_BYTES" in r.json()["detail"]


def test_too_many_lines_is_422_naming_the_limit(small_client, curves, spec):
    r = small_client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "problem_too_large"
    assert body["setting"] == "ADPLAN_MAX_LINES" and body["limit"] == 2 and body["value"] == 3


def test_too_many_variables_is_422_naming_the_limit(small_client, curves):
    curves["lines"] = curves["lines"][:2]  # 3 + 2 curve segments > 4
    r = small_client.post(
        "/v1/plans", headers=HEADERS, json={"curves": curves, "spec": {"budget": 100}}
    )
    assert r.status_code == 422
    assert r.json()["setting"] == "ADPLAN_MAX_VARIABLES"


def test_too_many_budgets_is_422(small_client, curves):
    curves["lines"] = curves["lines"][1:2]
    body = {"curves": curves, "spec": {"budget": 100}, "budgets": [1, 2, 3, 4]}
    r = small_client.post("/v1/frontiers", headers=HEADERS, json=body)
    assert r.status_code == 422 and r.json()["setting"] == "ADPLAN_MAX_BUDGETS"


def test_too_many_history_rows_is_422(small_client):
    row = {
        "date": "2026-01-05",
        "network": "meta",
        "segment": "a",
        "result_type": "purchases",
        "spend": 10,
        "results": 1,
    }
    body = {"history": [row] * 3, "from": "2027-01-01", "to": "2027-03-31"}
    r = small_client.post("/v1/forecasts", headers=HEADERS, json=body)
    assert r.status_code == 422 and r.json()["setting"] == "ADPLAN_MAX_HISTORY_ROWS"


def test_too_many_variants_is_422(small_client, curves):
    curves["lines"] = curves["lines"][1:2]
    doc = {
        "name": "q1",
        "curves": curves,
        "spec": {"budget": 100},
        "variants": [{"name": "a"}, {"name": "b"}],
    }
    r = small_client.post("/v1/scenario-runs", headers=HEADERS, json=doc)
    assert r.status_code == 422 and r.json()["setting"] == "ADPLAN_MAX_VARIANTS"


def test_settings_read_the_environment(monkeypatch, tmp_path):
    from service.settings import Settings

    monkeypatch.setenv("ADPLAN_API_KEYS", " a ,b,, c ")
    monkeypatch.setenv("ADPLAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ADPLAN_MAX_REQUEST_BYTES", "1234")
    monkeypatch.delenv("ADPLAN_DATABASE_URL", raising=False)
    s = Settings()
    assert s.api_keys == ("a", "b", "c")
    assert s.database_url == f"sqlite:///{tmp_path / 'data' / 'adplan.db'}"
    assert s.max_request_bytes == 1234
    assert "api_keys" not in repr(s)  # keys stay out of logs
