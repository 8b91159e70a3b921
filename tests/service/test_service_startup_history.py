"""ADPLAN_HISTORY_PATH: the history is read once at start-up, its forecasts are cached per
window (fitted once, not per request), and the configured window gives the default curves.
"""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient

from .conftest import CURVES, HEADERS, KEY

WINDOW = {"from": "2027-01-04", "to": "2027-02-28", "period": "week"}
SPEC = {"budget": 20000, "networks": {"tiktok": {"max_share": 0.4}}}


@pytest.fixture(scope="module")
def history_file(tmp_path_factory):
    from forecasting import generate_sample_history, write_history

    df = generate_sample_history(seed=7)
    df = df[df["network"].isin(["meta", "tiktok"]) & df["segment"].isin(["f-25-34", "m-25-34"])]
    path = tmp_path_factory.mktemp("history") / "history.csv"
    write_history(df.reset_index(drop=True), path)
    return path


def _settings(tmp_path, **kw):
    from service import Settings

    return Settings(api_keys=[KEY], database_url=f"sqlite:///{tmp_path / 'a.db'}", **kw)


@pytest.fixture(scope="module")
def served(history_file, tmp_path_factory):
    """One app with the start-up history and no start-up window (shared: fits are slow)."""
    from service import create_app

    app = create_app(_settings(tmp_path_factory.mktemp("db"), history_path=history_file))
    with TestClient(app) as c:
        yield app, c


def test_a_plan_from_the_start_up_history_needs_no_rows_and_fits_once(served):
    app, c = served
    cache = app.state.forecast_cache
    before = cache.info()
    body = {**WINDOW, "spec": SPEC}
    first = c.post("/v1/plans", headers=HEADERS, json=body)
    assert first.status_code == 201, first.text
    plan = first.json()
    assert plan["kind"] == "startup_history" and plan["status"] == "optimal"
    assert {ln["network"] for ln in plan["lines"]} <= {"meta", "tiktok"}
    tiktok = sum(ln["spend"] for ln in plan["lines"] if ln["network"] == "tiktok")
    assert tiktok <= 0.4 * plan["total_spend"] + 1e-6
    after_one = cache.info()
    assert after_one["fits"] == before["fits"] + 1

    second = c.post("/v1/plans", headers=HEADERS, json=body)
    assert second.status_code == 201, second.text
    after_two = cache.info()
    assert after_two["fits"] == after_one["fits"]  # the models were not fitted again
    assert after_two["hits"] == after_one["hits"] + 1
    assert second.json()["expected_results"] == pytest.approx(plan["expected_results"])

    back = c.get(f"/v1/plans/{plan['id']}?include_inputs=true", headers=HEADERS).json()
    assert back["inputs"]["history"] == "startup"
    assert back["inputs"]["from"] == "2027-01-04" and back["inputs"]["period"] == "week"
    assert back["inputs"]["curves"]["lines"]

    # forecasts and frontiers of the same window come from the same cached fit
    fc = c.post("/v1/forecasts", headers=HEADERS, json=WINDOW)
    assert fc.status_code == 200, fc.text
    assert len(fc.json()["curves"]["lines"]) == 4 * 8  # 2 networks x 2 segments x 8 weeks
    fr = c.post(
        "/v1/frontiers", headers=HEADERS, json={**WINDOW, "spec": SPEC, "budgets": [5000, 20000]}
    )
    assert fr.status_code == 200, fr.text
    assert [p["budget"] for p in fr.json()["points"]] == [5000, 20000]
    assert cache.info()["fits"] == after_one["fits"]
    assert cache.info()["hits"] == after_two["hits"] + 2
    assert c.get("/health").json()["startup_history"] is True


def test_another_window_or_period_is_another_fit(served):
    app, c = served
    cache = app.state.forecast_cache
    before = cache.info()
    body = {"from": "2027-01-01", "to": "2027-03-31", "period": "month"}
    r = c.post("/v1/forecasts", headers=HEADERS, json=body)
    assert r.status_code == 200, r.text
    assert {ln["period"] for ln in r.json()["curves"]["lines"]} == {
        "2027-01",
        "2027-02",
        "2027-03",
    }
    assert cache.info()["fits"] == before["fits"] + 1
    assert ("2027-01-01", "2027-03-31", "month") in {
        (k[0].isoformat(), k[1].isoformat(), k[2]) for k in cache.keys()
    }


