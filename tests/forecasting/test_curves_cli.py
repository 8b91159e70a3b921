"""`adplan forecast` and `adplan backtest` through the real CLI (typer's CliRunner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from forecasting import datasets
from forecasting.history import write_history
from optimizer.curves import load_curves

from .test_known_truth_law import history as truth_history

runner = CliRunner()


@pytest.fixture(scope="module")
def weekly_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("fc") / "history.csv"
    write_history(truth_history(seed=3, weeks=60), path)
    return path


@pytest.fixture(scope="module")
def orders_csv(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("mkt") / "marketing.csv"
    write_history(datasets.marketing_spend_feb2021(shared_data, result="orders"), path)
    return path


def test_forecast_writes_valid_curves_and_prints_a_table(weekly_csv, tmp_path):
    out = tmp_path / "curves.json"
    r = runner.invoke(
        app,
        [
            "forecast",
            "--history",
            str(weekly_csv),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-29",
            "--model",
            "glm",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    curves = load_curves(out)
    assert len(curves.lines) == 12 * 4 and curves.result_type == "purchases"
    assert "meta" in r.stdout and "f-25-34" in r.stdout and "CPR" in r.stdout


def test_forecast_warnings_go_to_stderr(weekly_csv, tmp_path):
    import pandas as pd

    from forecasting import read_history

    h = read_history(weekly_csv)
    extra = h.tail(1).assign(segment="lonely", date=h["date"].max())
    path = tmp_path / "h.csv"
    write_history(pd.concat([h, extra], ignore_index=True), path)
    r = runner.invoke(
        app,
        [
            "forecast",
            "--history",
            str(path),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-08",
            "--model",
            "glm",
            "--out",
            str(tmp_path / "c.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "lonely" in r.stderr and "pooled" in r.stderr
    assert "pooled" not in r.stdout


def test_forecast_bad_input_exits_2(weekly_csv, tmp_path):
    r = runner.invoke(
        app, ["forecast", "--history", str(weekly_csv), "--from", "soon", "--to", "2026-03-08"]
    )
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.stderr
    r = runner.invoke(
        app,
        [
            "forecast",
            "--history",
            str(tmp_path / "missing.csv"),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-08",
        ],
    )
    assert r.exit_code == 2 and "missing.csv" in r.stderr
    r = runner.invoke(
        app,
        [
            "forecast",
            "--history",
            str(weekly_csv),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-08",
            "--result-type",
            "webinars",
            "--out",
            str(tmp_path / "x.json"),
        ],
    )
    assert r.exit_code == 2 and "webinars" in r.stderr


def test_backtest_json_is_the_only_thing_on_stdout(orders_csv):
    r = runner.invoke(app, ["backtest", "--history", str(orders_csv), "--period", "day", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    # a 13-day mean CPR beats every model on the folds they had not seen: it is used
    assert d["chosen"] == "mean_cpr_13" and d["chosen_is_baseline"] is True
    assert d["beats_baselines"] is False and d["outer"]["baseline"] == "mean_cpr_13"
    assert {m["name"] for m in d["models"] if not m["baseline"]} == {"glm", "gbm", "glm_eb"}
    assert {m["name"] for m in d["models"] if m["baseline"]} == {
        "last_cpr",
        "mean_cpr_4",
        "mean_cpr_13",
    }


def test_backtest_table(orders_csv):
    r = runner.invoke(
        app,
        [
            "backtest",
            "--history",
            str(orders_csv),
            "--period",
            "day",
            "--folds",
            "2",
            "--horizon",
            "3",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "chosen" in r.stdout and "mean_cpr_13" in r.stdout and "WAPE" in r.stdout
