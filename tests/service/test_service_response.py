"""HTTP bodies that forecast take ``response``: carry-over, season, shape, events, priors, lift.

The options of ``adplan forecast --carryover ... --incremental`` with the files' content
inline, read by ``forecasting.options.response_options``; a refusal is 422 naming the field;
the start-up history's forecast cache keeps one fit per window and response; the OpenAPI
document describes the options and the plans' results keys.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from forecasting.options import DEFAULT_RESPONSE, response_options
from tests.power_history import power_law_rows

from .conftest import CURVES, HEADERS, KEY

SPAN = {"from": "2027-01-04", "to": "2027-01-31", "period": "week"}
FORECASTING = ("ForecastRequest", "PlanRequest", "FrontierRequest", "ScenarioRunRequest")
EVENTS = [
    {"name": "Spring sale", "start": "2026-03-02", "end": "2026-03-08", "promotion": True},
    {"name": "Spring sale", "start": "2027-01-11", "end": "2027-01-17", "promotion": True},
]
LIFT = [
    {"network": "meta", "incremental_per_result": 0.6, "low": 0.4, "high": 0.8, "level": 0.9},
    {"network": "tiktok", "incremental_per_result": 0.9, "low": 0.6, "high": 1.3},
]
PRIORS = {"priors": [{"network": "meta", "cpr": 14, "elasticity": 0.6}]}


def history_rows() -> list[dict]:
    """20 weeks of two lines whose results follow 0.2 x spend^0.8."""
    return power_law_rows(20, (("meta", 800.0), ("tiktok", 400.0)), pace=0.9)


def post(client, path: str, body: dict):
    return client.post(path, headers=HEADERS, json=body)


def refused(r, field: str) -> str:
    """Check a 422 refusing ``field`` (its location in the body); return its detail."""
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_request"
    assert body["errors"][0]["loc"] == ["body", *field.split(".")]
    assert body["detail"].startswith(f"{field}: ")
    return body["detail"]


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/forecasts", "/v1/plans", "/v1/frontiers"])
@pytest.mark.parametrize(
    ("response", "field", "needle"),
    [
        ({"carryover": 2}, "response.carryover", "carryover '2' is not a carry-over: give 'auto'"),
        ({"carryover": "x"}, "response.carryover", "carryover 'x' is not a carry-over"),
        ({"carryover": True}, "response.carryover", "is not a carry-over"),
        ({"season": "weekly"}, "response.season", "season 'weekly' is not one of auto, common"),
        ({"shape": 3}, "response.shape", "shape '3' is not one of auto, power, hill"),
        ({"results": "incremental"}, "response.results", "incremental results need lift tests"),
        ({"events": [{"name": "x", "start": "2027-13-01"}]}, "response.events.0.start",
         "'2027-13-01' is not a date: write it as YYYY-MM-DD"),
        ({"events": [{"name": "x", "start": "2027-01-08", "end": "2027-01-01"}]},
         "response.events", "events[0], key \"end\": 2027-01-01 is before the start"),
        ({"events": [{"name": "x"}]}, "response.events", "the start is missing"),
        ({"events": []}, "response.events", "at least 1 item"),
        ({"priors": {"priors": [{"network": "meta", "elasticity": 1.4}]}}, "response.priors",
         "priors[0], elasticity: 1.4 is outside 0.05..1"),
        ({"priors": [{"network": "meta"}]}, "response.priors", "valid dictionary"),
        ({"lift": [{"network": "meta", "incremental_per_result": 0.5, "low": 0.6, "high": 1}]},
         "response.lift", "does not hold the ratio"),
        ({"lift": [{"network": "meta", "incremental_per_result": 0.5}]}, "response.lift.0.low",
         "Field required"),
        ({"decay": 0.3}, "response.decay", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_a_bad_response_is_422_naming_the_field(client, path, response, field, needle):
    body = {"history": history_rows(), **SPAN, "response": response}
    if path != "/v1/forecasts":
        body["spec"] = {"budget": 1000}
    if path == "/v1/frontiers":
        body["budgets"] = [1000]
    detail = refused(post(client, path, body), field)
    assert needle in detail, detail


def test_a_scenario_run_refuses_a_bad_response_too(client):
    body = {"name": "q", "history": history_rows(), **SPAN, "spec": {"budget": 1000}}
    refused(
        post(client, "/v1/scenario-runs", {**body, "response": {"shape": "x"}}), "response.shape"
    )


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/frontiers", "/v1/scenario-runs"])
def test_a_response_without_a_forecast_is_refused(client, path):
    body = {"curves": CURVES, "spec": {"budget": 1000}, "response": {"carryover": 0.3}}
    body |= {"/v1/frontiers": {"budgets": [1000]}, "/v1/scenario-runs": {"name": "q"}}.get(path, {})
    r = post(client, path, body)
    assert r.status_code == 422, r.text
    assert "'response' applies to curves forecast from history" in r.json()["detail"]


# -- what is read ---------------------------------------------------------------------------


def test_the_body_is_read_into_the_options_response_options_makes():
    from service.schemas import ForecastRequest, response_of

    req = ForecastRequest.model_validate(
        {
            **SPAN,
            "response": {
                "carryover": 0.25,
                "season": "network",
                "shape": "hill",
                "events": EVENTS,
                "priors": PRIORS,
                "lift": LIFT,
                "results": "incremental",
            },
        }
    )
    assert response_of(req.response) == response_options(
        carryover=0.25,
        season="network",
        shape="hill",
        events=EVENTS,
        priors=PRIORS,
        lift=LIFT,
        basis="incremental",
    )
    assert response_of(ForecastRequest.model_validate(SPAN).response) == DEFAULT_RESPONSE


@pytest.mark.parametrize(
    ("key", "value"),
    [("carryover", "0.25"), ("carryover", "AUTO"), ("season", "Network"), ("shape", " hill"),
     ("results", "Incremental")],
)  # fmt: skip
def test_a_body_gives_exactly_what_the_schema_says(client, key, value):
    # JSON is not typed text: "0.25" is not the number 0.25, "Network" not "network"
    body = {"history": history_rows(), **SPAN, "response": {key: value}}
    r = post(client, "/v1/forecasts", body)
    assert r.status_code == 422, r.text
    assert f"response.{key}" in r.text


def test_the_cache_key_holds_the_response():
    import datetime as dt

    from service.operations import Window

    a = Window(dt.date(2027, 1, 4), dt.date(2027, 1, 31))
    b = Window(a.start, a.end, response=response_options(carryover=0.3, lift=LIFT))
    c = Window(a.start, a.end, response=response_options(carryover=0.3, lift=LIFT))
    assert a.key() != b.key() and b.key() == c.key()
    assert hash(b.key()) == hash(c.key())  # frozen options: a dict key
    assert a.key()[-1] == DEFAULT_RESPONSE


# -- forecasts with the options -------------------------------------------------------------


def test_a_forecast_with_the_options_reports_them(client):
    response = {"carryover": 0.5, "season": "common", "events": EVENTS, "lift": LIFT}
    r = post(client, "/v1/forecasts", {"history": history_rows(), **SPAN, "response": response})
    assert r.status_code == 200, r.text
    said = r.json()["response"]
    assert said["carryover"] == {"meta": 0.5, "tiktok": 0.5}
    assert said["season"] == "common"
    assert said["events"] == ["promotion"]
    assert said["lift"] == "lift" and said["basis"] == "attributed"
    lines = {ln["network"]: ln for ln in r.json()["lines"]}
    assert {n: ln["lift"] for n, ln in lines.items()} == {"meta": 0.6, "tiktok": 0.9}


def test_a_plan_forecast_with_the_options_keeps_them_in_its_inputs(client):
    response = {"carryover": 0.3, "lift": LIFT, "results": "incremental"}
    body = {"history": history_rows(), **SPAN, "spec": {"budget": 3000}, "response": response}
    r = post(client, "/v1/plans", body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "optimal"
    back = client.get(f"/v1/plans/{plan['id']}?include_inputs=true", headers=HEADERS).json()
    assert back["inputs"]["response"]["carryover"] == 0.3
    assert back["inputs"]["response"]["results"] == "incremental"
    assert back["inputs"]["response"]["lift"][0]["network"] == "meta"
    for key in ("results_basis", "results_incremental", "results_additive"):
        assert back.get(key) == plan.get(key)  # sent as saved (absent stays absent)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An app with a small start-up history (ADPLAN_HISTORY_PATH)."""
    import csv

    from service import Settings, create_app

    d = tmp_path_factory.mktemp("response-served")
    rows = history_rows()
    with (d / "history.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    settings = Settings(
        api_keys=[KEY], database_url=f"sqlite:///{d / 'a.db'}", history_path=d / "history.csv"
    )
    app = create_app(settings)
    with TestClient(app) as c:
        yield app, c