def test_a_scenario_run_from_the_start_up_history(served):
    _, c = served
    body = {
        "name": "q1",
        **WINDOW,
        "spec": SPEC,
        "variants": [{"name": "less", "overrides": {"budget": "-10%"}}],
    }
    r = c.post("/v1/scenario-runs", headers=HEADERS, json=body)
    assert r.status_code == 201, r.text
    plans = {p["variant"]: p for p in r.json()["plans"]}
    assert plans["q1"]["status"] == plans["less"]["status"] == "optimal"
    assert plans["less"]["plan"]["total_spend"] == pytest.approx(18000)


def test_bad_requests_against_the_start_up_history_are_422(served):
    _, c = served
    r = c.post("/v1/plans", headers=HEADERS, json={"from": "2027-01-04", "spec": SPEC})
    assert r.status_code == 422 and "'to'" in r.json()["detail"]
    r = c.post("/v1/forecasts", headers=HEADERS, json={**WINDOW, "result_type": "leads"})
    assert r.status_code == 422 and "leads" in r.json()["detail"]
    body = {"from": "2027-01-01", "to": "2200-12-31", "spec": SPEC}
    r = c.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 422 and r.json()["setting"] == "ADPLAN_MAX_LINES"


def test_the_configured_window_is_forecast_at_start_up(history_file, tmp_path):
    from service import create_app

    app = create_app(
        _settings(
            tmp_path,
            history_path=history_file,
            forecast_from="2027-01-04",
            forecast_to="2027-02-28",
            forecast_period="week",
        )
    )
    cache = app.state.forecast_cache
    assert cache.info() == {"size": 1, "maxsize": 16, "hits": 0, "fits": 1}  # pre-filled
    assert len(app.state.default_curves.lines) == 32
    with TestClient(app) as c:
        assert c.get("/health").json()["default_curves"] is True
        r = c.post("/v1/plans", headers=HEADERS, json={"spec": SPEC})  # the default curves
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "default"
        r = c.post("/v1/plans", headers=HEADERS, json={**WINDOW, "spec": SPEC})
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "startup_history"
    assert cache.info() == {"size": 1, "maxsize": 16, "hits": 1, "fits": 1}


def test_the_settings_are_read_from_the_environment(history_file, monkeypatch):
    from service import Settings

    monkeypatch.setenv("ADPLAN_HISTORY_PATH", str(history_file))
    monkeypatch.setenv("ADPLAN_FORECAST_FROM", "2027-01-04")
    monkeypatch.setenv("ADPLAN_FORECAST_TO", "2027-03-28")
    monkeypatch.setenv("ADPLAN_FORECAST_PERIOD", "Month")
    s = Settings()
    assert s.history_path == history_file and s.forecast_period == "month"
    assert s.forecast_to.isoformat() == "2027-03-28"


def test_no_start_up_history_is_422_naming_the_setting(client, curves, spec):
    for path, body in [
        ("/v1/plans", {**WINDOW, "spec": spec}),
        ("/v1/forecasts", WINDOW),
        ("/v1/frontiers", {**WINDOW, "spec": spec, "budgets": [1000]}),
    ]:
        r = client.post(path, headers=HEADERS, json=body)
        assert r.status_code == 422, (path, r.text)
        assert "ADPLAN_HISTORY_PATH" in r.json()["detail"], path
    assert client.get("/health").json()["startup_history"] is False
    # requests that bring their own curves are as before
    r = client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
    assert r.status_code == 201


