"""Start-up: default curves loaded once, settings checked, errors handled in one place."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from .conftest import CURVES, HEADERS, KEY


@pytest.fixture
def curves_file(tmp_path):
    p = tmp_path / "curves.json"
    p.write_text(json.dumps(CURVES), encoding="utf-8")
    return p


def test_default_curves_load_at_start_up_not_per_request(tmp_path, curves_file):
    from service import Settings, create_app

    app = create_app(
        Settings(
            api_keys=[KEY], database_url=f"sqlite:///{tmp_path / 'd.db'}", curves_path=curves_file
        )
    )
    curves_file.unlink()  # loaded already: requests do not read the file
    with TestClient(app) as c:
        assert c.get("/health").json()["default_curves"] is True
        r = c.post("/v1/plans", headers=HEADERS, json={"spec": {"budget": 4000}})
        assert r.status_code == 201, r.text
        assert r.json()["total_spend"] == pytest.approx(4000)
        assert r.json()["kind"] == "default"
        body = {"spec": {"budget": 4000}, "budgets": [1000, 2000]}
        assert c.post("/v1/frontiers", headers=HEADERS, json=body).status_code == 200


def test_bad_default_curves_stop_the_start_naming_the_file(tmp_path):
    from optimizer import CurveError
    from service import Settings, create_app

    bad = tmp_path / "bad.json"
    bad.write_text('{"lines": [', encoding="utf-8")
    with pytest.raises(CurveError, match="bad.json"):
        create_app(Settings(api_keys=[KEY], database_url="sqlite://", curves_path=bad))


def test_unknown_solver_setting_is_refused(monkeypatch):
    from pydantic import ValidationError

    from service import Settings

    monkeypatch.setenv("ADPLAN_SOLVER", "gurobi-please")
    with pytest.raises(ValidationError, match="solver"):
        Settings()
    monkeypatch.setenv("ADPLAN_SOLVER", "CBC")
    assert Settings().solver == "cbc"


def test_cbc_solver_setting_is_used(tmp_path, curves, spec):
    from service import Settings, create_app

    app = create_app(Settings(api_keys=[KEY], database_url="sqlite://", solver="cbc"))
    with TestClient(app) as c:
        r = c.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
        assert r.status_code == 201
        assert r.json()["solver"]["name"] == "cbc"


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        ("solver", 503, "solver_unavailable"),
        ("bug", 500, "internal"),
    ],
)
def test_errors_become_json_without_a_stack_trace(app, exc, status, code):
    from optimizer import SolverError

    def boom():
        if exc == "solver":
            raise SolverError("HiGHS stopped: time limit")
        raise RuntimeError("secret internals /etc/adplan")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == status
    assert r.json()["error"] == code
    assert "Traceback" not in r.text and "secret internals" not in r.text
