"""History over HTTP: POST /v1/forecasts, and POST /v1/plans with history rows."""

from __future__ import annotations

import pytest

from .conftest import HEADERS


@pytest.fixture(scope="module")
def history_rows() -> list[dict]:
    from forecasting import generate_sample_history

    df = generate_sample_history(
        seed=3,
        networks=["meta", "tiktok"],
        segments=["f-25-34", "m-35-44"],
        weeks=52,
        start="2026-01-05",
    )
    rows = []
    for rec in df.to_dict(orient="records"):
        rec["date"] = rec["date"].date().isoformat()
        rows.append({k: v for k, v in rec.items() if v == v and v is not None})
    return rows


SPAN = {"from": "2027-01-04", "to": "2027-02-28", "period": "week"}


def test_forecast_returns_curves_for_every_line(client, history_rows):
    from optimizer import Curves

    r = client.post("/v1/forecasts", headers=HEADERS, json={"history": history_rows, **SPAN})
    assert r.status_code == 200, r.text
    body = r.json()
    curves = Curves.from_dict(body["curves"])  # valid, concave curves
    assert set(curves.networks) == {"meta", "tiktok"}
    assert set(curves.segments) == {"f-25-34", "m-35-44"}
    assert len(curves.periods) == 8  # the weeks from 2027-01-04 to 2027-02-28
    assert isinstance(body["warnings"], list)


def test_forecast_curves_can_be_posted_back_as_a_plan(client, history_rows):
    fc = client.post("/v1/forecasts", headers=HEADERS, json={"history": history_rows, **SPAN})
    r = client.post(
        "/v1/plans",
        headers=HEADERS,
        json={"curves": fc.json()["curves"], "spec": {"budget": 20000}},
    )
    assert r.status_code == 201, r.text


def test_plan_from_history_rows(client, history_rows):
    body = {
        "history": history_rows,
        **SPAN,
        "spec": {"budget": 20000, "networks": {"tiktok": {"max_share": 0.4}}},
    }
    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["kind"] == "history" and plan["status"] == "optimal"
    assert plan["total_spend"] <= 20000 + 1e-6
    tiktok = sum(ln["spend"] for ln in plan["lines"] if ln["network"] == "tiktok")
    assert tiktok <= 0.4 * plan["total_spend"] + 1e-6
    back = client.get(f"/v1/plans/{plan['id']}?include_inputs=true", headers=HEADERS).json()
    assert len(back["inputs"]["history"]) == len(history_rows)
    assert back["inputs"]["from"] == "2027-01-04" and back["inputs"]["period"] == "week"
    assert back["inputs"]["curves"]["lines"]
    assert client.get(plan["links"]["csv"]).status_code == 200


def test_plan_from_history_with_an_unknown_network_rule_is_422(client, history_rows):
    body = {
        "history": history_rows,
        **SPAN,
        "spec": {"budget": 20000, "networks": {"x": {"max": 1}}},
    }
    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 422 and "'x'" in r.json()["detail"]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"spend": -5}, "spend"),
        ({"results": "many"}, "results"),
        ({"date": "2026-13-45"}, "date"),
        ({"impressions": 10, "colour": "blue"}, "colour"),
        ({"network": ""}, "network"),
    ],
)
def test_bad_history_rows_are_422_naming_the_field(client, history_rows, change, needle):
    rows = [dict(r) for r in history_rows[:20]]
    rows[3].update(change)
    r = client.post("/v1/forecasts", headers=HEADERS, json={"history": rows, **SPAN})
    assert r.status_code == 422, r.text
    assert needle in r.text
    assert ["body", "history", "3"] == r.json()["errors"][0]["loc"][:3]


def test_thin_history_is_forecast_with_warnings(client, history_rows):
    r = client.post("/v1/forecasts", headers=HEADERS, json={"history": history_rows[:2], **SPAN})
    assert r.status_code == 200, r.text
    assert r.json()["warnings"]


def test_unknown_result_type_is_422(client, history_rows):
    body = {"history": history_rows[:40], **SPAN, "result_type": "leads"}
    r = client.post("/v1/forecasts", headers=HEADERS, json=body)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_history" and "leads" in r.json()["detail"]


def test_a_span_too_long_is_422_before_forecasting(client, history_rows):
    body = {"history": history_rows[:40], "from": "2027-01-01", "to": "2200-12-31"}
    r = client.post("/v1/forecasts", headers=HEADERS, json=body)
    assert r.status_code == 422
    assert r.json()["setting"] == "ADPLAN_MAX_LINES"


def test_duplicate_history_rows_are_422(client, history_rows):
    rows = history_rows[:40] + history_rows[:1]
    r = client.post("/v1/forecasts", headers=HEADERS, json={"history": rows, **SPAN})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_history"


def test_scenario_run_from_history_rows(client, history_rows):
    doc = {
        "name": "q1",
        "history": history_rows,
        **SPAN,
        "spec": {"budget": 20000},
        "variants": [{"name": "more", "spec": {"budget": 30000}}],
    }
    r = client.post("/v1/scenario-runs", headers=HEADERS, json=doc)
    assert r.status_code == 201, r.text
    plans = {p["variant"]: p["plan"] for p in r.json()["plans"]}
    assert plans["more"]["expected_results"] > plans["q1"]["expected_results"]
