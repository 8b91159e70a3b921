"""Scenario files read dates as the commands do, and take ``cap_multiple`` with ``history``.

Real files in tmp_path: a canonical history CSV and scenario YAML written as an SMM would.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.periods import PlanDateError
from scenarios.errors import ScenarioFileError
from scenarios.files import load_scenario
from scenarios.runs import run_scenario
from tests.power_history import power_law_rows

EXAMPLE = "write it as YYYY-MM-DD, e.g. 2027-01-04"
ADPLAN = Path(sys.executable).with_name("adplan")


def history_rows() -> list[dict]:
    """16 weeks of two lines whose results follow 0.2 x spend^0.8."""
    bases = (("meta", 900.0), ("tiktok", 500.0))
    return power_law_rows(16, bases, "leads", swing=0.3, wave=math.cos, pace=1.3)


@pytest.fixture()
def folder(tmp_path) -> Path:
    rows = history_rows()
    with (tmp_path / "history.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return tmp_path


def scenario(folder: Path, *lines: str, start: str = "2027-01-04") -> Path:
    """Write a scenario forecast from the history (unless ``lines`` say otherwise)."""
    body = [
        "name: dates",
        "history: history.csv",
        f"from: {start}",
        "to: 2027-01-31",
        "period: week",
        "spec: {budget: 5000000}",
        *lines,
    ]
    path = folder / "q.yaml"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("01/02/2027", "'01/02/2027'"),
        ("'20270104'", "'20270104'"),
        ("20270104", "20270104"),  # a YAML number
        ("2027-W01-1", "'2027-W01-1'"),
        ("2027-01-04T00:00:00Z", "'2027-01-04T00:00:00Z'"),  # a YAML timestamp, kept as text
        ("2027-02-30", "'2027-02-30'"),
    ],
)
def test_a_date_that_is_not_yyyy_mm_dd_names_the_key_and_the_value(folder, written, shown):
    with pytest.raises(ScenarioFileError) as e:
        load_scenario(scenario(folder, start=written))
    assert str(e.value) == f"q.yaml: from: {shown} is not a date: {EXAMPLE}"
    assert e.value.key == "from"


@pytest.mark.parametrize("written", ["2027-01-04", "'2027-01-04'", "' 2027-01-04 '"])
def test_yyyy_mm_dd_plain_or_quoted_is_the_same_day(folder, written):
    sc = load_scenario(scenario(folder, start=written))
    assert sc.start == dt.date(2027, 1, 4) and sc.end == dt.date(2027, 1, 31)
    assert sc.cap_multiple == 1.5


def test_a_day_outside_the_range_keeps_its_message(folder):
    with pytest.raises(
        ScenarioFileError, match=r"q\.yaml: from: 2262-01-05 is outside 1900-01-01\.\.2200-12-31"
    ):
        load_scenario(scenario(folder, start="2262-01-05"))


def test_cap_multiple_sets_where_the_forecast_curves_end(folder):
    top: dict[str, float] = {}
    for r in history_rows():
        top[r["network"]] = max(top.get(r["network"], 0.0), r["spend"])
    run = run_scenario(scenario(folder, "cap_multiple: 3"), frontier=False)
    assert run.scenario.cap_multiple == 3.0 and run.curves.meta["spend_cap_multiple"] == 3.0
    for ln in run.curves.lines:
        assert ln.points[-1][0] == pytest.approx(3 * top[ln.network]), ln.key
    # a budget the curves cannot hold: the plan spends every curve's end
    assert run.base.plan.total_spend == pytest.approx(3 * 4 * sum(top.values()))


@pytest.mark.parametrize("bad", ["0.5", "10.5", "two", ".nan", "true"])
def test_a_cap_multiple_outside_1_to_10_is_refused(folder, bad):
    with pytest.raises(ScenarioFileError, match=r"q\.yaml: cap_multiple: .*from 1 to 10") as e:
        load_scenario(scenario(folder, f"cap_multiple: {bad}"))
    assert e.value.key == "cap_multiple"


def test_cap_multiple_with_curves_from_a_file_is_refused(folder, examples_dir):
    path = folder / "c.yaml"
    path.write_text(
        f"name: c\ncurves: {examples_dir / 'curves.json'}\ncap_multiple: 2\n"
        "spec: {budget: 1000}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioFileError, match="cap_multiple: applies to curves forecast"):
        load_scenario(path)


@pytest.mark.parametrize(
    "value",
    [dt.date(2027, 1, 4), dt.datetime(2027, 1, 4, 13, 30), "2027-01-04", " 2027-01-04\n"],
)
def test_python_callers_keep_passing_dates_and_datetimes(value):
    import numpy as np
    import pandas as pd

    from forecasting.features import plan_date
    from optimizer.periods import plan_day

    assert plan_day(value, "from") == dt.date(2027, 1, 4)
    assert plan_date(value) == pd.Timestamp("2027-01-04")
    assert plan_date(np.datetime64("2027-01-04")) == pd.Timestamp("2027-01-04")


@pytest.mark.parametrize("value", [None, 20270104, "NaT", float("nan"), "2027-01-04 10:00"])
def test_anything_else_is_refused_by_the_one_parser(value):
    import pandas as pd

    from forecasting import ForecastingError
    from forecasting.features import plan_date
    from optimizer.periods import plan_day

    with pytest.raises(PlanDateError, match=f"the from date .* is not a date: {EXAMPLE}"):
        plan_day(value, "from")
    with pytest.raises(ForecastingError, match=EXAMPLE):
        plan_date(pd.NaT if value == "NaT" else value)


def test_replan_reads_as_of_with_the_same_parser(examples_dir):
    from optimizer import load_curves, load_spec
    from scenarios.replan import replan

    curves, spec = load_curves(examples_dir / "curves.json"), load_spec(examples_dir / "plan.yaml")
    with pytest.raises(
        PlanDateError, match=f"the as_of date '02/01/2027' is not a date: {EXAMPLE}"
    ):
        replan(curves, spec, [], "02/01/2027")


def test_scenario_run_with_a_bad_date_exits_2(folder):
    path = scenario(folder, start="01/02/2027")
    p = subprocess.run(
        [str(ADPLAN), "scenario", "run", str(path), "--out", str(folder / "out"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2, p.stderr
    assert f"q.yaml: from: '01/02/2027' is not a date: {EXAMPLE}" in p.stderr
    assert p.stdout == "" and not (folder / "out").exists()
