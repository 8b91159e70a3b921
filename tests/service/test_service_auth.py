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


# -- roles: read (GETs and downloads), write (+ POSTs), admin (+ DELETE and token rotation) ---

READER = {"X-API-Key": "reader-1"}
WRITER = {"X-API-Key": "writer-1"}


@pytest.fixture
def roles_client(tmp_path):
    from fastapi.testclient import TestClient

    from service import Settings, create_app

    keys = [HEADERS["X-API-Key"], "reader-1:read", "writer-1:write:default"]
    app = create_app(
        Settings(api_keys=keys, database_url=f"sqlite:///{tmp_path / 'r.db'}", data_dir=tmp_path)
    )
    with TestClient(app) as c:
        yield c


def test_a_read_key_reads_but_cannot_post_and_is_told_the_role_needed(roles_client, curves, spec):
    c = roles_client
    made = c.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec}).json()
    assert c.get("/v1/plans", headers=READER).status_code == 200
    assert c.get(f"/v1/plans/{made['id']}", headers=READER).status_code == 200
    assert c.get(f"/v1/plans/{made['id']}.csv", headers=READER).status_code == 200
    for url, body in (
        ("/v1/plans", {"curves": curves, "spec": spec}),
        ("/v1/frontiers", {"curves": curves, "spec": spec, "budgets": [1000]}),
        ("/v1/forecasts", {"from": "2027-01-04", "to": "2027-01-31"}),
        ("/v1/scenario-runs", {"name": "s", "curves": curves, "spec": spec}),
    ):
        r = c.post(url, headers=READER, json=body)
        assert r.status_code == 403, (url, r.text)
        err = r.json()
        assert err["error"] == "forbidden" and err["needed_role"] == "write"
        assert err["role"] == "read" and "'write'" in err["detail"]
    assert c.delete(f"/v1/plans/{made['id']}", headers=READER).status_code == 403
    assert c.get(f"/v1/plans/{made['id']}", headers=HEADERS).status_code == 200


def test_a_write_key_posts_but_only_admin_deletes_or_rotates(roles_client, curves, spec):
    c = roles_client
    r = c.post("/v1/plans", headers=WRITER, json={"curves": curves, "spec": spec})
    assert r.status_code == 201
    pid = r.json()["id"]
    for method, url in (("delete", f"/v1/plans/{pid}"), ("post", f"/v1/plans/{pid}/token")):
        r = c.request(method, url, headers=WRITER)
        assert r.status_code == 403, url
        assert r.json()["needed_role"] == "admin" and "'admin'" in r.json()["detail"]
    assert c.post(f"/v1/plans/{pid}/token", headers=HEADERS).status_code == 200
    assert c.delete(f"/v1/plans/{pid}", headers=HEADERS).status_code == 204


@pytest.mark.parametrize("name", ["api_key", "key", "x-api-key", "API_KEY", "apikey", "X_Api_Key"])
@pytest.mark.parametrize("url", ["/v1/plans", "/v1/plans/abc", "/v1/plans/abc.csv"])
def test_a_key_in_the_query_string_is_refused_even_with_a_good_header(client, name, url):
    secret = HEADERS["X-API-Key"]
    r = client.get(url, params={name: secret}, headers=HEADERS)
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["error"] == "unauthorized" and "X-API-Key header" in body["detail"]
    assert secret not in r.text
    assert r.headers["www-authenticate"] == "ApiKey"


def test_a_key_in_the_query_string_is_refused_on_posts_too(client, curves, spec):
    r = client.post(
        "/v1/plans", params={"api_key": "x"}, headers=HEADERS, json={"curves": curves, "spec": spec}
    )
    assert r.status_code == 401 and "X-API-Key header" in r.json()["detail"]
    assert client.get("/v1/plans", headers=HEADERS).json()["items"] == []  # nothing was made


# -- ADPLAN_API_KEYS: KEY, KEY:ROLE or KEY:ROLE:WORKSPACE; a malformed entry stops the start --


def test_key_entries_give_roles_and_workspaces_and_a_bare_key_is_an_admin_of_default():
    from service.settings import Settings

    s = Settings(api_keys="k1, k2:read ,k3:write:acme,k4:admin:team.b-2")
    assert s.api_keys == ("k1", "k2:read", "k3:write:acme", "k4:admin:team.b-2")
    got = [(k.key, k.role, k.workspace) for k in s.keys]
    assert got == [
        ("k1", "admin", "default"),
        ("k2", "read", "default"),
        ("k3", "write", "acme"),
        ("k4", "admin", "team.b-2"),
    ]
    assert "k3" not in repr(s.keys) and "k1" not in repr(s)


@pytest.mark.parametrize(
    ("entries", "what"),
    [
        ("good,sec-ret:owner", "entry 2 has the unknown role 'owner'"),
        ("sec-ret:read:", "entry 1 has the malformed workspace"),
        ("sec-ret:read:a/b", "entry 1 has the malformed workspace"),
        (":read", "entry 1 has an empty key"),
        ("sec ret", "entry 1 has an empty key or a key with spaces"),
        ("sec-ret:read:ws:x", "entry 1 has more than two ':'"),
        ("sec-ret,sec-ret:read", "entry 2 repeats the key of entry 1"),
    ],
)
def test_malformed_key_entries_are_refused_with_the_syntax_never_the_key(entries, what):
    from pydantic import ValidationError

    from service.settings import Settings

    with pytest.raises(ValidationError) as e:
        Settings(api_keys=entries)
    text = str(e.value)
    assert what in text
    assert "sec-ret" not in text and "sec ret" not in text
    if "repeats" not in what:
        assert "KEY:ROLE:WORKSPACE" in text and "read, write or admin" in text


def test_serve_refuses_a_malformed_key_entry_at_start_up(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app

    r = CliRunner().invoke(
        app,
        ["serve", "--port", "0"],
        env={"ADPLAN_API_KEYS": "s3cr3t-key:superuser", "ADPLAN_DATA_DIR": str(tmp_path)},
    )
    assert r.exit_code == 2, r.output
    assert "ADPLAN_API_KEYS" in r.output and "KEY:ROLE:WORKSPACE" in r.output
    assert "s3cr3t-key" not in r.output


@pytest.mark.parametrize("param", ["token", "api_key", "API-KEY", "key", "x-api-key"])
def test_access_log_hides_tokens_and_keys_in_the_url(param):
    import logging

    from service.app import RedactTokens

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s"', ("1.2.3.4", "GET", ""), None
    )
    record.args = ("1.2.3.4", "GET", f"/v1/plans?limit=5&{param}=s3cr3t&x=1")
    RedactTokens().filter(record)
    assert "s3cr3t" not in str(record.args) and f"{param}=***" in str(record.args)
