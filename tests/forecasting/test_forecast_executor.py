"""The forecast's backtests on the executor seam (``optimizer.parallel``).

The fold x model fits of ``run_backtest``, and of the response options' backtests inside
``forecast_curves``, run on a real pool of two local processes (``LocalProcesses(2)``) and
give exactly what the serial path gives; a fit that fails raises the same error through
the pool. ``adplan forecast --executor local --workers 2`` (the real executable) writes the
same curves as without.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forecasting import forecast_curves, generate_sample_history, run_backtest
from forecasting.backtest import _run_blocks, time_blocks
from forecasting.errors import ForecastingError
from forecasting.features import aggregate_panel, select_result_type
from forecasting.history import write_history
from forecasting.models import GLMForecaster
from optimizer.parallel import LocalProcesses

from . import response_truth

ADPLAN = Path(sys.executable).with_name("adplan")
NETWORKS = ("meta", "google", "tiktok")
SEGMENTS = ("f-25-34", "m-35-44")
WINDOW = ("2027-01-04", "2027-01-31")  # the four weeks after the sample's 104 weeks


class Counted:
    """A real executor (the pool) that counts the items and batches it was given."""

    def __init__(self, inner: LocalProcesses) -> None:
        self.inner = inner
        self.items = 0
        self.batches = 0

    @property
    def workers(self) -> int:
        """The pool's workers."""
        return self.inner.workers

    def submit_batches(self, fn, task, batches):
        """Count the batches and their items; run them on the pool."""
        self.batches += len(batches)
        self.items += sum(len(b) for b in batches)
        return self.inner.submit_batches(fn, task, batches)

    def close(self) -> None:
        """The pool is the fixture's to close."""


class FitFailed(ForecastingError):
    """What the exploding candidate raises."""


class Exploding(GLMForecaster):
    """A model whose fit fails, naming how many rows it was given."""

    name = "exploding"

    def fit(self, panel: pd.DataFrame) -> GLMForecaster:
        """Raise :class:`FitFailed`."""
        raise FitFailed(f"no fit on {len(panel)} rows")


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return generate_sample_history(11, networks=NETWORKS, segments=SEGMENTS)


def same_curves(a, b) -> None:
    """Assert two forecasts' curves are the same, their time of making aside."""
    da, db = a.curves.to_dict(), b.curves.to_dict()
    assert da.pop("generated_at") and db.pop("generated_at")
    assert da["lines"] and da == db


def test_backtest_on_processes_gives_the_serial_predictions(history, pool):
    serial = run_backtest(history)
    ex = Counted(pool)
    parallel = run_backtest(history, executor=ex)
    pd.testing.assert_frame_equal(serial.predictions, parallel.predictions, check_exact=True)
    assert parallel.to_dict() == serial.to_dict()  # scores, outer choice, calibration
    assert parallel.chosen == serial.chosen
    # every fold x candidate fit went through the pool, grouped into a few batches
    fits = len(serial.models) * serial.predictions["fold"].nunique()
    assert ex.items == fits == 18
    assert 1 < ex.batches < fits


def test_forecast_curves_on_processes_give_the_serial_curves(history, pool):
    serial = forecast_curves(history, *WINDOW)
    ex = Counted(pool)
    parallel = forecast_curves(history, *WINDOW, executor=ex)
    same_curves(serial, parallel)
    assert parallel.to_dict()["lines"] == serial.to_dict()["lines"]
    assert parallel.backtest == serial.backtest
    assert ex.items == len(serial.backtest["models"]) * 3  # the model choice's 3 folds


def test_the_response_options_backtests_run_on_the_executor(pool):
    """A season per network is backtested (common against network) on the pool too."""
    h = response_truth.truth("seasons")
    serial = forecast_curves(h, *WINDOW)
    ex = Counted(pool)
    parallel = forecast_curves(h, *WINDOW, executor=ex)
    assert "season" in serial.response["scores"]  # the option was backtested, not screened out
    assert parallel.response == serial.response
    same_curves(serial, parallel)
    # the model choice's fits, then 2 season variants, each on 3 folds
    assert ex.items == (len(serial.backtest["models"]) + 2) * 3


def test_a_failing_fit_raises_the_same_error_through_the_executor(history, pool):
    df, _rtype, _w = select_result_type(history, None)
    blocks = time_blocks(aggregate_panel(df, "week"), "week", 3)[0]
    cands = [GLMForecaster(period="week"), Exploding(period="week")]
    with pytest.raises(FitFailed) as here:
        _run_blocks(blocks, cands, None, 1)
    with pytest.raises(FitFailed) as there:
        _run_blocks(blocks, cands, None, 1, executor=pool)
    assert str(there.value) == str(here.value)  # the first fold's failure, in both


def adplan(*args) -> subprocess.CompletedProcess:
    """Run the real ``adplan`` executable."""
    env = {k: v for k, v in os.environ.items() if k != "ADPLAN_DEBUG"}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(ADPLAN), *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


def test_adplan_forecast_on_local_processes_writes_the_same_curves(history, tmp_path):
    path = tmp_path / "history.csv"
    write_history(history, path)
    outs = {}
    for name, extra in (("serial", ()), ("local", ("--executor", "local", "--workers", "2"))):
        out = tmp_path / f"{name}.json"
        p = adplan(
            "forecast", "--history", path, "--from", WINDOW[0], "--to", WINDOW[1],
            "--out", out, "--json", *extra,
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        curves = json.loads(out.read_text(encoding="utf-8"))
        assert curves.pop("generated_at")
        printed = json.loads(p.stdout)
        printed.pop("out")
        outs[name] = (curves, printed)
    assert outs["local"] == outs["serial"]
    assert outs["serial"][1]["backtest"]["models"]  # the model was chosen by a backtest
