"""POST /v1/plans/{id}/delta: a saved plan solved again at its budget + extra, and saved.

The saved plan's own curves and spec (its inputs) are solved at the new budget; the answer
is the new plan (201, id, links, Location) with a ``delta`` against the saved plan. The
curves are two lines with linear tiers (tests/scenarios/test_scn_delta.py derives the
numbers): at 1000 all goes to meta; +500 goes to tiktok, 20 purchases at 25 each.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.delta_case import CURVES

from .conftest import HEADERS, ServerThread

OTHER = {"X-API-Key": "acme-writer"}
READER = {"X-API-Key": "reader-1"}


@pytest.fixture
def dc(tmp_path):
    """A client of an app with keys of two workspaces and a read-only key."""
    from service import Settings, create_app

    keys = [HEADERS["X-API-Key"], "acme-writer:write:acme", "reader-1:read"]
    app = create_app(
        Settings(api_keys=keys, database_url=f"sqlite:///{tmp_path / 'd.db'}", data_dir=tmp_path)
    )
    with TestClient(app) as c:
        yield c


def _plan(c, spec=None, headers=HEADERS, **body) -> dict:
    payload = {"curves": CURVES, "spec": spec or {"budget": 1000}, **body}
    r = c.post("/v1/plans", headers=headers, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


def _delta(c, plan_id: str, body: dict, headers=HEADERS):
    return c.post(f"/v1/plans/{plan_id}/delta", headers=headers, json=body)


def test_extra_money_goes_to_the_cheaper_next_tier_and_the_plan_is_saved(dc):
    saved = _plan(dc, name="q1")
    r = _delta(dc, saved["id"], {"extra": 500})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["id"] != saved["id"] and r.headers["Location"] == new["links"]["self"]
    assert new["budget"] == 1500 and new["total_spend"] == pytest.approx(1500)
    assert new["name"] == "q1" and new["kind"] == "curves"
    assert "token=" in new["links"]["csv"]
    d = new["delta"]
    assert (d["from_budget"], d["to_budget"], d["extra"]) == (1000, 1500, 500)
    assert d["spend_change"] == pytest.approx(500)
    assert d["results_change"] == pytest.approx(20)
    assert d["cost_per_extra_result"] == pytest.approx(25)
    first = d["lines"][0]
    assert (first["network"], first["current_spend"]) == ("tiktok", 0)
    assert first["change"] == pytest.approx(500) and first["results_change"] == pytest.approx(20)
    # saved like any plan: read back with its delta, and with its inputs at the new budget
    got = dc.get(f"/v1/plans/{new['id']}?include_inputs=true", headers=HEADERS).json()
    assert got["delta"] == d
    assert got["inputs"]["spec"] == {"budget": 1500}
    assert got["inputs"]["curves"]["lines"] == CURVES["lines"]
    assert got["inputs"]["from_plan"] == {"id": saved["id"], "extra": 500}
    listed = [p["id"] for p in dc.get("/v1/plans", headers=HEADERS).json()["items"]]
    assert listed == [new["id"], saved["id"]]


def test_a_cut_and_then_a_delta_of_the_delta(dc):
    saved = _plan(dc, spec={"budget": 1500})
    r = _delta(dc, saved["id"], {"extra": -700, "name": "q1-cut", "solver": "cbc"})
    assert r.status_code == 201, r.text
    cut = r.json()
    assert cut["name"] == "q1-cut" and cut["solver"]["name"] == "cbc"
    d = cut["delta"]
    assert d["to_budget"] == 800 and d["spend_change"] == pytest.approx(-700)
    assert [ln["network"] for ln in d["lines"]] == ["tiktok", "meta"]
    assert d["lines"][0]["change"] == pytest.approx(-500)
    assert d["lines"][1]["change"] == pytest.approx(-200)
    assert d["results_change"] == pytest.approx(-30)
    assert d["cost_per_extra_result"] == pytest.approx(700 / 30)
    # the new plan keeps its inputs, so it has a delta of its own
    again = _delta(dc, cut["id"], {"extra": 200}).json()["delta"]
    assert (again["from_budget"], again["to_budget"]) == (800, 1000)
    assert again["results_change"] == pytest.approx(10)


def test_the_spec_rules_hold_at_the_new_budget(dc):
    saved = _plan(dc, spec={"budget": 1000, "networks": {"tiktok": {"max": 300}}})
    new = _delta(dc, saved["id"], {"extra": 500}).json()
    spend = {ln["network"]: ln["spend"] for ln in new["lines"]}
    assert spend == {"meta": pytest.approx(1200), "tiktok": pytest.approx(300)}
    assert new["delta"]["results_change"] == pytest.approx(18)


def test_an_unknown_plan_is_404(dc):
    r = _delta(dc, "0" * 32, {"extra": 5})
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": f"no plan with id {'0' * 32!r}"}


def test_another_workspace_gets_404_and_a_reader_403(dc):
    saved = _plan(dc)
    r = _delta(dc, saved["id"], {"extra": 5}, headers=OTHER)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = _delta(dc, saved["id"], {"extra": 5}, headers=READER)
    assert r.status_code == 403 and r.json()["needed_role"] == "write"
    r = dc.post(f"/v1/plans/{saved['id']}/delta", json={"extra": 5})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "extra"),
        ({"extra": "lots"}, "extra"),
        ({"extra": 2e12}, "extra"),
        ({"extra": 5, "spec": {"budget": 1}}, "spec"),
    ],
)
def test_a_malformed_extra_is_422_naming_the_field(dc, body, where):
    saved = _plan(dc)
    r = _delta(dc, saved["id"], body)
    assert r.status_code == 422
    err = r.json()
    assert err["error"] == "invalid_request" and err["detail"].startswith(where)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (-1000, "extra -1,000 would make the budget 0 (the current plan's 1,000 plus -1,000)"),
        (1e12, "a budget must be above 0 and at most 1e12"),
    ],
)
def test_an_extra_that_leaves_no_budget_is_422(dc, extra, message):
    saved = _plan(dc)
    r = _delta(dc, saved["id"], {"extra": extra})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request" and message in r.json()["detail"]
    assert len(dc.get("/v1/plans", headers=HEADERS).json()["items"]) == 1  # nothing saved


def test_a_non_finite_extra_is_422(dc):
    saved = _plan(dc)
    r = dc.post(
        f"/v1/plans/{saved['id']}/delta",
        headers={**HEADERS, "Content-Type": "application/json"},
        content=b'{"extra": NaN}',
    )
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def test_an_unknown_solver_is_422_with_the_cli_message(dc):
    saved = _plan(dc)
    r = _delta(dc, saved["id"], {"extra": 5, "solver": "gurobi"})
    assert r.status_code == 422
    assert r.json()["detail"] == "solver 'gurobi' is not known; use one of highs, cbc"


def test_infeasible_rules_at_the_new_budget_are_422_with_the_diagnosis(dc):
    saved = _plan(dc, spec={"budget": 2000, "networks": {"meta": {"min": 1500}}})
    r = _delta(dc, saved["id"], {"extra": -1000})
    assert r.status_code == 422
    assert r.json()["error"] == "infeasible" and r.json()["diagnosis"]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(dc):
    saved = _plan(dc)
    headers = {**HEADERS, "Idempotency-Key": "delta-1"}
    first = _delta(dc, saved["id"], {"extra": 500}, headers=headers)
    again = _delta(dc, saved["id"], {"extra": 500}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(dc.get("/v1/plans", headers=HEADERS).json()["items"]) == 2  # solved once
    other = _delta(dc, saved["id"], {"extra": 600}, headers=headers)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_conflict"


def test_a_plan_of_a_scenario_run_is_422_saying_what_to_do(dc):
    r = dc.post(
        "/v1/scenario-runs",
        headers=HEADERS,
        json={"name": "q1", "curves": CURVES, "spec": {"budget": 1000}},
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["plans"][0]["plan"]["id"]
    r = _delta(dc, plan_id, {"extra": 5})
    assert r.status_code == 422
    assert "made by a scenario run" in r.json()["detail"]
    assert "POST /v1/plans" in r.json()["detail"]


def test_a_plan_on_the_default_curves_uses_them(tmp_path):
    from service import Settings, create_app

    (tmp_path / "curves.json").write_text(json.dumps(CURVES))
    app = create_app(
        Settings(
            api_keys=[HEADERS["X-API-Key"]],
            database_url=f"sqlite:///{tmp_path / 'd.db'}",
            data_dir=tmp_path,
            curves_path=tmp_path / "curves.json",
        )
    )
    with TestClient(app) as c:
        saved = c.post("/v1/plans", headers=HEADERS, json={"spec": {"budget": 1000}}).json()
        r = _delta(c, saved["id"], {"extra": 500})
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "default"
        assert r.json()["delta"]["cost_per_extra_result"] == pytest.approx(25)


def test_a_full_pool_is_503_busy_with_retry_after(tmp_path):
    from service import Settings, create_app

    app = create_app(
        Settings(
            api_keys=[HEADERS["X-API-Key"]],
            database_url=f"sqlite:///{tmp_path / 'pool.db'}",
            data_dir=tmp_path,
            workers=1,
            queue=0,
        )
    )
    pool = app.state.heavy_pool
    with TestClient(app) as c:
        saved = _plan(c)
        ticket = pool.admit()  # the one place
        try:
            r = _delta(c, saved["id"], {"extra": 500})
            assert r.status_code == 503 and r.json()["error"] == "busy"
            assert int(r.headers["Retry-After"]) == r.json()["retry_after"] >= 1
        finally:
            ticket.release()
        assert _delta(c, saved["id"], {"extra": 500}).status_code == 201


def test_on_a_real_server(app):
    import httpx

    with ServerThread(app) as server:
        saved = httpx.post(
            f"{server.url}/v1/plans",
            headers=HEADERS,
            json={"curves": CURVES, "spec": {"budget": 1000}},
            timeout=60,
        ).json()
        r = httpx.post(
            f"{server.url}/v1/plans/{saved['id']}/delta",
            headers=HEADERS,
            json={"extra": 500},
            timeout=60,
        )
    assert r.status_code == 201, r.text
    assert r.json()["delta"]["results_change"] == pytest.approx(20)


def test_the_route_is_documented_with_every_answer(dc):
    doc = dc.get("/openapi.json").json()
    op = doc["paths"]["/v1/plans/{plan_id}/delta"]["post"]
    assert op["operationId"] == "create_plan_delta"
    assert set(op["responses"]) == {
        "201",
        "401",
        "403",
        "404",
        "408",
        "409",
        "413",
        "422",
        "500",
        "503",
    }
    assert op["responses"]["201"]["links"]["GetPlan"]["operationId"] == "get_plan"
    body = doc["components"]["schemas"]["DeltaRequest"]
    assert body["required"] == ["extra"] and body["additionalProperties"] is False


def test_a_plan_on_default_curves_the_server_no_longer_has_is_422(tmp_path):
    from service import Settings, create_app

    db = f"sqlite:///{tmp_path / 'd.db'}"
    (tmp_path / "curves.json").write_text(json.dumps(CURVES))
    first = create_app(
        Settings(
            api_keys=[HEADERS["X-API-Key"]],
            database_url=db,
            data_dir=tmp_path,
            curves_path=tmp_path / "curves.json",
        )  # fmt: skip
    )
    with TestClient(first) as c:
        saved = c.post("/v1/plans", headers=HEADERS, json={"spec": {"budget": 1000}}).json()
    # restarted without default curves: nothing to solve the plan on
    bare = create_app(Settings(api_keys=[HEADERS["X-API-Key"]], database_url=db, data_dir=tmp_path))
    with TestClient(bare) as c:
        r = _delta(c, saved["id"], {"extra": 5})
        assert r.status_code == 422 and "ADPLAN_CURVES_PATH" in r.json()["detail"]
    # restarted with other default curves: the plan's lines are not theirs
    other = json.loads(json.dumps(CURVES))
    other["lines"][0]["network"] = "snapchat"
    (tmp_path / "other.json").write_text(json.dumps(other))
    moved = create_app(
        Settings(
            api_keys=[HEADERS["X-API-Key"]],
            database_url=db,
            data_dir=tmp_path,
            curves_path=tmp_path / "other.json",
        )  # fmt: skip
    )
    with TestClient(moved) as c:
        r = _delta(c, saved["id"], {"extra": 5})
        assert r.status_code == 422
        assert (
            f"plan {saved['id']}: lines[0]: no curve has line meta/all/2027-01"
            in (r.json()["detail"])
        )
