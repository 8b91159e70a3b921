"""POST/GET/DELETE /v1/plans, downloads, pagination and every bad-input path."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from .conftest import HEADERS


def test_health_needs_no_key(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "sqlite"
    assert body["default_curves"] is False


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/health",
        "/v1/plans",
        "/v1/plans/{plan_id}",
        "/v1/plans/{plan_id}.csv",
        "/v1/plans/{plan_id}.xlsx",
        "/v1/forecasts",
        "/v1/frontiers",
        "/v1/scenario-runs",
    ):
        assert p in paths, p
    assert client.get("/docs").status_code == 200


def test_post_plan_returns_201_plan_json_id_and_links(client, posted):
    assert len(posted["id"]) == 32
    assert posted["status"] == "optimal"
    assert posted["total_spend"] == pytest.approx(6000)
    assert posted["budget"] == pytest.approx(6000)
    assert posted["currency"] == "EUR" and posted["result_type"] == "purchases"
    spend = {(ln["network"], ln["segment"]): ln["spend"] for ln in posted["lines"]}
    assert sum(spend.values()) == pytest.approx(6000)
    meta = sum(v for (n, _), v in spend.items() if n == "meta")
    assert meta >= 0.2 * 6000 - 1e-6
    assert any(c["name"] == "budget" for c in posted["constraints"])
    links = posted["links"]
    assert links["self"].endswith(f"/v1/plans/{posted['id']}")
    assert f"/v1/plans/{posted['id']}.csv?token=" in links["csv"]
    assert f"/v1/plans/{posted['id']}.xlsx?token=" in links["xlsx"]


def test_get_plan_reads_back_what_was_posted(client, posted):
    r = client.get(f"/v1/plans/{posted['id']}", headers=HEADERS)
    assert r.status_code == 200
    got = r.json()
    for k in ("id", "status", "total_spend", "expected_results", "lines", "constraints"):
        assert got[k] == posted[k]
    assert "token=" not in got["links"]["csv"]  # the token is shown once, at creation
    r = client.get(f"/v1/plans/{posted['id']}?include_inputs=true", headers=HEADERS)
    inputs = r.json()["inputs"]
    assert inputs["spec"]["budget"] == 6000
    assert len(inputs["curves"]["lines"]) == 3


def test_csv_download_with_token_and_no_header_is_neutralised(client, posted):
    r = client.get(posted["links"]["csv"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(posted["lines"])
    assert sum(float(x["spend"]) for x in rows) == pytest.approx(6000, abs=0.05)
    segs = {x["segment"] for x in rows}
    assert not any(s.startswith(("=", "+", "-", "@")) for s in segs), segs
    assert any("HYPERLINK" in s for s in segs)


def test_xlsx_download_with_token_is_a_workbook(client, posted):
    r = client.get(posted["links"]["xlsx"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)  # no formula: text stays text
    links = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
    assert links and all((c.data_type, c.quotePrefix) == ("s", True) for c in links)


def test_downloads_with_the_api_key_instead_of_a_token(client, posted):
    pid = posted["id"]
    assert client.get(f"/v1/plans/{pid}.csv", headers=HEADERS).status_code == 200
    assert client.get(f"/v1/plans/{pid}.xlsx", headers=HEADERS).status_code == 200


def test_list_plans_pages_with_a_cursor(client, curves):
    ids = []
    for b in (3000, 4000, 5000, 6000, 7000):
        r = client.post(
            "/v1/plans", headers=HEADERS, json={"curves": curves, "spec": {"budget": b}}
        )
        assert r.status_code == 201
        ids.append(r.json()["id"])
    seen = []
    url = "/v1/plans?limit=2"
    pages = 0
    while url:
        page = client.get(url, headers=HEADERS).json()
        assert len(page["items"]) <= 2
        seen += [it["id"] for it in page["items"]]
        url = page["next"].replace("http://testserver", "") if page["next"] else None
        pages += 1
    assert seen == list(reversed(ids))  # newest first, each once
    assert pages == 3
    first = client.get("/v1/plans?limit=1", headers=HEADERS).json()["items"][0]
    assert first["budget"] == 7000 and first["status"] == "optimal"


def test_list_plans_rejects_bad_paging(client):
    r = client.get("/v1/plans?limit=0", headers=HEADERS)
    assert r.status_code == 422
    r = client.get("/v1/plans?limit=5000", headers=HEADERS)
    assert r.status_code == 422 and "ADPLAN_MAX_PAGE_SIZE" in r.json()["detail"]
    r = client.get("/v1/plans?cursor=not-a-cursor", headers=HEADERS)
    assert r.status_code == 422 and "cursor" in r.json()["detail"]


def test_delete_plan_then_it_is_gone(client, posted):
    pid = posted["id"]
    assert client.delete(f"/v1/plans/{pid}", headers=HEADERS).status_code == 204
    assert client.get(f"/v1/plans/{pid}", headers=HEADERS).status_code == 404
    assert client.get(posted["links"]["csv"]).status_code == 404
    assert client.delete(f"/v1/plans/{pid}", headers=HEADERS).status_code == 404


def test_unknown_plan_is_404(client):
    for url in ("/v1/plans/nope", "/v1/plans/nope.csv", "/v1/plans/nope.xlsx"):
        r = client.get(url, headers=HEADERS)
        assert r.status_code == 404, url
        assert "nope" in r.json()["detail"]


def test_frontier(client, curves, spec):
    body = {"curves": curves, "spec": {"budget": 6000}, "budgets": [1000, 6000, 20000]}
    r = client.post("/v1/frontiers", headers=HEADERS, json=body)
    assert r.status_code == 200, r.text
    pts = r.json()["points"]
    assert [p["budget"] for p in pts] == [1000, 6000, 20000]
    res = [p["expected_results"] for p in pts]
    assert res[0] < res[1] < res[2]
    assert pts[2]["total_spend"] == pytest.approx(16000)  # every curve saturated


# -- bad input: always a 4xx with the reason ------------------------------------------------


def _post(client, body=None, **kw):
    return client.post("/v1/plans", headers={**HEADERS, **kw.pop("headers", {})}, json=body, **kw)


def test_malformed_json_is_422(client):
    r = client.post(
        "/v1/plans",
        headers={**HEADERS, "Content-Type": "application/json"},
        content=b'{"curves": [1, 2',
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_request" and "JSON" in body["detail"]
    assert "Traceback" not in r.text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "spec"),
        ({"spec": {"budget": 1000}, "curves": {"lines": "x"}}, "lines"),
        ({"spec": {"budget": 1000, "bugdet": 3}}, "bugdet"),
        ({"spec": {"budget": 1000}, "curves": {"lines": []}}, "lines"),
        # curves are read by Curves.from_dict, after the schema: the empty history is named
        ({"spec": {"budget": 1000}, "history": [], "curves": {"lines": []}}, "history"),
        ({"spec": {"budget": "lots"}}, "budget"),
        ({"spec": {"budget": 1000}, "unknown": 1}, "unknown"),
    ],
)
def test_schema_errors_are_422_naming_the_field(client, body, where):
    r = _post(client, body)
    assert r.status_code == 422, r.text
    assert where in r.text


@pytest.mark.parametrize("budget", [-100, 0, 1e13, 1e308])
def test_negative_and_absurd_budgets_are_422(client, curves, budget):
    r = _post(client, {"curves": curves, "spec": {"budget": budget}})
    assert r.status_code == 422
    assert "budget" in r.json()["detail"]


def test_nan_budget_is_422(client, curves):
    raw = b'{"curves": {"lines": [{"network": "a", "segment": "b", "period": "c", '
    raw += b'"points": [[0, 0], [1, 1]]}]}, "spec": {"budget": NaN}}'
    r = client.post(
        "/v1/plans", headers={**HEADERS, "Content-Type": "application/json"}, content=raw
    )
    assert r.status_code == 422
    assert "budget" in r.json()["detail"]


def test_non_concave_curve_is_422_naming_the_line(client, curves, spec):
    curves["lines"][1]["points"] = [[0, 0], [1000, 10], [2000, 100]]
    r = _post(client, {"curves": curves, "spec": spec})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_curves"
    assert "tiktok/f-25-34/2027-01" in body["detail"] and "concave" in body["detail"]


def test_curve_not_starting_at_zero_is_422(client, curves, spec):
    curves["lines"][0]["points"] = [[10, 0], [1000, 50]]
    r = _post(client, {"curves": curves, "spec": spec})
    assert r.status_code == 422 and r.json()["error"] == "invalid_curves"


def test_duplicate_line_is_422(client, curves, spec):
    curves["lines"].append(dict(curves["lines"][0]))
    r = _post(client, {"curves": curves, "spec": spec})
    assert r.status_code == 422 and "twice" in r.json()["detail"]


def test_unknown_network_in_rules_is_422_naming_it(client, curves):
    r = _post(
        client, {"curves": curves, "spec": {"budget": 5000, "networks": {"myspace": {"max": 10}}}}
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_spec"
    assert "myspace" in body["detail"]


def test_min_above_max_is_422(client, curves):
    spec = {"budget": 5000, "networks": {"meta": {"min": 100, "max": 10}}}
    r = _post(client, {"curves": curves, "spec": spec})
    assert r.status_code == 422 and "min" in r.json()["detail"]


def test_infeasible_rules_are_422_with_the_diagnosis(client, curves):
    spec = {"budget": 6000, "networks": {"meta": {"min": 20000}}}
    r = _post(client, {"curves": curves, "spec": spec})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "infeasible"
    assert body["diagnosis"], body
    assert any("meta" in rule for rule in body["rules"])
    assert "meta" in body["detail"]


def test_results_floor_curves_must_be_inline_not_a_path(client, curves):
    spec = {
        "budget": 5000,
        "results_floors": [{"result_type": "leads", "min": 1, "curves": "/etc/passwd"}],
    }
    r = _post(client, {"curves": curves, "spec": spec})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_request"  # refused by the schema, never read as a file
    assert body["errors"][0]["loc"][-1] == "curves"


def test_no_curves_and_no_default_curves_is_422(client):
    r = _post(client, {"spec": {"budget": 1000}})
    assert r.status_code == 422 and "ADPLAN_CURVES_PATH" in r.json()["detail"]


def test_history_without_span_is_422(client):
    row = {
        "date": "2026-01-05",
        "network": "meta",
        "segment": "a",
        "result_type": "purchases",
        "spend": 10,
        "results": 1,
    }
    r = _post(client, {"history": [row], "spec": {"budget": 1000}})
    assert r.status_code == 422 and "'from'" in r.json()["detail"]
    r = _post(
        client, {"history": [row], "from": "2027-02-01", "to": "2027-01-01", "spec": {"budget": 1}}
    )
    assert r.status_code == 422 and "after" in r.json()["detail"]


def test_wrong_method_is_405_not_500(client):
    r = client.put("/v1/plans", headers=HEADERS, json={})
    assert r.status_code == 405


def test_non_finite_metadata_in_curves_is_stored_as_null_not_a_500(client):
    raw = (
        b'{"curves": {"source": "mmm", "fit": {"r2": NaN, "rmse": Infinity}, "lines": ['
        b'{"network": "meta", "segment": "a", "period": "2027-01", "points": [[0, 0], [100, 5]]}'
        b']}, "spec": {"budget": 50}}'
    )
    r = client.post(
        "/v1/plans", headers={**HEADERS, "Content-Type": "application/json"}, content=raw
    )
    assert r.status_code == 201, r.text
    back = client.get(f"/v1/plans/{r.json()['id']}?include_inputs=true", headers=HEADERS).json()
    assert back["inputs"]["curves"]["fit"] == {"r2": None, "rmse": None}
    assert back["inputs"]["curves"]["source"] == "mmm"
