"""Findings of the user-level review: plan dates outside 1900..2200 are a clear error on every
path (library, CLI, HTTP), suspicious windows and histories are warned about, ``--out`` must
be JSON, a directory is not a history file, and no message suggests a period that is refused.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting.backtest import run_backtest
from forecasting.curves import forecast_curves
from forecasting.errors import ForecastingError, InsufficientDataError
from forecasting.history import write_history

from .test_known_truth_law import history as truth_history

runner = CliRunner()
KEY = "review-key-0123456789"


@pytest.fixture(scope="module")
def weekly():
    """30 weeks from Monday 2025-01-06 to 2025-07-28, 12 lines."""
    return truth_history(seed=5, weeks=30)


@pytest.fixture(scope="module")
def weekly_csv(tmp_path_factory, weekly):
    path = tmp_path_factory.mktemp("review") / "history.csv"
    write_history(weekly, path)
    return path


def _cli(*args):
    return runner.invoke(app, [str(a) for a in args])


# -- 1. dates outside 1900..2200 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "bad"),
    [
        ("9999-12-01", "9999-12-31", "9999-12-01"),
        ("2262-05-01", "2262-06-30", "2262-05-01"),
        ("2026-01-01", "2262-06-30", "2262-06-30"),
        ("1899-12-25", "2026-01-31", "1899-12-25"),
        (dt.date(9999, 12, 1), dt.date(9999, 12, 31), "9999-12-01"),
        ("99999-01-01", "99999-02-01", "99999-01-01"),
    ],
)
def test_plan_dates_outside_the_history_range_are_refused(weekly, start, end, bad):
    with pytest.raises(ForecastingError, match=rf"{bad}.*1900-01-01\.\.2200-12-31"):
        forecast_curves(weekly, start, end, model="glm")


def test_the_last_allowed_dates_still_forecast(weekly):
    r = forecast_curves(weekly, "2200-12-01", "2200-12-31", period="month", model="glm")
    assert r.curves.periods == ["2200-12"]


@pytest.mark.parametrize("start", ["9999-12-01", "2262-05-01"])
def test_cli_far_dates_exit_2_naming_the_date(weekly_csv, tmp_path, start):
    r = _cli(
        "forecast", "--history", weekly_csv, "--from", start, "--to", "9999-12-31",
        "--out", tmp_path / "y.json",
    )  # fmt: skip
    assert r.exit_code == 2, r.output
    assert start in r.stderr and "2200-12-31" in r.stderr
    assert "unexpected" not in r.stderr and not (tmp_path / "y.json").exists()


@pytest.mark.filterwarnings("ignore:Using `httpx` with")
def test_http_forecast_with_far_dates_is_422(tmp_path, weekly):
    from fastapi.testclient import TestClient

    from service import Settings, create_app

    settings = Settings(
        api_keys=[KEY], database_url=f"sqlite:///{tmp_path / 'a.db'}", data_dir=tmp_path
    )
    rows = [
        {**rec, "date": rec["date"].date().isoformat()}
        for rec in weekly.head(12 * 8).to_dict(orient="records")
    ]
    with TestClient(create_app(settings)) as client:
        body = {"history": rows, "from": "9999-12-01", "to": "9999-12-31", "period": "week"}
        r = client.post("/v1/forecasts", headers={"X-API-Key": KEY}, json=body)
        assert r.status_code == 422, r.text
        assert "9999-12-01" in r.text
        ok = {**body, "from": "2025-03-03", "to": "2025-03-30"}
        assert client.post("/v1/forecasts", headers={"X-API-Key": KEY}, json=ok).status_code == 200


# -- 2. suspicious windows and histories are warned about, not refused -------------------


def _has(warnings, *words):
    return any(all(w in x for w in words) for x in warnings)


def test_a_window_after_a_short_span_has_no_such_warnings(weekly):
    r = forecast_curves(weekly, "2025-08-04", "2025-08-31", model="glm")
    assert not _has(r.warnings, "history ends")
    assert not _has(r.warnings, "longer than the history")
    assert not _has(r.warnings, "gap")


def test_a_window_overlapping_the_history_is_warned_about(weekly):
    r = forecast_curves(weekly, "2025-07-07", "2025-08-31", model="glm")
    assert _has(r.warnings, "2025-07-07", "history ends", "2025-07-28")


def test_a_horizon_longer_than_the_history_is_warned_about(weekly):
    r = forecast_curves(weekly, "2026-01-01", "2030-12-31", period="month", model="glm")
    assert _has(r.warnings, "2030-12-31", "longer than the history", "203 days")
    assert r.curves.periods[-1] == "2030-12"  # still forecast


def test_a_gap_longer_than_half_the_history_is_warned_about(weekly):
    lone = weekly.tail(12).assign(date=pd.Timestamp("2029-07-30"))
    h = pd.concat([weekly, lone], ignore_index=True)
    r = forecast_curves(h, "2029-08-06", "2029-09-02", model="glm")
    assert _has(r.warnings, "gap", "2025-07-28", "2029-07-30")
    # a weekly history without a missing week has no gap, however short
    r = forecast_curves(weekly.head(12 * 3), "2025-02-03", "2025-02-09", model="glm")
    assert not _has(r.warnings, "gap")


def test_cli_prints_the_new_warnings(weekly_csv, tmp_path):
    r = _cli(
        "forecast", "--history", weekly_csv, "--from", "2025-07-07", "--to", "2027-12-31",
        "--model", "glm", "--out", tmp_path / "c.json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "history ends" in r.stderr and "longer than the history" in r.stderr


# -- 3. --out must be .json ----------------------------------------------------------------


def test_cli_out_must_be_json_before_anything_is_read(tmp_path):
    r = _cli(
        "forecast", "--history", tmp_path / "missing.csv", "--from", "2026-01-05",
        "--to", "2026-01-11", "--out", tmp_path / "cf3.csv",
    )  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "'.csv'" in r.stderr and ".json" in r.stderr and "missing.csv" not in r.stderr
    assert not (tmp_path / "cf3.csv").exists()


# -- 4. no suggestion of a refused period ------------------------------------------------


def test_too_little_history_suggests_nothing_refused(weekly):
    short = weekly.head(12 * 6)
    r = forecast_curves(short, "2025-02-17", "2025-02-23", model="auto")
    msg = next(w for w in r.warnings if "model 'auto'" in w)
    assert "period day" not in msg and "more history" in msg and "glm" in msg
    with pytest.raises(InsufficientDataError) as e:
        run_backtest(short, period="week")
    assert "period day" not in str(e.value) and "folds" in str(e.value)


# -- 5. a directory is not a history file ------------------------------------------------


@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_cli_history_directory_is_named(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    args = [command, "--history", "adir"]
    if command == "forecast":
        args += ["--from", "2026-01-05", "--to", "2026-01-11", "--out", "c.json"]
    r = _cli(*args)
    assert r.exit_code == 2, r.output
    assert "adir: is a directory; give the history CSV file" in r.stderr
    assert "Errno" not in r.stderr
