"""forecast_curves: valid concave curves, honest flags and warnings for thin data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.curves import SPEND_CAP_MULTIPLE, forecast_curves
from forecasting.errors import ForecastingError, InsufficientDataError
from optimizer.curves import Curves

from .test_known_truth_law import history as truth_history


@pytest.fixture(scope="module")
def weekly():
    return truth_history(seed=1, weeks=60)


@pytest.fixture(scope="module")
def result(weekly):
    return forecast_curves(weekly, "2026-03-02", "2026-05-31", period="week", model="glm")


def _slopes(points):
    p = np.asarray(points)
    return np.diff(p[:, 1]) / np.diff(p[:, 0])


def test_one_line_per_network_segment_and_week(result, weekly):
    c = result.curves
    assert c.periods[0] == "2026-W10" and c.periods[-1] == "2026-W22" and len(c.periods) == 13
    assert len(c.lines) == 12 * 13
    assert c.result_type == "purchases" and c.currency == "EUR"
    assert c.meta["model"] == "glm" and c.meta["history_end"] == weekly["date"].max().strftime(
        "%Y-%m-%d"
    )


def test_curves_are_concave_start_at_zero_and_stop_at_the_cap(result, weekly):
    max_spend = weekly.groupby(["network", "segment"])["spend"].max()
    for ln in result.curves.lines:
        assert ln.points[0] == (0.0, 0.0)
        s = _slopes(ln.points)
        assert np.all(s > 0) and np.all(np.diff(s) <= 1e-9 * s[:-1])
        assert ln.max_spend == pytest.approx(
            SPEND_CAP_MULTIPLE * max_spend[(ln.network, ln.segment)]
        )
        assert f"extrapolated_above:{max_spend[(ln.network, ln.segment)]:.6g}" in ln.flags
        # low <= expected <= high at every point, all concave
        for (_x, y), (_, lo), (_, hi) in zip(ln.points, ln.low, ln.high, strict=True):
            assert lo <= y <= hi
        assert np.all(np.diff(_slopes(ln.low)) <= 1e-9) and np.all(
            np.diff(_slopes(ln.high)) <= 1e-9
        )


def test_curves_json_round_trip(result, tmp_path):
    d = json.loads(json.dumps(result.curves.to_dict()))
    back = Curves.from_dict(d, source="roundtrip")
    assert back.to_dict() == d
    full = result.to_dict()
    assert full["model"] == "glm" and len(full["lines"]) == 12 and full["curves"]["lines"]


def test_months_are_labelled_yyyy_mm(weekly):
    r = forecast_curves(weekly, "2026-03-01", "2026-05-31", period="month", model="glm")
    assert r.curves.periods == ["2026-03", "2026-04", "2026-05"]


def _add(h, rows):
    extra = pd.DataFrame(
        rows, columns=["date", "network", "segment", "result_type", "spend", "results"]
    )
    extra["date"] = pd.to_datetime(extra["date"])
    extra["currency"] = "EUR"
    return pd.concat([h, extra], ignore_index=True)


def test_thin_lines_are_flagged_pooled_and_warned(weekly):
    last = weekly["date"].max()
    h = _add(
        weekly,
        [
            # two weeks only: thin -> pooled estimate of meta
            (last - pd.Timedelta(weeks=1), "meta", "new-audience", "purchases", 900.0, 40.0),
            (last, "meta", "new-audience", "purchases", 1100.0, 55.0),
            # spend every week but never a result
            *[
                (last - pd.Timedelta(weeks=w), "tiktok", "broken-pixel", "purchases", 500.0, 0.0)
                for w in range(10)
            ],
            # only another result type: its network's pooled curve for purchases (new_line)
            (last, "google", "leads-only", "leads", 300.0, 12.0),
        ],
    )
    r = forecast_curves(h, "2026-03-02", "2026-03-29", period="week", model="glm")
    flags = {(ln.network, ln.segment): set(ln.flags) for ln in r.curves.lines}
    assert "thin_history" in flags[("meta", "new-audience")]
    assert "no_results" in flags[("tiktok", "broken-pixel")]
    assert flags[("google", "leads-only")] == {"new_line"}
    text = "\n".join(r.warnings)
    assert "meta/new-audience" in text and "pooled" in text
    assert "tiktok/broken-pixel" in text and "never got a result" in text
    assert "google/leads-only" in text and "pooled curve (flag new_line)" in text
    # the pooled line gets its network's cost level, not zero and not wild
    new = next(ln for ln in r.curves.lines if ln.segment == "new-audience")
    broken = next(ln for ln in r.curves.lines if ln.segment == "broken-pixel")
    assert 0 < new.results_at(1000) < 1000 and broken.results_at(500) > 0


def test_mixed_result_types_are_never_added(weekly):
    leads = weekly.assign(
        result_type="leads", spend=weekly["spend"] / 10, results=weekly["results"] * 100
    )
    h = pd.concat([weekly, leads], ignore_index=True)
    r = forecast_curves(h, "2026-03-02", "2026-03-29", period="week", model="glm")
    assert r.curves.result_type == "purchases"  # most spend
    assert any("mixes result types" in w for w in r.warnings)
    only = forecast_curves(weekly, "2026-03-02", "2026-03-29", period="week", model="glm")
    a = {ln.key: ln.results_at(1000) for ln in r.curves.lines}
    b = {ln.key: ln.results_at(1000) for ln in only.curves.lines}
    assert a == pytest.approx(b)  # the leads rows changed nothing
    lr = forecast_curves(
        h, "2026-03-02", "2026-03-29", period="week", result_type="leads", model="glm"
    )
    assert lr.curves.result_type == "leads" and not any("mixes" in w for w in lr.warnings)


def test_no_usable_history_is_an_error(weekly):
    with pytest.raises(InsufficientDataError, match="webinars"):
        forecast_curves(weekly, "2026-03-02", "2026-03-29", result_type="webinars")
    with pytest.raises(ForecastingError, match="period"):
        forecast_curves(weekly, "2026-03-02", "2026-03-29", period="day")


def test_auto_model_runs_a_backtest_and_reports_it(weekly):
    r = forecast_curves(weekly, "2026-03-02", "2026-03-29", period="week", model="auto")
    assert r.backtest is not None and r.model_name == r.backtest["chosen"]
    assert r.model_name in ("glm", "gbm", "glm_eb")


def test_history_without_any_result_is_refused_not_planned(weekly):
    h = weekly.assign(results=0.0, currency=np.nan)
    with pytest.raises(InsufficientDataError, match="not one result of type 'purchases'"):
        forecast_curves(h, "2026-03-02", "2026-03-08", period="week", model="glm")


def test_weekly_rows_fill_their_last_month_and_the_trend_is_not_extrapolated_wildly(weekly):
    from forecasting.features import aggregate_panel

    months = aggregate_panel(weekly.assign(result_type="purchases"), "month")
    last_week = weekly["date"].max()  # a Monday; its row covers the next six days too
    assert months["start"].max() == last_week.replace(day=1)  # February kept: covered to 1 March
    near = forecast_curves(weekly, "2026-03-02", "2026-03-08", model="glm")
    far = forecast_curves(weekly, "2031-03-03", "2031-03-09", model="glm")
    a = {(ln.network, ln.segment): ln.results_at(1000) for ln in near.curves.lines}
    b = {(ln.network, ln.segment): ln.results_at(1000) for ln in far.curves.lines}
    ratios = np.array([b[k] / a[k] for k in a])
    assert np.all((ratios > 0.8) & (ratios < 1.25))  # five years on: same season, trend held flat


def test_whole_periods_are_planned_and_said_so(weekly, result):
    assert not any("whole" in w for w in result.warnings)  # Monday to Sunday: no edge
    r = forecast_curves(weekly, "2026-03-04", "2026-03-10", period="week", model="glm")
    assert r.curves.periods == ["2026-W10", "2026-W11"]
    assert any("whole weeks are planned" in w and "2026-03-02" in w for w in r.warnings)
