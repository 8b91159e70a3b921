"""HTTP bodies read dates as the commands do and take ``cap_multiple`` where they forecast.

``from``, ``to`` and history rows' ``date`` are YYYY-MM-DD within 1900-01-01..2200-12-31 or
422 naming the field and the value, with an example (never a 500, never read another way);
``cap_multiple`` (1 to 10, default 1.5) sets where forecast curves end, and the OpenAPI
document says so.
"""

from __future__ import annotations

import pytest

from tests.power_history import power_law_rows

from .conftest import CURVES, HEADERS

EXAMPLE = "write it as YYYY-MM-DD, e.g. 2027-01-04"
SPAN = {"from": "2027-01-04", "to": "2027-01-31", "period": "week"}
FORECASTING = ("ForecastRequest", "PlanRequest", "FrontierRequest", "ScenarioRunRequest")


def history_rows() -> list[dict]:
    """20 weeks of two lines whose results follow 0.2 x spend^0.8."""
    return power_law_rows(20, (("meta", 800.0), ("tiktok", 400.0)), pace=0.9)


def highest_spend() -> dict[str, float]:
    top: dict[str, float] = {}
    for r in history_rows():
        top[r["network"]] = max(top.get(r["network"], 0.0), r["spend"])
    return top


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


# -- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1700000000, "1700000000"),
        ("2027-01-04T00:00:00Z", "'2027-01-04T00:00:00Z'"),
        ("01/04/2027", "'01/04/2027'"),
        ("20270104", "'20270104'"),
        ("2027-W01-1", "'2027-W01-1'"),
        (None, "None"),
    ],
)
def test_a_from_that_is_not_yyyy_mm_dd_is_422_naming_the_field(client, value, shown):
    r = post(client, "/v1/forecasts", {"history": history_rows(), **SPAN, "from": value})
    assert refused(r, "from") == f"from: {shown} is not a date: {EXAMPLE}"


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/frontiers", "/v1/scenario-runs"])
def test_every_request_that_forecasts_reads_to_the_same_way(client, path):
    body = {"history": history_rows(), **SPAN, "to": 1800000000, "spec": {"budget": 1000}}
    body |= {"budgets": [1000]} if path == "/v1/frontiers" else {}
    body |= {"name": "q1"} if path == "/v1/scenario-runs" else {}
    assert refused(post(client, path, body), "to") == f"to: 1800000000 is not a date: {EXAMPLE}"


def test_a_history_row_date_is_read_the_same_way(client):
    rows = history_rows()
    rows[3]["date"] = "02/02/2026"
    detail = refused(post(client, "/v1/forecasts", {"history": rows, **SPAN}), "history.3.date")
    assert detail == f"history.3.date: '02/02/2026' is not a date: {EXAMPLE}"


def test_a_history_row_outside_the_range_gets_the_history_message(client):
    """Its form is read as any date; its range is the history's (the words a file gets)."""
    rows = history_rows()
    rows[1]["date"] = "2300-11-09"
    r = post(client, "/v1/forecasts", {"history": rows, **SPAN})
    assert r.status_code == 422 and r.json()["error"] == "invalid_history", r.text
    assert (
        r.json()["detail"] == 'history: data row 2, column "date": 2300-11-09 is outside 1900-2200'
    )
    rows[1]["date"] = "0000-01-01"  # no date at all: refused with the row named
    detail = refused(post(client, "/v1/forecasts", {"history": rows, **SPAN}), "history.1.date")
    assert "0000-01-01 is outside 1900-01-01..2200-12-31" in detail


def test_a_day_outside_the_range_names_the_range(client):
    r = post(client, "/v1/forecasts", {"history": history_rows(), **SPAN, "to": "2262-04-12"})
    assert "to: 2262-04-12 is outside 1900-01-01..2200-12-31" in refused(r, "to")


