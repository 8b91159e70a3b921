"""Bad input to forecasting is a ForecastingError with a clear message (CLI exit 2), never a
ValueError traceback or a silently wrong plan: reversed dates, a period finer than the
history, results that were never recorded, mixed currencies, and user text in Rich output.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import datasets
from forecasting.backtest import run_backtest
from forecasting.curves import NO_CURRENCY, forecast_curves
from forecasting.errors import ForecastingError, InsufficientDataError
from forecasting.features import history_granularity, period_label
from forecasting.history import CANONICAL_COLUMNS, write_history

from .test_known_truth_law import history as truth_history

runner = CliRunner()
FROM, TO = "2026-03-02", "2026-03-29"


@pytest.fixture(scope="module")
def weekly():
    return truth_history(seed=2, weeks=60)


@pytest.fixture(scope="module")
def monthly(weekly):
    """The same history summed per calendar month, one row per line and month."""
    m = weekly.assign(date=weekly["date"].dt.to_period("M").dt.to_timestamp())
    return (
        m.groupby(["date", "network", "segment", "result_type", "currency"])[["spend", "results"]]
        .sum()
        .reset_index()
    )


@pytest.fixture(scope="module")
def weekly_csv(tmp_path_factory, weekly):
    path = tmp_path_factory.mktemp("err") / "history.csv"
    write_history(weekly, path)
    return path


def _cli(*args):
    return runner.invoke(app, [str(a) for a in args])


# -- 1. reversed dates and other bad arguments ---------------------------------------------


def test_end_before_start_names_both_dates(weekly):
    with pytest.raises(ForecastingError, match=r"2027-01-01.*before.*2027-03-31"):
        forecast_curves(weekly, "2027-03-31", "2027-01-01", model="glm")
    with pytest.raises(ForecastingError, match="'soon' is not a date"):
        forecast_curves(weekly, "soon", "2027-01-01", model="glm")


@pytest.mark.parametrize("command", ["forecast", "optimize"])
def test_cli_reversed_dates_exit_2_without_traceback(weekly_csv, tmp_path, command):
    args = [command, "--history", weekly_csv, "--from", "2027-03-31", "--to", "2027-01-01"]
    if command == "forecast":
        args += ["--model", "glm", "--out", tmp_path / "c.json"]
    else:
        spec = tmp_path / "spec.json"
        spec.write_text(json.dumps({"budget": 10000}), encoding="utf-8")
        args += ["--spec", spec]
    r = _cli(*args)
    assert r.exit_code == 2, r.output
    assert "2027-01-01" in r.stderr and "2027-03-31" in r.stderr
    assert "Traceback" not in r.output and "unexpected" not in r.stderr


def test_unknown_period_model_and_result_type_are_forecasting_errors(weekly):
    with pytest.raises(ForecastingError, match="period must be 'week' or 'month'"):
        forecast_curves(weekly, FROM, TO, period="day")
    with pytest.raises(ForecastingError, match="period must be one of day, week, month"):
        run_backtest(weekly, period="fortnight")
    with pytest.raises(ForecastingError, match="unknown model 'xgb'"):
        forecast_curves(weekly, FROM, TO, model="xgb")
    with pytest.raises(ForecastingError, match="unknown model.*xgb.*glm_eb"):
        run_backtest(weekly, models=("glm", "xgb"))
    with pytest.raises(ForecastingError, match="folds"):
        run_backtest(weekly, folds=0)
    with pytest.raises(InsufficientDataError, match="webinars"):
        forecast_curves(weekly, FROM, TO, result_type="webinars", model="glm")
    with pytest.raises(InsufficientDataError, match="empty"):
        forecast_curves(weekly.iloc[:0], FROM, TO, model="glm")
    with pytest.raises(ForecastingError, match="lacks the column.*results"):
        forecast_curves(weekly.drop(columns="results"), FROM, TO, model="glm")
    assert period_label(pd.Timestamp("2027-01-03"), "week") == "2026-W53"
    with pytest.raises(ForecastingError, match="period"):
        period_label(pd.Timestamp("2027-01-03"), "quarter")


# -- 2. a period finer than the history ----------------------------------------------------


def test_granularity_is_detected(weekly, monthly):
    assert history_granularity(weekly) == ("week", 7.0)
    kind, gap = history_granularity(monthly)
    assert kind == "month" and 28 <= gap <= 31
    assert history_granularity(weekly.iloc[:12]) is None  # one date per line: unknown


def test_monthly_history_refuses_weekly_curves(monthly):
    with pytest.raises(ForecastingError, match=r"monthly.*--period month"):
        forecast_curves(monthly, FROM, TO, period="week", model="glm")
    r = forecast_curves(monthly, "2026-03-01", "2026-05-31", period="month", model="glm")
    assert r.curves.periods == ["2026-03", "2026-04", "2026-05"]
    # the monthly cap is 1.5x a month's spend, not 1.5x a "week" that was really a month
    top = monthly.groupby(["network", "segment"])["spend"].max()
    ln = r.curves.lines[0]
    assert ln.max_spend == pytest.approx(1.5 * top[(ln.network, ln.segment)])


def test_weekly_history_refuses_a_daily_backtest(weekly):
    with pytest.raises(ForecastingError, match=r"weekly.*--period week"):
        run_backtest(weekly, period="day")


def test_cli_monthly_history_with_period_week_exits_2(monthly, tmp_path):
    path = tmp_path / "monthly.csv"
    write_history(monthly, path)
    r = _cli("forecast", "--history", path, "--from", FROM, "--to", TO, "--model", "glm")
    assert r.exit_code == 2 and "--period month" in r.stderr, r.output


# -- 3. spend but no results ---------------------------------------------------------------


def test_no_result_at_all_is_an_error_not_a_plan(weekly):
    with pytest.raises(InsufficientDataError, match="not one result of type 'purchases'"):
        forecast_curves(weekly.assign(results=0.0), FROM, TO, model="glm")
    with pytest.raises(InsufficientDataError, match="not one result"):
        forecast_curves(weekly.assign(results=0.0), FROM, TO, model="auto")


def test_a_network_without_results_is_named(weekly):
    h = weekly.assign(results=np.where(weekly["network"] == "tiktok", 0.0, weekly["results"]))
    with pytest.raises(InsufficientDataError, match=r"network\(s\) tiktok \(spend"):
        forecast_curves(h, FROM, TO, model="glm")


def test_a_line_without_results_in_a_network_with_results_is_pooled_and_flagged(weekly):
    dead = (weekly["network"] == "tiktok") & (weekly["segment"] == "retargeting")
    h = weekly.assign(results=np.where(dead, 0.0, weekly["results"]))
    r = forecast_curves(h, FROM, TO, model="glm")
    line = next(ln for ln in r.curves.lines if ln.key[:2] == ("tiktok", "retargeting"))
    assert "no_results" in line.flags and line.results_at(1000) > 0
    assert any("tiktok/retargeting" in w and "never got a result" in w for w in r.warnings)


def test_cli_zero_results_exits_2(weekly, tmp_path):
    path = tmp_path / "zero.csv"
    write_history(weekly.assign(results=0.0), path)
    r = _cli("forecast", "--history", path, "--from", FROM, "--to", TO, "--model", "glm")
    assert r.exit_code == 2 and "purchases" in r.stderr, r.output


# -- 4. currencies -------------------------------------------------------------------------


def test_mixed_currencies_are_an_error_naming_them(weekly):
    usd = weekly["network"] == "google"
    h = weekly.assign(currency=np.where(usd, "USD", "EUR"))
    n_usd = int(usd.sum())
    with pytest.raises(ForecastingError) as e:
        forecast_curves(h, FROM, TO, model="glm")
    msg = str(e.value)
    assert f"USD ({n_usd:,} rows)" in msg and f"EUR ({len(h) - n_usd:,} rows)" in msg
    assert "split the history" in msg


def test_no_currency_is_left_unset_not_eur(weekly):
    for h in (weekly.drop(columns="currency"), weekly.assign(currency=np.nan)):
        r = forecast_curves(h, FROM, TO, model="glm")
        assert r.curves.currency == NO_CURRENCY == "XXX"
    part = weekly.assign(currency=np.where(weekly.index % 2 == 0, "USD", None))
    r = forecast_curves(part, FROM, TO, model="glm")
    assert r.curves.currency == "USD"
    assert any("name no currency" in w for w in r.warnings)


# -- 5. dataset converters -----------------------------------------------------------------


def test_online_ad_performance_reports_what_it_drops(shared_data):
    raw = pd.read_csv(
        shared_data / "online_ad_performance" / "online_advertising_performance_data.csv"
    )
    dupes = len(raw) - len(raw.drop_duplicates())
    na = int(raw.drop_duplicates()["placement"].astype("string").fillna("#N/A").eq("#N/A").sum())
    df = datasets.online_ad_performance(shared_data)
    assert df.attrs["dropped"] == {"duplicates": dupes, "no_placement": na}
    assert dupes == 5 and na > 0 and len(df) == len(raw) - dupes - na
    assert datasets.CANONICAL_COLUMNS is CANONICAL_COLUMNS
    assert list(df.columns) == list(CANONICAL_COLUMNS)


# -- 6. the demo passes any model on -------------------------------------------------------


def test_demo_passes_every_forecasting_model_on():
    from forecasting.models import MODELS
    from scenarios.demo import _model_kwargs

    for name in MODELS:
        assert _model_kwargs(name) == {"model": name}
    assert _model_kwargs("glm_eb") == {"model": "glm_eb"}
    assert _model_kwargs(None) == {} and _model_kwargs("last_cpr") == {}


# -- 8. user text is not Rich markup -------------------------------------------------------


def test_cli_prints_user_text_literally(weekly, tmp_path):
    h = weekly.assign(
        segment=weekly["segment"].replace({"retargeting": "[bold]vip[/bold]", "f-18-24": "x[/]"})
    )
    path = tmp_path / "markup.csv"
    write_history(h, path)
    r = _cli(
        "forecast", "--history", path, "--from", FROM, "--to", TO, "--model", "glm",
        "--out", tmp_path / "c.json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "[bold]vip[/bold]" in r.stdout and "x[/]" in r.stdout
