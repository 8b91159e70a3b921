"""Named plans, their versions and their spreadsheet feeds, over a real server and SQLite.

A plan is named (``q1-2027``); its feed URLs (``/v1/feeds/q1-2027/<kind>.csv?token=``)
serve the current version: after a re-plan through the API the same URL serves version 2.
The feed token is re-issued (the old one refused), kept across a restart, and goes into
the ``.odc`` Excel opens. ``/docs`` and ``/redoc`` load nothing from outside the server.

The curves: meta and tiktok over January and February 2027. At a budget of 8,000 the plan
spends meta 3,000 + 1,000 and tiktok 2,000 + 2,000; the actuals of January (meta 3,000,
tiktok 500) leave 4,500 for February, which the re-plan gives meta 2,500 and tiktok 2,000.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
import pytest

from .conftest import HEADERS, ServerThread

CURVES = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {"network": net, "segment": "all", "period": period, "points": points}
        for period in ("2027-01", "2027-02")
        for net, points in (
            ("meta", [[0, 0], [1000, 50], [3000, 120], [6000, 180]]),
            ("tiktok", [[0, 0], [2000, 90], [5000, 150]]),
        )
    ],
}
SPEC = {"budget": 8000}
ACTUALS = [
    {
        "date": "2027-01-10",
        "network": "meta",
        "segment": "all",
        "result_type": "purchases",
        "spend": 3000,
        "results": 100,
    },
    {
        "date": "2027-01-12",
        "network": "tiktok",
        "segment": "all",
        "result_type": "purchases",
        "spend": 500,
        "results": 20,
    },
]
ADMIN = HEADERS
WRITER = {"X-API-Key": "writer-1"}
READER = {"X-API-Key": "reader-1"}
OTHER = {"X-API-Key": "acme-admin"}
#: an admin, a writer and a reader of the workspace default, and an admin of acme
KEYS = [HEADERS["X-API-Key"], "writer-1:write", "reader-1:read", "acme-admin:admin:acme"]


def _settings(tmp_path):
    from service import Settings

    return Settings(
        api_keys=KEYS, database_url=f"sqlite:///{tmp_path / 'feeds.db'}", data_dir=tmp_path
    )


@pytest.fixture
def server(tmp_path):
    """A real uvicorn server on 127.0.0.1 over a SQLite file, and an HTTP client of it."""
    from service import create_app

    with (
        ServerThread(create_app(_settings(tmp_path))) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as http,
    ):
        yield srv, http


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def _rows(text: str, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def _named_plan(http, name: str = "Q1-2027") -> tuple[dict, str]:
    r = http.post(
        "/v1/plans", headers=WRITER, json={"curves": CURVES, "spec": SPEC, "named_plan": name}
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    ref = plan["named_plan"]
    assert (ref["name"], ref["version"], ref["token_issued"]) == ("q1-2027", 1, True)
    return plan, _token(ref["links"]["feeds"]["plan"]["csv"])


def _spend(rows: list[dict], network: str, period: str) -> float:
    (row,) = [r for r in rows if (r["network"], r["period"]) == (network, period)]
    return float(row["spend"])


def test_feed_urls_serve_the_current_version_across_a_replan(server):
    srv, http = server
    plan, token = _named_plan(http)
    feeds = plan["named_plan"]["links"]["feeds"]
    assert set(feeds) == {"plan", "flighting", "ledger", "plan-vs-actual", "comparison"}
    url = feeds["plan"]["csv"]
    assert url == f"{srv.url}/v1/feeds/q1-2027/plan.csv?token={token}"

    texts = {}
    for kind in ("plan", "flighting", "ledger", "plan-vs-actual"):
        r = http.get(feeds[kind]["csv"])  # the token alone: no key
        assert r.status_code == 200, (kind, r.text)
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-adplan-version"] == "1"
        texts[kind] = r.text
    v1 = _rows(texts["plan"])
    assert _spend(v1, "tiktok", "2027-01") == 2000 and _spend(v1, "meta", "2027-02") == 1000
    assert _rows(texts["flighting"])[0]["network"] == "meta"
    assert _rows(texts["ledger"])[0]["rule"] == "budget"
    assert {r["status"] for r in _rows(texts["plan-vs-actual"])} == {"open"}
    # the plan was not made by a scenario run: no comparison, and the answer says so
    r = http.get(feeds["comparison"]["csv"])
    assert r.status_code == 409 and r.json()["error"] == "feed_unavailable"
    assert "no scenario run" in r.json()["detail"]
    # a sheet's cache-buster (and any other parameter) is ignored
    again = http.get(f"{url}&t=1735689600&foo=bar")
    assert again.status_code == 200 and again.text == texts["plan"]

    r = http.post(
        f"/v1/plans/{plan['id']}/replan",
        headers=WRITER,
        json={"as_of": "2027-02-01", "actuals": ACTUALS},
    )
    assert r.status_code == 201, r.text
    replanned = r.json()
    assert replanned["replan"]["as_of"] == "2027-02-01"
    assert replanned["replan"]["actual_spend"] == pytest.approx(3500)
    assert [(n["name"], n["version"]) for n in replanned["named_plans"]] == [("q1-2027", 2)]
    assert "token=" not in str(replanned["named_plans"])  # the feed token is not shown again

    r = http.get(url)  # the same URL: now version 2
    assert r.status_code == 200 and r.headers["x-adplan-version"] == "2"
    assert r.headers["x-adplan-plan-id"] == replanned["id"]
    v2 = _rows(r.text)
    assert _spend(v2, "tiktok", "2027-01") == 500  # locked at what was spent
    assert _spend(v2, "meta", "2027-02") == pytest.approx(2500)  # the rest re-planned
    assert sum(float(x["spend"]) for x in v2) == pytest.approx(8000)
    pva = _rows(http.get(feeds["plan-vs-actual"]["csv"]).text)
    jan = [x for x in pva if x["period"] == "2027-01"]
    assert {x["status"] for x in jan} == {"elapsed"}
    assert sum(float(x["actual_spend"]) for x in jan) == pytest.approx(3500)

    named = http.get("/v1/named-plans/q1-2027", headers=READER).json()
    assert named["current_version"] == 2 and named["token_issued"] is False
    assert [(v["version"], v["plan_id"], v["source"]) for v in named["versions"]] == [
        (1, plan["id"], "plan"),
        (2, replanned["id"], "replan"),
    ]
    assert named["links"]["feeds"]["plan"]["csv"] == f"{srv.url}/v1/feeds/q1-2027/plan.csv"


def test_a_french_locale_gets_semicolons_decimal_commas_and_cents(server):
    _, http = server
    _, token = _named_plan(http)
    exact = _rows(http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}").text)
    for locale in ("fr", "FR_fr", "fr-CA"):
        r = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}&locale={locale}&t=9")
        assert r.status_code == 200, r.text
        header, first = r.text.splitlines()[:2]
        assert header.startswith("network;segment;period;spend;expected_results")
        rows = _rows(r.text, ";")
        for row, want in zip(rows, exact, strict=True):
            for col in ("spend", "expected_results", "cost_per_result"):
                assert re.fullmatch(r"-?\d+,\d\d", row[col]), (col, row[col])
                got = Decimal(row[col].replace(",", "."))
                assert abs(got - Decimal(want[col])) <= Decimal("0.005"), (col, got, want[col])
        assert "22,22" in r.text  # tiktok's 2,000 for 90 purchases: 22.2222... to cents
        total = sum(Decimal(row["spend"].replace(",", ".")) for row in rows)
        assert total == Decimal("8000.00")
    r = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}&locale=xx")
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert "unknown locale 'xx'" in r.json()["detail"] and "fr (fr-FR" in r.json()["detail"]


def _odc_url(text: str) -> str:
    """Return the URL the .odc's Power Query formula reads (parsing the file as XML)."""
    root = ElementTree.fromstring(text)
    ns = {"odc": "urn:schemas-microsoft-com:office:odc"}
    mashup = root.find(".//odc:PowerQueryMashupData", ns)
    assert mashup is not None and mashup.text
    formula = ElementTree.fromstring(mashup.text).find(".//{*}Formula")
    assert formula is not None and formula.text
    match = re.search(r'Web\.Contents\("([^"]+)"\)', formula.text)
    assert match, formula.text
    return match.group(1)


