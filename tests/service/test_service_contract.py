"""The OpenAPI document is the truth: every status and body the server sends is in it.

Every operation declares each error status it can answer with the one error model
(``ErrorBody``), never FastAPI's ``HTTPValidationError`` and never 400; the bodies the server
really sends match that model; a body nested too deeply, not UTF-8, or carrying a control
character in a name is 422 with that body, never a 500 or a 400.
"""

from __future__ import annotations

import json

import pytest

from .conftest import HEADERS

ERROR_REF = "#/components/schemas/ErrorBody"
HEAVY = {
    "/v1/plans",
    "/v1/plans/{plan_id}/delta",
    "/v1/plans/{plan_id}/replan",
    "/v1/forecasts",
    "/v1/frontiers",
    "/v1/scenario-runs",
}


def _operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path.startswith("/v1/"):
                yield path, method, op


def _expected(path: str, method: str) -> set[str]:
    statuses = {"401", "403", "408", "413", "422", "500"}
    if "{" in path and path != "/v1/feeds/{name}/{kind}.odc":  # a token: an unknown name is 403
        statuses.add("404")
    if method == "post" or path == "/v1/feeds/{name}/{kind}.csv":  # 409: feed_unavailable
        statuses.add("409")
        if path in HEAVY:
            statuses.add("503")
    return statuses


def test_every_operation_documents_every_error_status_with_the_error_body(client):
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "ErrorBody" in doc["components"]["schemas"]
    seen = 0
    for path, method, op in _operations(doc):
        responses = op["responses"]
        errors = {s for s in responses if s >= "4"}
        assert errors == _expected(path, method), (method, path, sorted(errors))
        assert "400" not in responses
        for status in errors:
            content = responses[status]["content"]
            assert content == {"application/json": {"schema": {"$ref": ERROR_REF}}}, status
        assert "WWW-Authenticate" in responses["401"]["headers"]
        if "503" in responses:
            assert "Retry-After" in responses["503"]["headers"]
        if method == "post":
            assert "Retry-After" in responses["409"]["headers"]
            names = [p["name"] for p in op.get("parameters", [])]
            assert "Idempotency-Key" in names, path
        seen += 1
    assert seen == 18


def test_links_lead_from_a_new_plan_to_its_operations(client):
    doc = client.get("/openapi.json").json()
    ids = {op.get("operationId") for _, _, op in _operations(doc)}
    links = doc["paths"]["/v1/plans"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "get_plan",
        "get_plan_csv",
        "get_plan_xlsx",
        "rotate_plan_token",
        "delete_plan",
    }
    for link in links.values():
        assert link["operationId"] in ids
        assert link["parameters"] == {"plan_id": "$response.body#/id"}
    run_links = doc["paths"]["/v1/scenario-runs"]["post"]["responses"]["201"]["links"]
    assert run_links["GetScenarioRun"]["parameters"] == {"run_id": "$response.body#/id"}


def _is_error_body(r, status: int, code: str | None = None) -> dict:
    from service.schemas import ErrorBody

    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    ErrorBody.model_validate(body)  # the documented model (types of every field included)
    if code is not None:
        assert body["error"] == code, body
    return body


