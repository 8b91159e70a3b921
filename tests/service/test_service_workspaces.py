"""Workspaces: plans and scenario runs belong to the workspace of the key that made them.

A key of another workspace gets 404 for them (not 403: ids do not leak) and never sees
them in a list; a plan's download token still grants that plan's CSV and XLSX, and only
those.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import HEADERS

ACME = {"X-API-Key": "acme-admin"}
ACME_READ = {"X-API-Key": "acme-reader"}


@pytest.fixture
def ws_client(tmp_path):
    from service import Settings, create_app

    keys = [HEADERS["X-API-Key"], "acme-admin:admin:acme", "acme-reader:read:acme"]
    app = create_app(
        Settings(api_keys=keys, database_url=f"sqlite:///{tmp_path / 'ws.db'}", data_dir=tmp_path)
    )
    with TestClient(app) as c:
        yield c


def _plan(c, headers, curves, spec) -> dict:
    r = c.post("/v1/plans", headers=headers, json={"curves": curves, "spec": spec})
    assert r.status_code == 201, r.text
    return r.json()


def test_another_workspace_gets_404_for_a_plan_and_never_lists_it(ws_client, curves, spec):
    c = ws_client
    mine = _plan(c, HEADERS, curves, spec)
    theirs = _plan(c, ACME, curves, spec)
    pid = mine["id"]
    for method, url in (
        ("get", f"/v1/plans/{pid}"),
        ("get", f"/v1/plans/{pid}.csv"),
        ("get", f"/v1/plans/{pid}.xlsx"),
        ("delete", f"/v1/plans/{pid}"),
        ("post", f"/v1/plans/{pid}/token"),
    ):
        r = c.request(method, url, headers=ACME)
        assert r.status_code == 404, (method, url, r.text)
        assert r.json() == {"error": "not_found", "detail": f"no plan with id {pid!r}"}
    assert [p["id"] for p in c.get("/v1/plans", headers=ACME).json()["items"]] == [theirs["id"]]
    assert [p["id"] for p in c.get("/v1/plans", headers=ACME_READ).json()["items"]] == [
        theirs["id"]
    ]
    assert [p["id"] for p in c.get("/v1/plans", headers=HEADERS).json()["items"]] == [pid]
    # nothing happened to it
    assert c.get(f"/v1/plans/{pid}", headers=HEADERS).status_code == 200
    assert c.get(mine["links"]["csv"].replace("http://testserver", "")).status_code == 200


def test_a_download_token_is_per_plan_whatever_the_workspace(ws_client, curves, spec):
    c = ws_client
    mine = _plan(c, HEADERS, curves, spec)
    theirs = _plan(c, ACME, curves, spec)
    token = theirs["links"]["csv"].split("token=")[1]
    assert c.get(f"/v1/plans/{theirs['id']}.xlsx", params={"token": token}).status_code == 200
    assert c.get(f"/v1/plans/{mine['id']}.csv", params={"token": token}).status_code == 403
    assert c.get(f"/v1/plans/{theirs['id']}", params={"token": token}).status_code == 401


def test_scenario_runs_belong_to_a_workspace(ws_client, curves, spec):
    c = ws_client
    doc = {"name": "q1", "curves": curves, "spec": spec, "variants": [{"name": "v1"}]}
    run = c.post("/v1/scenario-runs", headers=ACME, json=doc)
    assert run.status_code == 201, run.text
    rid = run.json()["id"]
    assert c.get(f"/v1/scenario-runs/{rid}", headers=ACME_READ).status_code == 200
    r = c.get(f"/v1/scenario-runs/{rid}", headers=HEADERS)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    listed = c.get("/v1/plans", params={"scenario_run_id": rid}, headers=HEADERS).json()
    assert listed["items"] == []
    listed = c.get("/v1/plans", params={"scenario_run_id": rid}, headers=ACME).json()
    assert len(listed["items"]) == 2
    for item in listed["items"]:
        assert c.get(f"/v1/plans/{item['id']}", headers=HEADERS).status_code == 404


def test_a_database_from_before_workspaces_keeps_its_plans_in_default(tmp_path, curves, spec):
    """A plans table made without the workspace column gets it ('default') at start-up."""
    import sqlite3

    from service import Settings, create_app

    path = tmp_path / "old.db"
    settings = Settings(api_keys=[HEADERS["X-API-Key"]], database_url=f"sqlite:///{path}")
    with TestClient(create_app(settings)) as c:
        made = _plan(c, HEADERS, curves, spec)
    con = sqlite3.connect(path)  # as the previous version left it: no workspace columns
    for table in ("plans", "scenario_runs"):
        con.execute(f"DROP INDEX IF EXISTS ix_{table}_workspace")
        con.execute(f"ALTER TABLE {table} DROP COLUMN workspace")
    con.commit()
    assert "workspace" not in [r[1] for r in con.execute("PRAGMA table_info(plans)")]
    con.close()
    with TestClient(create_app(settings)) as c:
        assert c.get(f"/v1/plans/{made['id']}", headers=HEADERS).status_code == 200
        assert len(c.get("/v1/plans", headers=HEADERS).json()["items"]) == 1
        assert (
            c.post(
                "/v1/scenario-runs",
                headers=HEADERS,
                json={"name": "s", "curves": curves, "spec": spec},
            ).status_code
            == 201
        )