def test_token_reissue_revokes_the_old_one_and_the_odc_holds_the_new(server):
    srv, http = server
    _, old = _named_plan(http)
    url = "/v1/feeds/q1-2027/flighting.csv"
    assert http.get(url, params={"token": old}).status_code == 200

    r = http.post("/v1/named-plans/q1-2027/token", headers=WRITER)
    assert r.status_code == 403 and r.json()["needed_role"] == "admin"
    r = http.post("/v1/named-plans/q1-2027/token", headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_issued"] is True
    new = _token(body["links"]["feeds"]["flighting"]["csv"])
    assert new != old

    refused = http.get(url, params={"token": old})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert "revoked" in refused.json()["detail"]
    assert http.get(url, params={"token": new}).status_code == 200
    assert http.get(url, headers=READER).status_code == 200  # a key with the role read

    r = http.get("/v1/feeds/q1-2027/flighting.odc", params={"token": new, "locale": "de", "t": "5"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/x-ms-odc; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="adplan-q1-2027-flighting.odc"'
    feed = _odc_url(r.text)
    assert feed == f"{srv.url}/v1/feeds/q1-2027/flighting.csv?token={new}&locale=de"
    pulled = httpx.get(feed, timeout=30)  # what Excel fetches
    assert pulled.status_code == 200 and pulled.text.startswith("network;segment;2027-01")
    assert http.get("/v1/feeds/q1-2027/flighting.odc", params={"token": old}).status_code == 403


def test_a_restart_keeps_names_versions_and_tokens(tmp_path):
    from sqlalchemy import create_engine, text

    from service import create_app

    with ServerThread(create_app(_settings(tmp_path))) as srv:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            plan, token = _named_plan(http)
    with ServerThread(create_app(_settings(tmp_path))) as srv:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            named = http.get("/v1/named-plans/q1-2027", headers=READER).json()
            assert [v["plan_id"] for v in named["versions"]] == [plan["id"]]
            r = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}")
            assert r.status_code == 200 and r.headers["x-adplan-version"] == "1"
    # a database made before named plans existed gets their tables at start-up
    engine = create_engine(f"sqlite:///{tmp_path / 'feeds.db'}")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE named_plan_versions"))
        conn.execute(text("DROP TABLE named_plans"))
    engine.dispose()
    with ServerThread(create_app(_settings(tmp_path))) as srv:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            assert http.get("/v1/named-plans/q1-2027", headers=READER).status_code == 404
            r = http.put("/v1/named-plans/q1-2027", headers=WRITER, json={"plan_id": plan["id"]})
            assert r.status_code == 201, r.text


SCENARIO = {
    "name": "q1",
    "curves": CURVES,
    "spec": SPEC,
    "variants": [{"name": "budget-minus-10", "overrides": {"budget": "-10%"}}],
}


def test_a_scenario_runs_variant_is_named_and_serves_the_comparison(server):
    _, http = server
    r = http.post("/v1/scenario-runs", headers=WRITER, json=SCENARIO)
    assert r.status_code == 201, r.text
    run = r.json()
    r = http.put(
        "/v1/named-plans/q1-scn",
        headers=WRITER,
        json={"run_id": run["id"], "variant": "budget-minus-10"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith("/v1/named-plans/q1-scn")
    named = r.json()
    variant_plan = [p["plan_id"] for p in run["plans"] if p["variant"] == "budget-minus-10"][0]
    assert named["versions"][0]["plan_id"] == variant_plan
    assert named["versions"][0]["source"] == "scenario_run"
    token = _token(named["links"]["feeds"]["comparison"]["csv"])
    r = http.get(f"/v1/feeds/q1-scn/comparison.csv?token={token}")
    assert r.status_code == 200, r.text
    rows = _rows(r.text)
    assert [x["variant"] for x in rows] == ["q1", "budget-minus-10"]
    assert float(rows[1]["total_spend"]) == pytest.approx(7200)
    assert float(rows[1]["spend_vs_base"]) == pytest.approx(-800)
    # the same PUT again changes nothing; another plan is version 2, which has no comparison
    again = http.put(
        "/v1/named-plans/q1-scn",
        headers=WRITER,
        json={"run_id": run["id"], "variant": "budget-minus-10"},
    )
    assert again.status_code == 200 and again.json()["current_version"] == 1
    plain = http.post("/v1/plans", headers=WRITER, json={"curves": CURVES, "spec": SPEC}).json()
    r = http.put("/v1/named-plans/Q1-SCN", headers=WRITER, json={"plan_id": plain["id"]})
    assert r.status_code == 200 and r.json()["current_version"] == 2
    assert r.json()["token_issued"] is False
    assert http.get(f"/v1/feeds/q1-scn/comparison.csv?token={token}").status_code == 409
    # the base, by default; a variant without a plan is 404
    r = http.put("/v1/named-plans/q1-base", headers=WRITER, json={"run_id": run["id"]})
    assert r.status_code == 201 and r.json()["versions"][0]["plan_id"] != variant_plan
    r = http.put(
        "/v1/named-plans/q1-x", headers=WRITER, json={"run_id": run["id"], "variant": "nope"}
    )
    assert r.status_code == 404 and "budget-minus-10" in r.json()["detail"]
    # a plan made by a scenario run keeps no curves: it cannot be re-planned
    r = http.post(
        f"/v1/plans/{variant_plan}/replan",
        headers=WRITER,
        json={"as_of": "2027-02-01", "actuals": ACTUALS},
    )
    assert r.status_code == 422 and "re-plan that plan" in r.json()["detail"]


def test_names_follow_the_rule_and_belong_to_their_workspace(server):
    _, http = server
    plan, token = _named_plan(http)
    for bad in ("bad name", "-q1", "q1!x", "q1%3Fx", "é", "x" * 65):
        r = http.put(f"/v1/named-plans/{bad}", headers=WRITER, json={"plan_id": plan["id"]})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"].startswith("name: ")
        assert "1 to 64 letters, digits, '.', '_' or '-'" in r.json()["detail"], bad
    assert http.get("/v1/feeds/bad!/plan.csv", headers=READER).status_code == 422
    r = http.post(
        "/v1/plans",
        headers=WRITER,
        json={"curves": CURVES, "spec": SPEC, "named_plan": "q1 2027"},
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("named_plan: 'q1 2027' is not")
    r = http.put("/v1/named-plans/q1", headers=WRITER, json={"plan_id": "f" * 32})
    assert r.status_code == 404
    r = http.put("/v1/named-plans/q1", headers=WRITER, json={})
    assert r.status_code == 422
    # another workspace: its key does not see the name, and its own q1-2027 is another one
    assert http.get("/v1/named-plans/q1-2027", headers=OTHER).status_code == 404
    assert http.get("/v1/feeds/q1-2027/plan.csv", headers=OTHER).status_code == 404
    r = http.put("/v1/named-plans/q1-2027", headers=OTHER, json={"plan_id": plan["id"]})
    assert r.status_code == 404  # the plan is not acme's
    theirs = http.post(
        "/v1/plans",
        headers=OTHER,
        json={"curves": CURVES, "spec": {"budget": 4000}, "named_plan": "q1-2027"},
    ).json()
    other_token = _token(theirs["named_plan"]["links"]["feeds"]["plan"]["csv"])
    mine = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}")
    their = http.get(f"/v1/feeds/q1-2027/plan.csv?token={other_token}")
    assert mine.headers["x-adplan-plan-id"] == plan["id"]
    assert their.headers["x-adplan-plan-id"] == theirs["id"]


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/v1/feeds/q1-2027/plan.csv", {}, 401),
        ("/v1/feeds/q1-2027/plan.csv?token=" + "x" * 43, {}, 403),
        ("/v1/feeds/nope/plan.csv?token=" + "x" * 43, {}, 403),  # as a wrong token
        ("/v1/feeds/nope/plan.odc?token=" + "x" * 43, {}, 403),
        ("/v1/feeds/nope/plan.csv", READER, 404),
        ("/v1/feeds/q1-2027/other.csv", READER, 422),
        ("/v1/feeds/q1-2027/plan.csv?api_key=k", READER, 401),
        ("/v1/feeds/q1-2027/plan.odc", READER, 422),  # the .odc needs the token
        ("/v1/named-plans/nope", READER, 404),
        ("/v1/named-plans/q1-2027", {}, 401),
    ],
)
def test_feed_errors(server, url, headers, status):
    _, http = server
    _named_plan(http)
    r = http.get(url, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"


def test_a_token_does_not_say_whether_a_name_exists_in_any_workspace(server):
    """Without a key, an unknown name answers exactly as a wrong or revoked token does."""
    _, http = server
    probe = "x" * 43

    def answers(name: str) -> list[tuple[int, dict]]:
        return [
            (r.status_code, r.json())
            for r in (
                http.get(f"/v1/feeds/{name}/plan.csv", params={"token": probe}),
                http.get(f"/v1/feeds/{name}/flighting.odc", params={"token": probe}),
            )
        ]

    before = answers("q1-2027")  # no workspace has the name yet
    assert [status for status, _ in before] == [403, 403]
    assert before[0][1]["error"] == "forbidden"
    _, token = _named_plan(http)  # the name, in the workspace default
    r = http.post(
        "/v1/plans",
        headers=OTHER,
        json={"curves": CURVES, "spec": {"budget": 4000}, "named_plan": "q1-2027"},
    )
    assert r.status_code == 201, r.text  # and in acme
    assert answers("q1-2027") == before
    assert before[0][1]["detail"].startswith(
        "this token does not grant the feeds of 'q1-2027': it is not the feed token of a "
        "named plan 'q1-2027', or it was revoked"
    )
    assert http.post("/v1/named-plans/q1-2027/token", headers=ADMIN).status_code == 200
    revoked = http.get("/v1/feeds/q1-2027/plan.csv", params={"token": token})
    assert (revoked.status_code, revoked.json()) == before[0]
    # a key of the workspace still learns that its own workspace has no such name
    r = http.get("/v1/feeds/q1-2028/plan.csv", headers=READER)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_a_replan_of_an_older_version_leaves_the_current_one(server):
    """A re-plan advances only the names whose current version is the re-planned plan."""
    _, http = server
    plan, token = _named_plan(http)  # q1-2027 version 1: plan A
    r = http.put("/v1/named-plans/a-only", headers=WRITER, json={"plan_id": plan["id"]})
    assert r.status_code == 201, r.text  # a-only version 1: plan A too
    run = http.post("/v1/scenario-runs", headers=WRITER, json=SCENARIO).json()
    r = http.put(
        "/v1/named-plans/q1-2027",
        headers=WRITER,
        json={"run_id": run["id"], "variant": "budget-minus-10"},
    )
    assert r.status_code == 200 and r.json()["current_version"] == 2, r.text
    chosen = r.json()["versions"][-1]["plan_id"]
    body = {"as_of": "2027-02-01", "actuals": ACTUALS}
    r = http.post(f"/v1/plans/{plan['id']}/replan", headers=WRITER, json=body)
    assert r.status_code == 201, r.text
    replanned = r.json()
    assert [(n["name"], n["version"]) for n in replanned["named_plans"]] == [("a-only", 2)]
    named = http.get("/v1/named-plans/q1-2027", headers=READER).json()
    assert named["current_version"] == 2 and named["versions"][-1]["plan_id"] == chosen
    r = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}")
    assert r.headers["x-adplan-plan-id"] == chosen  # the variant the user chose, still
    r = http.post(f"/v1/plans/{plan['id']}/replan", headers=WRITER, json=body)
    assert r.status_code == 201 and "named_plans" not in r.json()  # no name advanced
    # asked for by name, the re-plan becomes its next version all the same
    r = http.post(
        f"/v1/plans/{plan['id']}/replan",
        headers=WRITER,
        json={**body, "named_plan": "Q1-2027"},
    )
    assert r.status_code == 201, r.text
    again = r.json()
    refs = {n["name"]: (n["version"], n["token_issued"]) for n in again["named_plans"]}
    assert refs == {"q1-2027": (3, False)}  # a-only's current version is the first re-plan
    r = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}")
    assert r.headers["x-adplan-plan-id"] == again["id"]
    assert r.headers["x-adplan-version"] == "3"
    # a new name: made, with its feed token shown in the answer
    r = http.post(
        f"/v1/plans/{again['id']}/replan", headers=WRITER, json={**body, "named_plan": "q2"}
    )
    assert r.status_code == 201, r.text
    refs = {n["name"]: n for n in r.json()["named_plans"]}
    assert [(n, refs[n]["version"]) for n in refs] == [("q1-2027", 4), ("q2", 1)]
    assert refs["q2"]["token_issued"] is True and "token=" in str(refs["q2"]["links"])
    assert "token=" not in str(refs["q1-2027"]["links"])


def test_a_deleted_current_plan_is_409_and_a_replan_of_no_plan_404(server):
    _, http = server
    plan, token = _named_plan(http)
    assert http.delete(f"/v1/plans/{plan['id']}", headers=ADMIN).status_code == 204
    r = http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}")
    assert r.status_code == 409 and "was deleted" in r.json()["detail"]
    r = http.post("/v1/plans/nope/replan", headers=WRITER, json={"as_of": "2027-02-01"})
    assert r.status_code == 422  # actuals missing
    body = {"as_of": "2027-02-01", "actuals": ACTUALS}
    assert http.post("/v1/plans/nope/replan", headers=WRITER, json=body).status_code == 404
    assert http.post("/v1/plans/nope/replan", headers=READER, json=body).status_code == 403
    # every euro of the budget spent where the curves have no line: nothing to re-plan
    kept = http.post("/v1/plans", headers=WRITER, json={"curves": CURVES, "spec": SPEC}).json()
    off = [{**ACTUALS[0], "network": "snapchat", "spend": 9000}]
    r = http.post(
        f"/v1/plans/{kept['id']}/replan",
        headers=WRITER,
        json={"as_of": "2027-02-01", "actuals": off},
    )
    assert r.status_code == 422 and "nothing is left to re-plan" in r.json()["detail"], r.text