def test_a_long_span_within_the_range_is_still_refused_by_its_size(client):
    """1900..2200: 2 lines x 15,700 weeks, over ADPLAN_MAX_LINES (20,000), before any fit."""
    body = {"history": history_rows(), **SPAN, "from": "1900-01-01", "to": "2200-12-31"}
    r = post(client, "/v1/forecasts", body)
    assert r.status_code == 422, r.status_code  # (a 200 would be 15,700 weeks of curves)
    assert r.json()["setting"] == "ADPLAN_MAX_LINES"


def test_a_start_up_window_setting_is_read_the_same_way(tmp_path):
    from pydantic import ValidationError

    from service import Settings

    with pytest.raises(ValidationError, match=f"'01/04/2027' is not a date: {EXAMPLE}"):
        Settings(
            api_keys=["k" * 20],
            database_url=f"sqlite:///{tmp_path / 'a.db'}",
            history_path=tmp_path / "h.csv",
            forecast_from="01/04/2027",
            forecast_to="2027-01-31",
        )


# -- the cap multiple ---------------------------------------------------------------------------


def test_cap_multiple_sets_the_last_point_of_every_curve(client):
    top = highest_spend()
    r = post(client, "/v1/forecasts", {"history": history_rows(), **SPAN, "cap_multiple": 3})
    assert r.status_code == 200, r.text
    curves = r.json()["curves"]
    assert curves["spend_cap_multiple"] == 3.0 and len(curves["lines"]) == 8
    for ln in curves["lines"]:
        assert ln["points"][-1][0] == pytest.approx(3 * top[ln["network"]]), ln


def test_plans_and_frontiers_forecast_with_it_and_keep_it(client):
    ends = 4 * sum(highest_spend().values())  # 4 weeks, each line to its highest weekly spend
    body = {"history": history_rows(), **SPAN, "cap_multiple": 2, "spec": {"budget": 1e7}}
    r = post(client, "/v1/plans", body)
    assert r.status_code == 201, r.text
    assert r.json()["total_spend"] == pytest.approx(2 * ends)  # every curve to its end
    back = client.get(f"/v1/plans/{r.json()['id']}?include_inputs=true", headers=HEADERS)
    assert back.json()["inputs"]["cap_multiple"] == 2.0
    r = post(client, "/v1/frontiers", {**body, "budgets": [1e7]})
    assert r.status_code == 200, r.text
    assert r.json()["points"][0]["total_spend"] == pytest.approx(2 * ends)


@pytest.mark.parametrize("bad", [0.5, 10.5, "2", True, -1])
def test_a_cap_multiple_outside_1_to_10_is_422(client, bad):
    r = post(client, "/v1/forecasts", {"history": history_rows(), **SPAN, "cap_multiple": bad})
    assert "is not a cap multiple: give a number from 1 to 10 (default 1.5)" in refused(
        r, "cap_multiple"
    )


def test_a_cap_multiple_with_given_curves_is_422(client):
    r = post(client, "/v1/plans", {"curves": CURVES, "spec": {"budget": 1000}, "cap_multiple": 2})
    assert r.status_code == 422, r.text
    assert "'cap_multiple' applies to curves forecast from history" in r.json()["detail"]
    r = post(client, "/v1/plans", {"curves": CURVES, "spec": {"budget": 1000}})
    assert r.status_code == 201, r.text  # the default is not a choice: nothing to refuse


# -- the OpenAPI document -----------------------------------------------------------------------


def test_openapi_documents_the_dates_and_the_cap_multiple(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    date = {"type": "string", "format": "date"}
    assert date.items() <= schemas["HistoryRow"]["properties"]["date"].items()
    assert date.items() <= schemas["ForecastRequest"]["properties"]["from"].items()
    for name in FORECASTING:
        cap = schemas[name]["properties"]["cap_multiple"]
        assert cap["type"] == "number" and cap["default"] == 1.5, name
        assert (cap["minimum"], cap["maximum"]) == (1, 10), name
        assert "default 1.5" in cap["description"], name
        to = schemas[name]["properties"]["to"]
        assert any(date.items() <= t.items() for t in to.get("anyOf", [to])), name