def test_the_bodies_sent_are_the_documented_model(client, curves, spec, posted):
    pid = posted["id"]
    _is_error_body(client.get("/v1/plans"), 401, "unauthorized")
    _is_error_body(client.get(f"/v1/plans/{pid}.csv", params={"token": "x" * 43}), 403)
    _is_error_body(client.get("/v1/plans/nope", headers=HEADERS), 404, "not_found")
    _is_error_body(client.get("/v1/plans?limit=0", headers=HEADERS), 422, "invalid_request")
    body = _is_error_body(client.post("/v1/plans", headers=HEADERS, json={}), 422)
    assert body["errors"][0]["loc"] == ["body", "spec"]
    infeasible = {"curves": curves, "spec": {"budget": 6000, "networks": {"meta": {"min": 1e9}}}}
    body = _is_error_body(client.post("/v1/plans", headers=HEADERS, json=infeasible), 422)
    assert body["error"] == "infeasible" and body["rules"]
    key = {**HEADERS, "Idempotency-Key": "c-1"}
    client.post("/v1/plans", headers=key, json={"curves": curves, "spec": spec})
    r = client.post("/v1/plans", headers=key, json={"curves": curves, "spec": {"budget": 1}})
    _is_error_body(r, 409, "idempotency_conflict")
    r = client.put("/v1/plans", headers=HEADERS)
    _is_error_body(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD, POST"
    r = client.request("OPTIONS", f"/v1/plans/{pid}", headers=HEADERS)
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, HEAD"


def test_a_body_over_the_size_limit_is_413_with_the_error_body(tmp_path):
    from fastapi.testclient import TestClient

    from service import Settings, create_app

    s = Settings(
        api_keys=[HEADERS["X-API-Key"]],
        database_url=f"sqlite:///{tmp_path / 'l.db'}",
        max_request_bytes=1000,
    )
    with TestClient(create_app(s)) as c:
        r = c.post("/v1/plans", headers=HEADERS, content=b"{" + b" " * 2000 + b"}")
        assert _is_error_body(r, 413, "request_too_large")["limit"] == 1000


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [65, 254, 300, 100_000])
@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/v1/plans", lambda x: b'{"spec": {"budget": 1}, "curves": {"meta": ' + x + b"}}"),
        ("/v1/plans", lambda x: x),
        ("/v1/frontiers", lambda x: b'{"spec": {"budget": 1, "x": ' + x + b'}, "budgets": [1]}'),
        ("/v1/forecasts", lambda x: b'{"from": "2027-01-01", "to": "2027-02-01", "h": ' + x + b"}"),
        ("/v1/scenario-runs", lambda x: b'{"name": "a", "spec": {"budget": 1}, "x": ' + x + b"}"),
    ],
)
def test_deeply_nested_json_is_422_never_a_500(client, url, make, depth):
    r = client.post(
        url, headers={**HEADERS, "Content-Type": "application/json"}, content=make(_nested(depth))
    )
    body = _is_error_body(r, 422, "invalid_request")
    assert "levels deep" in body["detail"] and "limit of 64" in body["detail"]
    assert "Traceback" not in r.text


def test_nesting_up_to_the_limit_is_read_and_brackets_in_strings_do_not_count(client, curves):
    from service.deps import MAX_JSON_DEPTH

    # the body and curves objects are 2 levels: the meta's own nesting makes 64 in all
    deep = json.loads(_nested(MAX_JSON_DEPTH - 2))
    body = {"curves": {**curves, "meta": deep, "note": "[" * 500}, "spec": {"budget": 1000}}
    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 201, r.text
    body["curves"]["meta"] = [deep]  # one more
    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert _is_error_body(r, 422)["detail"].startswith("the body nests arrays and objects 65")


@pytest.mark.parametrize(
    "raw", [b'{"spec": "\xff"}', b'{"name": "\xc3\x28"}', b'{"spec": {"budget": 1}} \x80']
)
def test_a_body_that_is_not_utf8_is_422_not_400(client, raw):
    r = client.post(
        "/v1/plans", headers={**HEADERS, "Content-Type": "application/json"}, content=raw
    )
    assert "UTF-8" in _is_error_body(r, 422, "invalid_request")["detail"]


# -- control characters: one check (optimizer.values), refused naming the field ---------------

ROW = {
    "date": "2026-09-07",
    "network": "meta",
    "segment": "a",
    "result_type": "purchases",
    "spend": 10,
    "results": 1,
}


def _history(**row):
    return {"history": [{**ROW, **row}], "from": "2027-01-04", "to": "2027-01-31"}