# -- the docs, offline ------------------------------------------------------------------------


def _outside_urls(page: str, base: str) -> list[str]:
    return [u for u in re.findall(r"https?://[^\s\"'<>)]+", page) if not u.startswith(base)]


def test_docs_and_redoc_load_nothing_from_outside_the_server(server):
    srv, http = server
    for path, assets in (
        ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
        ("/redoc", ("redoc.standalone.js",)),
    ):
        r = http.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert _outside_urls(r.text, srv.url) == [], path
        for asset in assets:
            assert f'"/static-docs/{asset}"' in r.text
            got = http.get(f"/static-docs/{asset}")
            assert got.status_code == 200 and len(got.content) > 100_000, asset
    js = http.get("/static-docs/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"] and "SwaggerUIBundle" in js.text


def test_swagger_ui_renders_in_chromium_without_internet(server):
    srv, _ = server
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed (apt-get install chromium); this test needs it"
    dom = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            # anything not on 127.0.0.1 fails, as with no internet
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{srv.url}/docs",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'class="swagger-ui' in dom
    for operation in ("/v1/feeds/{name}/{kind}.csv", "/v1/named-plans/{name}", "/v1/plans"):
        assert operation in dom, operation


def test_a_retried_post_makes_one_version_and_replays_the_feed_token(server):
    _, http = server
    body = {"curves": CURVES, "spec": SPEC, "named_plan": "q1-2027"}
    headers = {**WRITER, "Idempotency-Key": "feeds-retry-1"}
    first = http.post("/v1/plans", headers=headers, json=body)
    again = http.post("/v1/plans", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["named_plan"] == first.json()["named_plan"]  # the token too
    named = http.get("/v1/named-plans/q1-2027", headers=READER).json()
    assert named["current_version"] == 1 and len(named["versions"]) == 1
    token = _token(first.json()["named_plan"]["links"]["feeds"]["plan"]["csv"])
    assert http.get(f"/v1/feeds/q1-2027/plan.csv?token={token}").status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/v1/named-plans/q1"),
        ("get", "/v1/named-plans/q1"),
        ("post", "/v1/named-plans/q1/token"),
        ("post", "/v1/plans/abc/replan"),
    ],
)
def test_named_plan_calls_need_a_key(client, method, url):
    r = client.request(method, url, json={} if method != "get" else None)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized", r.text
    r = client.request(method, url, headers={"X-API-Key": "wrong"}, json={})
    assert r.status_code == 401


def test_links_and_the_odc_use_the_public_url(tmp_path):
    from fastapi.testclient import TestClient

    from service import create_app

    settings = _settings(tmp_path).model_copy(
        update={"public_url": "https://adplan.example.com/api/"}
    )
    with TestClient(create_app(settings)) as c:
        r = c.post(
            "/v1/plans",
            headers=WRITER,
            json={"curves": CURVES, "spec": SPEC, "named_plan": "q1-2027"},
        )
        links = r.json()["named_plan"]["links"]
        token = _token(links["feeds"]["ledger"]["odc"])
        assert links["feeds"]["ledger"]["odc"] == (
            f"https://adplan.example.com/api/v1/feeds/q1-2027/ledger.odc?token={token}"
        )
        odc = c.get(f"/v1/feeds/q1-2027/ledger.odc?token={token}").text
        assert _odc_url(odc) == (
            f"https://adplan.example.com/api/v1/feeds/q1-2027/ledger.csv?token={token}"
        )
