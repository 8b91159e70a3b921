"""POST /v1/scenario-runs: a scenario document to its variants' plans, all persisted."""

from __future__ import annotations

import pytest

from .conftest import HEADERS


@pytest.fixture
def document(curves) -> dict:
    curves["lines"] = curves["lines"][:2]
    return {
        "name": "q1-2027",
        "curves": curves,
        "spec": {"budget": 6000},
        "overrides": {"cost_per_result": {"tiktok": 1.2}},
        "variants": [
            {"name": "budget-minus-10", "overrides": {"budget": "-10%"}},
            {"name": "no-tiktok", "overrides": {"exclude": {"networks": ["tiktok"]}}},
            {"name": "meta-floor", "spec": {"networks": {"meta": {"min": 50000}}}},
        ],
    }


def test_scenario_run_returns_and_persists_each_variant(client, document):
    r = client.post("/v1/scenario-runs", headers=HEADERS, json=document)
    assert r.status_code == 201, r.text
    run = r.json()
    by = {p["variant"]: p for p in run["plans"]}
    assert list(by) == ["q1-2027", "budget-minus-10", "no-tiktok", "meta-floor"]
    base, minus, no_tt, floor = (by[k] for k in by)
    assert base["status"] == "optimal" and base["plan"]["total_spend"] == pytest.approx(6000)
    assert minus["plan"]["budget"] == pytest.approx(5400)
    assert minus["plan"]["expected_results"] < base["plan"]["expected_results"]
    assert all(ln["network"] != "tiktok" or ln["spend"] == 0 for ln in no_tt["plan"]["lines"])
    # the infeasible variant is reported with its diagnosis and saves no plan
    assert floor["status"] == "infeasible" and floor["plan"] is None and floor["diagnosis"]
    assert "meta" in floor["error"]
    assert run["comparison"]
    # every feasible plan is saved, with its own download token
    for p in (base, minus, no_tt):
        got = client.get(f"/v1/plans/{p['plan_id']}", headers=HEADERS)
        assert got.status_code == 200
        assert got.json()["scenario_run_id"] == run["id"] and got.json()["name"] == p["variant"]
        assert client.get(p["plan"]["links"]["csv"]).status_code == 200
    listed = client.get(f"/v1/plans?scenario_run_id={run['id']}", headers=HEADERS).json()
    assert {it["id"] for it in listed["items"]} == {p["plan_id"] for p in (base, minus, no_tt)}
    # the run reads back
    back = client.get(f"/v1/scenario-runs/{run['id']}", headers=HEADERS)
    assert back.status_code == 200
    assert [p.get("plan_id") for p in back.json()["plans"]] == [
        p.get("plan_id") for p in run["plans"]
    ]


def test_scenario_run_with_frontier(client, document):
    document["frontier"] = True
    document["variants"] = []
    r = client.post("/v1/scenario-runs", headers=HEADERS, json=document)
    assert r.status_code == 201
    assert len(r.json()["frontier"]) >= 5


@pytest.mark.parametrize(
    ("patch", "status", "needle"),
    [
        ({"curves": "curves.json"}, 422, "curves"),  # no paths over HTTP
        ({"spec": "plan.yaml"}, 422, "spec"),
        ({"name": "../etc"}, 422, "name"),
        ({"variants": [{"name": "q1-2027"}]}, 422, "unique"),
        ({"variants": [{"name": "a", "overrides": {"budget": "ten percent"}}]}, 422, "budget"),
        ({"overrides": {"cost_per_result": {"myspace": 1.1}}}, 422, "myspace"),
        ({"overrides": {"exclude": {"networks": ["myspace"]}}}, 422, "myspace"),
        (
            {"variants": [{"name": "a", "spec": {"networks": {"myspace": {"max": 1}}}}]},
            422,
            "myspace",
        ),
    ],
)
def test_bad_scenario_documents_are_422(client, document, patch, status, needle):
    document.update(patch)
    r = client.post("/v1/scenario-runs", headers=HEADERS, json=document)
    assert r.status_code == status, r.text
    assert needle in r.text


def test_unknown_scenario_run_is_404(client):
    assert client.get("/v1/scenario-runs/nope", headers=HEADERS).status_code == 404
