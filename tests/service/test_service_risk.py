"""Risk over HTTP: objective cvar, targets with a confidence, ranges and frontier bands.

Small curves whose lines carry a forecast's ``spread`` (and one ``low``/``high`` band), so
plans have ranges; every answer is checked against the OpenAPI document's own schemas.
"""

from __future__ import annotations

import copy

import pytest

from .conftest import CURVES, HEADERS

SPREAD = {"level_var": 0.01, "log_spend_centre": 7.0, "elasticity_se": 0.1, "dispersion": 0.02}
#: the service tests' curves (two lines) with a forecast's spread, and a third line from
#: another tool with only low/high
UNSURE = {
    **CURVES,
    "lines": [
        {**CURVES["lines"][0], "spread": SPREAD},
        {**CURVES["lines"][1], "spread": {**SPREAD, "level_var": 0.09}},
        {
            "network": "google",
            "segment": "m-35-44",
            "period": "2027-01",
            "points": [[0, 0], [1500, 60], [4000, 110]],
            "low": [[0, 0], [1500, 45], [4000, 85]],
            "high": [[0, 0], [1500, 75], [4000, 135]],
        },
    ],
}


@pytest.fixture
def unsure() -> dict:
    return copy.deepcopy(UNSURE)


@pytest.fixture
def documented(client):
    """Return ``check(body, component)``: the body is valid against the OpenAPI component."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    doc = client.get("/openapi.json").json()

    def check(body: dict, component: str) -> dict:
        schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
        jsonschema_rs.validator_for(schema).validate(body)
        return body

    return check


def _plan(client, **body) -> dict:
    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _ordered(band: dict) -> bool:
    return band["p10"] <= band["p50"] <= band["p90"]


def test_a_cvar_plan_has_its_risk_and_ranges(client, unsure, documented):
    plan = _plan(client, curves=unsure, spec={"budget": 6000, "objective": "cvar", "alpha": 0.2})
    documented(plan, "PlanOut")
    assert plan["objective"] == "cvar"
    risk = plan["risk"]
    assert risk["objective"] == "cvar" and risk["alpha"] == pytest.approx(0.2)
    for figures in (risk["this_plan"], risk["mean_plan"]):
        assert figures["p10"] <= figures["mean"] and figures["tail_mean"] <= figures["p10"]
    assert risk["mean_results_given_up"] >= -1e-6  # the mean plan has the most expected results
    assert risk["lp"]["rows"] > 0 and "gives up" in risk["words"]
    ranges = plan["ranges"]
    assert ranges["source"] == "mixed" and ranges["scenarios"] > 1
    assert _ordered(ranges["total"]) and ranges["total"]["p10"] < ranges["total"]["p90"]
    assert set(ranges["networks"]) == {ln["network"] for ln in plan["lines"] if ln["spend"] > 0}
    assert all(_ordered(b) for b in ranges["networks"].values())
    assert all(ln["results_p10"] <= ln["results_p90"] for ln in plan["lines"])
    got = client.get(f"/v1/plans/{plan['id']}", headers=HEADERS).json()
    for key in ("risk", "ranges", "lines"):
        assert got[key] == plan[key]
    documented(got, "PlanOut")


def test_a_plain_plan_has_ranges_and_no_target_or_risk_keys(client, unsure, documented):
    plan = _plan(client, curves=unsure, spec={"budget": 6000})
    assert plan["objective"] == "results" and _ordered(plan["ranges"]["total"])
    got = client.get(f"/v1/plans/{plan['id']}", headers=HEADERS).json()
    for key in ("risk", "target_results", "target_probability", "target_confidence"):
        assert key not in plan and key not in got  # absent, never null
    documented(got, "PlanOut")


def test_a_target_with_confidence_costs_more_and_reaches_it(client, unsure, documented):
    target = {"curves": unsure, "spec": {"budget": 6000}, "target_results": 200}
    mean = _plan(client, **target)
    sure = _plan(client, **target, confidence=0.9)
    documented(sure, "PlanOut")
    assert mean["target_results"] == 200 and "target_confidence" not in mean
    assert 0 <= mean["target_probability"] < 0.9
    assert sure["target_confidence"] == 0.9 and sure["target_probability"] >= 0.9
    assert sure["budget"] > mean["budget"] and sure["total_spend"] > mean["total_spend"]
    assert sure["expected_results"] > 200
    # how the plan was asked for is kept with it; a delta from it is a plan at a budget
    back = client.get(f"/v1/plans/{sure['id']}?include_inputs=true", headers=HEADERS).json()
    assert back["inputs"]["target_results"] == 200 and back["inputs"]["confidence"] == 0.9
    r = client.post(f"/v1/plans/{sure['id']}/delta", headers=HEADERS, json={"extra": 100})
    assert r.status_code == 201, r.text
    more = client.get(f"/v1/plans/{r.json()['id']}?include_inputs=true", headers=HEADERS).json()
    assert "target_results" not in more["inputs"] and "confidence" not in more["inputs"]


def _refused(client, body: dict, code: str) -> dict:
    from service.schemas import ErrorBody

    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 422, r.text
    out = r.json()
    ErrorBody.model_validate(out)
    assert out["error"] == code, out
    return out


@pytest.mark.parametrize(
    ("extra", "spec", "code", "words"),
    [
        ({"confidence": 0.9}, {}, "invalid_request", ("'confidence'", "'target_results'")),
        ({"target_results": 100, "confidence": 1.5}, {}, "invalid_request", ("confidence",)),
        ({"target_results": 100, "confidence": 0}, {}, "invalid_request", ("confidence",)),
        ({"target_results": 100, "confidence": "sure"}, {}, "invalid_request", ("confidence",)),
        ({"target_results": -1}, {}, "invalid_request", ("target_results",)),
        ({}, {"objective": "cvar", "alpha": 1.5}, "invalid_spec", ("spec.alpha",)),
        ({}, {"objective": "cvar", "alpha": 0}, "invalid_spec", ("spec.alpha",)),
        ({}, {"objective": "cvar", "alpha": "half"}, "invalid_spec", ("alpha",)),
        ({}, {"alpha": 0.1}, "invalid_spec", ("spec.alpha", "cvar")),
        ({}, {"objective": "cvar", "min_line_spend": 100}, "invalid_spec", ("cvar",)),
        ({}, {"objective": "risky"}, "invalid_spec", ("cvar",)),
    ],
)
def test_a_bad_alpha_or_confidence_is_422_naming_the_field(
    client, unsure, extra, spec, code, words
):
    body = {"curves": unsure, "spec": {"budget": 6000, **spec}, **extra}
    detail = _refused(client, body, code)["detail"]
    assert all(w in detail for w in words), detail
    assert client.get("/v1/plans", headers=HEADERS).json()["items"] == []  # nothing stored


def test_a_confidence_out_of_reach_is_infeasible_like_any_plan(client, unsure):
    body = {"curves": unsure, "spec": {"budget": 6000}, "target_results": 400}
    assert _plan(client, **body)["target_probability"] < 0.5  # reachable on average
    out = _refused(client, {**body, "confidence": 0.999}, "infeasible")
    assert out["rules"] == ["target_results"] and out["diagnosis"][0]["needed"] == 0.999
    assert "probability 0.999" in out["detail"]


@pytest.mark.parametrize("objective", ["results", "cvar"])
def test_frontier_points_have_their_results_band(client, unsure, documented, objective):
    spec = {"budget": 6000, "objective": objective, "networks": {"meta": {"min": 2000}}}
    body = {"curves": unsure, "spec": spec, "budgets": [1000, 3000, 9000]}
    r = client.post("/v1/frontiers", headers=HEADERS, json=body)
    assert r.status_code == 200, r.text
    points = documented(r.json(), "FrontierOut")["points"]
    assert points[0]["status"] == "infeasible"  # below meta's minimum
    assert [points[0][k] for k in ("results_p10", "results_p50", "results_p90")] == [None] * 3
    for p in points[1:]:
        assert p["results_p10"] <= p["results_p50"] <= p["results_p90"]
        assert p["results_p10"] < p["expected_results"] < p["results_p90"]


def test_the_openapi_document_describes_risk_requests_and_answers(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for body in ("SpecBody", "SpecPatchBody"):
        props = schemas[body]["properties"]
        assert "cvar" in props["objective"]["anyOf"][0]["enum"]
        alpha = props["alpha"]["anyOf"][0]
        assert (alpha["exclusiveMinimum"], alpha["exclusiveMaximum"]) == (0, 1)
        assert "cvar" in props["alpha"]["description"]
    request = schemas["PlanRequest"]["properties"]
    assert request["confidence"]["anyOf"][0]["exclusiveMaximum"] == 1
    assert "target_results" in request["confidence"]["description"]
    assert "spread" in schemas["CurveLineBody"]["properties"]
    plan = schemas["PlanOut"]["properties"]
    for key in ("ranges", "risk", "target_probability", "target_confidence", "target_results"):
        assert plan[key]["description"], key
    assert plan["lines"]["items"] == {"$ref": "#/components/schemas/PlanLineOut"}
    assert {"results_p10", "results_p90"} <= set(schemas["PlanLineOut"]["properties"])
    assert {"total", "cost_per_result", "networks"} <= set(schemas["RangesOut"]["required"])
    assert {"this_plan", "mean_plan", "lp"} <= set(schemas["RiskOut"]["required"])
    band = {"results_p10", "results_p50", "results_p90"}
    assert band <= set(schemas["FrontierPointOut"]["required"])
    assert (
        "beats_base_probability"
        in schemas["ScenarioRunOut"]["properties"]["comparison"]["description"]
    )


@pytest.mark.parametrize("name", ["cvar", "target"])
def test_the_documented_examples_make_plans(client, documented, name):
    from service.routers.plans import PLAN_EXAMPLES

    plan = _plan(client, **copy.deepcopy(PLAN_EXAMPLES[name]["value"]))
    documented(plan, "PlanOut")
    assert "risk" in plan if name == "cvar" else plan["target_probability"] >= 0.9