def test_the_start_up_history_is_forecast_once_per_response(served):
    app, c = served
    cache = app.state.forecast_cache
    before = cache.info()
    r = post(c, "/v1/forecasts", SPAN)
    assert r.status_code == 200, r.text
    with_decay = {**SPAN, "response": {"carryover": 0.4}}
    r = post(c, "/v1/forecasts", with_decay)
    assert r.status_code == 200, r.text
    assert r.json()["response"]["carryover"] == {"meta": 0.4, "tiktok": 0.4}
    assert cache.info()["fits"] == before["fits"] + 2  # another response: another fit
    r = post(c, "/v1/plans", {**with_decay, "spec": {"budget": 3000}})
    assert r.status_code == 201, r.text
    assert cache.info()["fits"] == before["fits"] + 2  # the same response: the cached fit
    assert cache.info()["hits"] == before["hits"] + 1
    assert response_options(carryover=0.4) in {k[-1] for k in cache.keys()}


# -- the OpenAPI document -------------------------------------------------------------------


def test_openapi_documents_the_response(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in FORECASTING:
        prop = schemas[name]["properties"]["response"]
        assert {"$ref": "#/components/schemas/ResponseBody"} in prop["anyOf"], name
        assert prop["description"]
    body = schemas["ResponseBody"]
    assert set(body["properties"]) == {
        "carryover",
        "season",
        "shape",
        "events",
        "priors",
        "lift",
        "results",
    }
    assert body["additionalProperties"] is False
    for key, prop in body["properties"].items():
        assert prop.get("description"), key
    assert body["properties"]["season"]["enum"] == ["auto", "common", "network"]
    assert body["properties"]["shape"]["enum"] == ["auto", "power", "hill"]
    assert body["properties"]["results"]["enum"] == ["attributed", "incremental"]
    assert {"type": "number", "minimum": 0, "maximum": 0.9} in body["properties"]["carryover"][
        "anyOf"
    ]
    assert set(schemas["EventBody"]["properties"]) >= {
        "name",
        "start",
        "end",
        "network",
        "promotion",
    }
    assert set(schemas["PriorsBody"]["properties"]) == {"priors"}
    assert set(schemas["LiftTestBody"]["properties"]) >= {
        "network",
        "segment",
        "result_type",
        "incremental_per_result",
        "low",
        "high",
        "level",
    }
    for name in ("EventBody", "PriorBody", "LiftTestBody"):
        for key, prop in schemas[name]["properties"].items():
            assert prop.get("description"), (name, key)


def test_openapi_documents_the_plans_results(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    plan = schemas["PlanOut"]["properties"]
    for key in (
        "results_inside",
        "results_after",
        "results_attributed",
        "results_incremental",
        "results_basis",
        "results_additive",
        "results_note",
    ):
        assert plan[key]["description"], key
    line = schemas["PlanLineOut"]["properties"]
    for key in ("results_inside", "results_attributed", "results_incremental"):
        assert line[key]["description"], key
    assert {"type": "null"} in plan["results_after"]["anyOf"]
    assert "response" in schemas["ForecastOut"]["properties"]


def test_a_saved_plan_keeps_its_keys_as_saved(client, posted):
    """A plan is sent as saved: the results keys are not added to one that lacks them."""
    got = client.get(f"/v1/plans/{posted['id']}", headers=HEADERS).json()
    for key in ("results_after", "results_note", "results_incremental"):
        assert (key in got) == (key in posted), key
        assert got.get(key) == posted.get(key)


def test_the_lines_priors_add_count_before_anything_is_fitted(client):
    # 4,000 new segments named by priors: 4,002 pairs x up to 6 weeks > ADPLAN_MAX_LINES 20,000
    priors = {
        "priors": [
            {"network": "meta", "segment": f"s{i}", "cpr": 10, "elasticity": 0.7, "spend": 100}
            for i in range(4000)
        ]
    }
    body = {"history": history_rows(), **SPAN, "response": {"priors": priors}}
    r = post(client, "/v1/forecasts", body)
    assert r.status_code == 422, r.text
    assert r.json()["setting"] == "ADPLAN_MAX_LINES"
    assert "4002 network x segment pairs" in r.json()["detail"].replace(",", "")


def test_priors_on_lines_the_history_has_add_no_line_to_the_count():
    import datetime as dt

    from service import Settings
    from service.errors import ProblemTooLarge
    from service.operations import Window, check_window

    settings = Settings(api_keys=[KEY], max_lines=12)  # 2 pairs x up to 6 weeks = 12
    known = {("Facebook", "all"), ("tiktok", "all")}  # as rows spell them: Facebook is meta
    span = (dt.date(2027, 1, 4), dt.date(2027, 1, 31), "week", None, 1.5)
    same = response_options(priors={"priors": [{"network": "meta", "segment": "all", "cpr": 9}]})
    check_window(known, Window(*span, response=same), settings)  # meta/all: not a new line
    new = response_options(priors={"priors": [{"network": "meta", "segment": "x", "cpr": 9,
                                               "elasticity": 0.7, "spend": 10}]})  # fmt: skip
    with pytest.raises(ProblemTooLarge, match="3 network x segment pairs"):
        check_window(known, Window(*span, response=new), settings)


def test_a_carryover_of_four_hundred_digits_is_422_not_500(client):
    body = {"history": history_rows(), **SPAN, "response": {"carryover": 10**400}}
    headers = {**HEADERS, "Content-Type": "application/json"}
    r = client.post("/v1/forecasts", headers=headers, content=json.dumps(body))
    assert r.status_code == 422, r.text
    assert "response.carryover" in r.text
