"""A plan is serialised once (stored text = response body) and reads back identical;
the serving process tunes the garbage collector when it starts.
"""

from __future__ import annotations

import gc
import json
import sqlite3

import pytest

from .conftest import HEADERS


@pytest.fixture
def unusual(curves, spec) -> dict:
    """Curves with non-ASCII names, a metadata key and a value per result."""
    curves["lines"][1]["segment"] = "f-25-34 ñandú 😀"
    curves["lines"][0]["value_per_result"] = 12.5
    curves["source"] = {"model": "test", "note": 'quotes " and \\ backslash'}
    spec["segments"] = {"f-25-34 ñandú 😀": {"max": 2500}}
    return {"curves": curves, "spec": spec, "name": "plan ü"}


def test_post_response_is_the_stored_plan_plus_id_and_links(client, unusual, tmp_path):
    r = client.post("/v1/plans", headers=HEADERS, json=unusual)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json"
    posted = r.json()
    assert r.headers["location"] == posted["links"]["self"]
    assert posted["name"] == "plan ü" and posted["kind"] == "curves"
    assert {ln["segment"] for ln in posted["lines"]} >= {"f-25-34 ñandú 😀"}
    assert posted["status"] == "optimal"

    got = client.get(f"/v1/plans/{posted['id']}", headers=HEADERS).json()
    same = {k: v for k, v in posted.items() if k != "links"}
    assert {k: v for k, v in got.items() if k != "links"} == same
    assert got["links"]["self"] == posted["links"]["self"]

    # the stored result column is the response's plan, as strict JSON text
    with sqlite3.connect(tmp_path / "adplan.db") as db:
        result_text, inputs_text = db.execute(
            "SELECT result, inputs FROM plans WHERE id = ?", (posted["id"],)
        ).fetchone()
    stored = json.loads(result_text)
    assert stored == {
        k: v for k, v in same.items() if k not in ("id", "created_at", "name", "kind")
    }
    assert "NaN" not in result_text and "Infinity" not in result_text
    assert json.loads(inputs_text)["spec"] == unusual["spec"]


def test_inputs_read_back_as_validated_curves_and_spec(client, unusual):
    posted = client.post("/v1/plans", headers=HEADERS, json=unusual).json()
    got = client.get(
        f"/v1/plans/{posted['id']}", headers=HEADERS, params={"include_inputs": "true"}
    ).json()
    inputs = got["inputs"]
    assert inputs["spec"] == unusual["spec"]
    curves = inputs["curves"]
    assert curves["source"] == unusual["curves"]["source"]
    assert curves["currency"] == "EUR" and curves["result_type"] == "purchases"
    sent = {(ln["network"], ln["segment"], ln["period"]): ln for ln in unusual["curves"]["lines"]}
    assert len(curves["lines"]) == len(sent)
    for ln in curves["lines"]:
        want = sent[(ln["network"], ln["segment"], ln["period"])]
        assert ln["points"] == [[float(x), float(y)] for x, y in want["points"]]
        assert ln.get("value_per_result") == want.get("value_per_result")


def test_server_start_freezes_startup_objects_and_raises_gen0_threshold(app):
    from fastapi.testclient import TestClient

    from service.app import GC_GEN0_THRESHOLD

    before = gc.get_threshold()
    try:
        gc.unfreeze()
        gc.set_threshold(700, before[1], before[2])
        with TestClient(app) as c:  # runs the lifespan, as uvicorn does
            assert c.get("/health").status_code == 200
            assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize(
    "result",
    [
        {"status": "optimal", "lines": [{"spend": 1.5, "segment": "é"}], "total_spend": 1.5},
        {"status": "optimal", "kind": "not the service's", "id": "taken"},  # falls back
        {},
    ],
)
def test_spliced_response_equals_plan_out(settings, result):
    from datetime import UTC, datetime

    from starlette.requests import Request

    from service.db import StoredPlan, dump_json
    from service.routers.plans import plan_json_response, plan_out

    request = Request(
        {"type": "http", "scheme": "http", "server": ("h", 80), "path": "/", "headers": []}
    )
    plan = StoredPlan(
        id="a" * 32,
        created_at=datetime(2027, 1, 4, tzinfo=UTC),
        kind="curves",
        name=None,
        scenario_run_id=None,
        inputs=None,
        result=result,
    )
    r = plan_json_response(request, settings, plan, "tok", dump_json(result), status_code=201)
    want = plan_out(request, settings, plan, "tok")
    assert json.loads(r.body) == want
    assert r.body.count(b'"kind"') == 1 and r.body.count(b'"id"') == 1  # no key twice
    assert want["kind"] == "curves" and want["id"] == "a" * 32
    assert r.status_code == 201 and r.headers["location"] == want["links"]["self"]