@pytest.mark.parametrize("bad", ["missing", "folder", "garbage"])
def test_a_bad_history_path_stops_the_start_naming_the_setting(tmp_path, bad):
    from forecasting import ForecastingError
    from service import create_app

    path = tmp_path / "history.csv"
    if bad == "folder":
        path.mkdir()
    elif bad == "garbage":
        path.write_text("date,network\nnot a date,meta\n", encoding="utf-8")
    with pytest.raises(ForecastingError, match="ADPLAN_HISTORY_PATH") as e:
        create_app(_settings(tmp_path, history_path=path))
    assert "history.csv" in str(e.value)


def test_an_unusable_window_stops_the_start_naming_the_settings(history_file, tmp_path):
    from forecasting import ForecastingError
    from service import create_app

    settings = _settings(
        tmp_path,
        history_path=history_file,
        forecast_from="2027-01-01",
        forecast_to="2200-12-31",
    )
    with pytest.raises(ForecastingError, match="ADPLAN_FORECAST_FROM=2027-01-01") as e:
        create_app(settings)
    assert "ADPLAN_MAX_LINES" in str(e.value)


@pytest.mark.parametrize(
    ("kw", "needles"),
    [
        ({"curves_path": "c.json"}, ["ADPLAN_CURVES_PATH", "ADPLAN_FORECAST_FROM"]),
        ({"forecast_to": None}, ["ADPLAN_FORECAST_FROM and ADPLAN_FORECAST_TO"]),
        ({"history_path": None}, ["ADPLAN_HISTORY_PATH"]),
        ({"forecast_to": "2026-12-01"}, ["is after ADPLAN_FORECAST_TO"]),
    ],
)
def test_conflicting_settings_are_refused(tmp_path, history_file, kw, needles):
    from pydantic import ValidationError

    args = {
        "history_path": history_file,
        "forecast_from": "2027-01-04",
        "forecast_to": "2027-02-28",
        **kw,
    }
    if "curves_path" in kw:
        (tmp_path / "c.json").write_text(json.dumps(CURVES), encoding="utf-8")
        args["curves_path"] = tmp_path / "c.json"
    with pytest.raises(ValidationError) as e:
        _settings(tmp_path, **args)
    for needle in needles:
        assert needle in str(e.value)


def test_history_path_alone_may_stay_with_default_curves(tmp_path, history_file):
    from service import create_app

    (tmp_path / "c.json").write_text(json.dumps(CURVES), encoding="utf-8")
    app = create_app(
        _settings(tmp_path, history_path=history_file, curves_path=tmp_path / "c.json")
    )
    assert app.state.default_curves is not None and app.state.forecast_cache.info()["size"] == 0


def test_bad_history_path_makes_serve_exit_2(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app

    env = {
        "ADPLAN_API_KEYS": "k",
        "ADPLAN_DATA_DIR": str(tmp_path),
        "ADPLAN_HISTORY_PATH": str(tmp_path / "nope.csv"),
    }
    r = CliRunner().invoke(app, ["serve", "--port", "0"], env=env)
    assert r.exit_code == 2, r.output
    assert "ADPLAN_HISTORY_PATH" in r.output and "nope.csv" in r.output


# -- the cache itself -------------------------------------------------------------------------


def test_concurrent_requests_for_one_window_fit_once():
    from service.history import ForecastCache

    cache = ForecastCache(maxsize=4)
    calls = []
    started = threading.Event()
    release = threading.Event()

    def compute():
        calls.append(1)
        started.set()
        release.wait(10)
        return "curves"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(("k",), compute)))
        for _ in range(8)
    ]
    threads[0].start()
    started.wait(10)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert results == ["curves"] * 8 and len(calls) == 1
    assert cache.info() == {"size": 1, "maxsize": 4, "hits": 7, "fits": 1}


def test_the_cache_is_lru_and_forgets_failures():
    from service.history import ForecastCache

    cache = ForecastCache(maxsize=2)
    cache.get(("a",), lambda: 1)
    cache.get(("b",), lambda: 2)
    cache.get(("a",), lambda: 99)  # a is now the most recent
    cache.get(("c",), lambda: 3)  # evicts b
    assert cache.keys() == [("a",), ("c",)]

    def fail():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get(("d",), fail)
    assert ("d",) not in cache.keys()
    assert cache.get(("d",), lambda: 4) == 4