@pytest.mark.parametrize(
    ("url", "body", "where"),
    [
        ("/v1/plans", lambda c, s: {"curves": c, "spec": s, "name": "q1\x01"}, "name"),
        ("/v1/plans", lambda c, s: {"curves": c, "spec": s, "name": "a\x00b"}, "name"),
        ("/v1/plans", lambda c, s: {"curves": c, "spec": s, "name": "\u0085x"}, "name"),
        ("/v1/plans", lambda c, s: {"curves": c, "spec": s, "solver": "hi\x7fghs"}, "solver"),
        ("/v1/plans", lambda _c, s: {**_history(network="me\x1bta"), "spec": s}, "network"),
        ("/v1/forecasts", lambda _c, _s: _history(segment="a\tb"), "history.0.segment"),
        ("/v1/forecasts", lambda _c, _s: _history(campaign="x\ny"), "history.0.campaign"),
        (
            "/v1/scenario-runs",
            lambda c, s: {"name": "r", "curves": c, "spec": s, "description": "a\x02"},
            "description",
        ),
        (
            "/v1/scenario-runs",
            lambda c, s: {
                "name": "r",
                "curves": c,
                "spec": s,
                "overrides": {"cost_per_result": {"ti\x01ktok": 1.2}},
            },
            "overrides.cost_per_result",
        ),
        (
            "/v1/scenario-runs",
            lambda c, s: {
                "name": "r",
                "curves": c,
                "spec": s,
                "variants": [{"name": "v", "overrides": {"exclude": {"networks": ["x\x03"]}}}],
            },
            "variants.0.overrides.exclude.networks.0",
        ),
    ],
)
def test_control_characters_in_names_are_422_naming_the_field(
    client, curves, spec, url, body, where
):
    r = client.post(url, headers=HEADERS, json=body(curves, spec))
    err = _is_error_body(r, 422, "invalid_request")
    assert where in err["detail"], err["detail"]
    assert "control character U+" in err["detail"] and "remove it" in err["detail"]
    assert client.get("/v1/plans", headers=HEADERS).json()["items"] == []  # nothing stored


def test_a_variant_name_with_a_control_character_is_422(client, curves, spec):
    doc = {"name": "r", "curves": curves, "spec": spec, "variants": [{"name": "v\x01"}]}
    r = client.post("/v1/scenario-runs", headers=HEADERS, json=doc)
    assert "variants.0.name" in _is_error_body(r, 422, "invalid_request")["detail"]


def test_control_characters_in_curves_and_spec_names_are_422_so_downloads_never_fail(
    client, curves, spec
):
    """The curves' and the spec's names are checked where they are read (the optimizer's
    ``Curves.from_dict`` and ``PlanSpec.from_dict``, the same check): nothing with a control
    character is stored, so no stored plan's XLSX can fail.
    """
    bad_curves = json.loads(json.dumps(curves))
    bad_curves["lines"][0]["segment"] = "f\x0125"
    r = client.post("/v1/plans", headers=HEADERS, json={"curves": bad_curves, "spec": spec})
    if r.status_code == 201:  # stored: its downloads must still work
        pid = r.json()["id"]
        assert client.get(f"/v1/plans/{pid}.xlsx", headers=HEADERS).status_code == 200
    assert "control character U+0001" in _is_error_body(r, 422)["detail"]
    bad_spec = {"budget": 6000, "networks": {"me\x01ta": {"min_share": 0.2}}}
    r = client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": bad_spec})
    assert "control character U+0001" in _is_error_body(r, 422)["detail"]


@pytest.mark.parametrize(
    "name", ['x\\"' + "]" * 80, "a\\\\" + "", "]}" * 80 + '\\\\\\"', '\\"' * 3 + "}" * 70]
)
def test_brackets_and_escaped_quotes_in_strings_cannot_hide_nesting(client, curves, name):
    """Closing brackets inside a string (after escaped quotes and backslashes) do not lower
    the count: the nesting after them is still refused.
    """
    deep = "[" * 70 + "]" * 70
    raw = f'{{"spec": {{"budget": 1000}}, "name": "{name}", "curves": {{"meta": {deep}}}}}'
    assert json.loads(raw)["name"]  # valid JSON
    r = client.post(
        "/v1/plans", headers={**HEADERS, "Content-Type": "application/json"}, content=raw
    )
    assert "levels deep" in _is_error_body(r, 422, "invalid_request")["detail"]
