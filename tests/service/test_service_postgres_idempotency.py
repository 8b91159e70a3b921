"""Idempotency keys and workspaces on PostgreSQL: the same store, a real server (the
throwaway PostgreSQL of test_service_postgres.py, in tmp_path, over 127.0.0.1).
"""

from __future__ import annotations

import threading

import httpx
from fastapi.testclient import TestClient

from .conftest import HEADERS, ServerThread
from .test_service_postgres import pg_url  # noqa: F401 - the fixture

KEYS = [HEADERS["X-API-Key"], "pg-acme:write:acme"]


def _settings(url, tmp_path):
    from service import Settings

    return Settings(api_keys=KEYS, database_url=url, data_dir=tmp_path)


def test_a_retry_is_replayed_and_a_reused_key_is_409_on_postgresql(
    pg_url,  # noqa: F811
    curves,
    spec,
    tmp_path,
):
    from service import create_app

    app = create_app(_settings(pg_url, tmp_path))
    body = {"curves": curves, "spec": spec}
    headers = {**HEADERS, "Idempotency-Key": "pg-1"}
    with TestClient(app) as c:
        before = app.state.store.count_plans()
        first = c.post("/v1/plans", headers=headers, json=body)
        again = c.post("/v1/plans", headers=headers, json=body)
        assert first.status_code == again.status_code == 201
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        other = c.post("/v1/plans", headers=headers, json={"curves": curves, "spec": {"budget": 1}})
        assert other.status_code == 409 and other.json()["error"] == "idempotency_conflict"
        assert app.state.store.count_plans() == before + 1
        # the plan is the default workspace's: acme's key does not find it
        pid = first.json()["id"]
        assert c.get(f"/v1/plans/{pid}", headers={"X-API-Key": "pg-acme"}).status_code == 404
        r = c.post("/v1/plans", headers={"X-API-Key": "pg-acme"}, json=body)
        assert r.status_code == 201
        assert c.get(f"/v1/plans/{r.json()['id']}", headers=HEADERS).status_code == 404


def test_the_same_key_sent_at_once_to_two_servers_runs_once(
    pg_url,  # noqa: F811
    curves,
    spec,
    tmp_path,
):
    """Two apps (two engines, as two processes) get the same key at the same moment: one
    runs, the others get its answer or 409 (still running); one plan is saved.
    """
    from service import create_app

    settings = _settings(pg_url, tmp_path)
    body = {"curves": curves, "spec": spec, "name": "raced"}
    headers = {**HEADERS, "Idempotency-Key": "pg-race"}
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    go = threading.Barrier(8)

    def post(url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            go.wait()
            r = http.post("/v1/plans", headers=headers, json=body)
            with lock:
                answers.append(r)

    with ServerThread(create_app(settings)) as a, ServerThread(create_app(settings)) as b:
        threads = [threading.Thread(target=post, args=(s.url,)) for s in (a, b) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        with httpx.Client(base_url=a.url, timeout=60) as http:
            final = http.post("/v1/plans", headers=headers, json=body)
            named = http.get("/v1/plans", headers=HEADERS, params={"limit": 200}).json()
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {201, 409}, statuses
    ids = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(ids) == 1 and final.json()["id"] in ids
    assert [p["name"] for p in named["items"]].count("raced") == 1
