"""API keys on every /v1 call; a plan's token grants only that plan's downloads."""

from __future__ import annotations

import pytest

from .conftest import HEADERS

V1_CALLS = [
    ("get", "/v1/plans"),
    ("post", "/v1/plans"),
    ("get", "/v1/plans/abc"),
    ("delete", "/v1/plans/abc"),
    ("post", "/v1/plans/abc/token"),
    ("post", "/v1/forecasts"),
    ("post", "/v1/frontiers"),
    ("post", "/v1/scenario-runs"),
    ("get", "/v1/scenario-runs/abc"),
    ("get", "/v1/plans/abc.csv"),
    ("get", "/v1/plans/abc.xlsx"),
]


@pytest.mark.parametrize(("method", "url"), V1_CALLS)
def test_every_v1_call_without_a_key_is_401(client, method, url):
    r = client.request(method, url, json={} if method == "post" else None)
    assert r.status_code == 401, (method, url, r.text)
    assert r.json()["error"] == "unauthorized"


@pytest.mark.parametrize(("method", "url"), V1_CALLS)
def test_every_v1_call_with_a_wrong_key_is_401(client, method, url):
    r = client.request(
        method, url, headers={"X-API-Key": "wrong"}, json={} if method == "post" else None
    )
    assert r.status_code == 401, (method, url, r.text)


def test_any_configured_key_works(client):
    assert client.get("/v1/plans", headers={"X-API-Key": "second-key"}).status_code == 200
    # near misses fail
    for key in (HEADERS["X-API-Key"] + "x", HEADERS["X-API-Key"][:-1], "", " "):
        assert client.get("/v1/plans", headers={"X-API-Key": key}).status_code == 401


def test_non_ascii_key_is_401_not_500(client):
    r = client.get("/v1/plans", headers={"X-API-Key": "clé-é".encode()})
    assert r.status_code == 401


def test_server_without_keys_refuses_every_v1_call(tmp_path):
    from fastapi.testclient import TestClient

    from service import Settings, create_app

    app = create_app(Settings(api_keys=[], database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200
        assert c.get("/v1/plans", headers={"X-API-Key": ""}).status_code == 401
        assert c.get("/v1/plans", headers={"X-API-Key": "anything"}).status_code == 401


def test_token_grants_only_its_own_plans_downloads(client, curves, spec):
    a = client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec}).json()
    b = client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec}).json()
    token_a = a["links"]["csv"].split("token=")[1]
    assert client.get(f"/v1/plans/{a['id']}.csv", params={"token": token_a}).status_code == 200
    assert client.get(f"/v1/plans/{a['id']}.xlsx", params={"token": token_a}).status_code == 200
    # another plan's downloads: 403
    r = client.get(f"/v1/plans/{b['id']}.csv", params={"token": token_a})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert client.get(f"/v1/plans/{b['id']}.xlsx", params={"token": token_a}).status_code == 403
    # the token is not a key: not the JSON, not the list, not delete
    for method, url in (
        ("get", f"/v1/plans/{a['id']}"),
        ("get", "/v1/plans"),
        ("delete", f"/v1/plans/{a['id']}"),
    ):
        r = client.request(method, url, params={"token": token_a})
        assert r.status_code == 401, url
        r = client.request(method, url, headers={"X-API-Key": token_a})
        assert r.status_code == 401, url
    assert client.get(f"/v1/plans/{a['id']}", headers=HEADERS).status_code == 200


def test_wrong_or_empty_token_is_refused(client, posted):
    pid = posted["id"]
    assert client.get(f"/v1/plans/{pid}.csv", params={"token": "x" * 43}).status_code == 403
    assert client.get(f"/v1/plans/{pid}.csv", params={"token": ""}).status_code == 401
    assert client.get(f"/v1/plans/{pid}.csv").status_code == 401


def test_a_wrong_key_is_not_rescued_by_a_good_token(client, posted):
    r = client.get(posted["links"]["csv"], headers={"X-API-Key": "wrong"})
    assert r.status_code == 401


def test_rotating_the_token_revokes_the_old_one(client, posted):
    pid = posted["id"]
    old = posted["links"]["csv"]
    r = client.post(f"/v1/plans/{pid}/token", headers=HEADERS)
    assert r.status_code == 200
    new = r.json()["links"]["csv"]
    assert new != old
    assert client.get(old).status_code == 403
    assert client.get(new).status_code == 200
    assert client.post("/v1/plans/nope/token", headers=HEADERS).status_code == 404


def test_tokens_are_stored_hashed(client, posted, app):
    from sqlalchemy import text

    token = posted["links"]["csv"].split("token=")[1]
    with app.state.store.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM plans")).scalar_one()
    assert token not in stored and len(stored) == 64
