"""Idempotency-Key on every POST: a retry gets the first answer, nothing runs twice.

Real apps on real SQLite files (and one real uvicorn server for a retry that arrives while
the first request still runs); the keys live in the database, so they hold across server
processes and restarts.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from .conftest import HEADERS, ServerThread


def _post(client, url, body, key, headers=HEADERS):
    return client.post(url, headers={**headers, "Idempotency-Key": key}, json=body)


def _count(app) -> int:
    return app.state.store.count_plans()


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer(client, app, curves, spec):
    body = {"curves": curves, "spec": spec, "name": "q1"}
    first = _post(client, "/v1/plans", body, "k-1")
    again = _post(client, "/v1/plans", body, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content  # same body, same id, same download token
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _count(app) == 1  # no second plan
    csv = again.json()["links"]["csv"].replace("http://testserver", "")
    assert client.get(csv).status_code == 200  # the replayed token works


def test_the_same_key_with_another_request_is_409_saying_so(client, app, curves, spec):
    assert _post(client, "/v1/plans", {"curves": curves, "spec": spec}, "k-2").status_code == 201
    other = {"curves": curves, "spec": {"budget": 5000}}
    r = _post(client, "/v1/plans", other, "k-2")
    assert r.status_code == 409
    assert r.json()["error"] == "idempotency_conflict"
    assert "another request" in r.json()["detail"] and "new key" in r.json()["detail"]
    # another path with the same key is another request too
    frontier = {"curves": curves, "spec": spec, "budgets": [1000]}
    assert _post(client, "/v1/frontiers", frontier, "k-2").status_code == 409
    assert _count(app) == 1


def test_keys_belong_to_a_workspace(tmp_path, curves, spec):
    from service import Settings, create_app

    keys = [HEADERS["X-API-Key"], "acme-key:write:acme"]
    app = create_app(Settings(api_keys=keys, database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    body = {"curves": curves, "spec": spec}
    with TestClient(app) as c:
        a = _post(c, "/v1/plans", body, "shared")
        b = _post(c, "/v1/plans", body, "shared", headers={"X-API-Key": "acme-key"})
        assert a.status_code == b.status_code == 201
        assert a.json()["id"] != b.json()["id"]
        assert "idempotent-replayed" not in b.headers
    assert _count(app) == 2


def test_a_retry_while_the_first_still_runs_is_409_with_retry_after(
    settings, curves, spec, monkeypatch
):
    """A real server: the first request is held inside the solve until the retry is answered."""
    from service import create_app, operations

    started, release = threading.Event(), threading.Event()
    solve = operations.make_plan

    def held(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return solve(*args, **kwargs)

    monkeypatch.setattr(operations, "make_plan", held)
    body = {"curves": curves, "spec": spec}
    headers = {**HEADERS, "Idempotency-Key": "slow-1"}
    answers: list[httpx.Response] = []
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        first = threading.Thread(
            target=lambda: answers.append(http.post("/v1/plans", json=body, headers=headers))
        )
        first.start()
        assert started.wait(30)
        retry = http.post("/v1/plans", json=body, headers=headers)
        release.set()
        first.join(30)
        after = http.post("/v1/plans", json=body, headers=headers)
    assert retry.status_code == 409, retry.text
    assert retry.json()["error"] == "idempotency_in_progress"
    assert 1 <= int(retry.headers["retry-after"]) <= 5
    assert answers[0].status_code == 201
    assert after.status_code == 201 and after.json()["id"] == answers[0].json()["id"]


def test_a_key_whose_first_request_died_is_taken_over_after_its_lease(client, app, curves, spec):
    """Another process claimed the key and died: while its lease lasts the answer is 409,
    once it has run out the retry runs.
    """
    import json

    from service.deps import request_fingerprint

    store = app.state.store
    body = {"curves": curves, "spec": spec}
    raw = json.dumps(body).encode()
    fp = request_fingerprint("POST", "/v1/plans", "", raw)
    assert store.begin_idempotent("default", "dead-1", fp, lease_s=60).state == "new"
    headers = {**HEADERS, "Idempotency-Key": "dead-1", "Content-Type": "application/json"}
    r = client.post("/v1/plans", headers=headers, content=raw)
    assert r.status_code == 409 and r.json()["error"] == "idempotency_in_progress"
    assert "retry-after" in r.headers
    with store.engine.begin() as conn:  # the dead request's lease runs out
        conn.execute(text("UPDATE idempotency_keys SET locked_until = 0"))
    r = client.post("/v1/plans", headers=headers, content=raw)
    assert r.status_code == 201, r.text
    again = client.post("/v1/plans", headers=headers, content=raw)
    assert again.json()["id"] == r.json()["id"] and _count(app) == 1


def test_keys_expire_after_24_hours(client, app, curves, spec):
    from service.db import IDEMPOTENCY_TTL_S

    assert IDEMPOTENCY_TTL_S == 24 * 3600
    body = {"curves": curves, "spec": spec}
    first = _post(client, "/v1/plans", body, "old-1")
    with app.state.store.engine.connect() as conn:
        made, expires = conn.execute(
            text("SELECT created_at, expires_at FROM idempotency_keys")
        ).one()
    assert expires - made == pytest.approx(IDEMPOTENCY_TTL_S)
    with app.state.store.engine.begin() as conn:  # a day later
        conn.execute(text("UPDATE idempotency_keys SET expires_at = :t"), {"t": time.time() - 1})
    later = _post(client, "/v1/plans", body, "old-1")
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in later.headers
    assert _count(app) == 2
    with app.state.store.engine.connect() as conn:  # expired keys are purged
        assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar() == 1


def test_an_error_answer_frees_the_key(client, app, curves):
    bad = {"curves": curves, "spec": {"budget": 6000, "networks": {"myspace": {"max": 1}}}}
    assert _post(client, "/v1/plans", bad, "k-err").status_code == 422
    good = {"curves": curves, "spec": {"budget": 6000}}
    assert _post(client, "/v1/plans", good, "k-err").status_code == 201
    assert _count(app) == 1


def test_neither_the_key_nor_a_download_token_is_stored_in_clear(client, app, curves, spec):
    r = _post(client, "/v1/plans", {"curves": curves, "spec": spec}, "secret-key-1")
    token = r.json()["links"]["csv"].split("token=")[1]
    with app.state.store.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM idempotency_keys")).mappings().one()
    stored = " ".join(str(v) for v in row.values())
    assert token not in stored and "secret-key-1" not in stored
    assert row["status_code"] == 201


def test_every_post_takes_a_key(client, app, curves, spec, posted):
    frontier = {"curves": curves, "spec": spec, "budgets": [1000, 6000]}
    a = _post(client, "/v1/frontiers", frontier, "f-1")
    b = _post(client, "/v1/frontiers", frontier, "f-1")
    assert a.status_code == b.status_code == 200 and a.content == b.content
    assert b.headers["idempotent-replayed"] == "true"
    run = {"name": "s1", "curves": curves, "spec": spec, "variants": [{"name": "v1"}]}
    a = _post(client, "/v1/scenario-runs", run, "s-1")
    b = _post(client, "/v1/scenario-runs", run, "s-1")
    assert a.status_code == b.status_code == 201 and a.content == b.content
    assert a.headers["location"] == b.headers["location"]
    rotate = f"/v1/plans/{posted['id']}/token"
    a = _post(client, rotate, None, "t-1")
    b = _post(client, rotate, None, "t-1")
    assert a.status_code == b.status_code == 200 and a.content == b.content
    assert client.get(b.json()["links"]["csv"].replace("http://testserver", "")).status_code == 200
    assert _count(app) == 1 + 2  # the posted plan and the run's two, each once


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "é"])
def test_a_malformed_key_is_422_naming_the_header(client, curves, spec, key):
    r = client.post(
        "/v1/plans",
        headers={**HEADERS, "Idempotency-Key": key.encode()},
        json={"curves": curves, "spec": spec},
    )
    assert r.status_code == 422, r.text
    assert "Idempotency-Key" in r.json()["detail"]
