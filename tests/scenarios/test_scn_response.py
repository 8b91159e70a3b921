"""A scenario file's ``response:``: how its history is forecast (carry-over ... lift tests).

Real files in tmp_path: a canonical history CSV, events, priors and lift files, and scenario
YAML written as an SMM would. The options are read by ``forecasting.options.response_options``
(the check of ``--carryover`` ... ``--incremental``); errors name the file and the key.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting.options import DEFAULT_RESPONSE, response_options
from scenarios.errors import ScenarioFileError
from scenarios.files import load_scenario
from scenarios.forecast_inputs import ResponseOptionError, read_response
from scenarios.runs import run_scenario
from tests.power_history import power_law_rows

ADPLAN = Path(sys.executable).with_name("adplan")


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A history and its events, priors and lift files in ``data/``; scenarios go beside it."""
    rows = power_law_rows(16, (("meta", 900.0), ("tiktok", 500.0)), "leads", 0.3, math.cos, 1.3)
    data = tmp_path / "data"
    data.mkdir()
    with (data / "history.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (data / "events.yaml").write_text(
        "events:\n"
        "  - {name: Spring sale, start: 2026-03-02, end: 2026-03-08, promotion: true}\n"
        "  - {name: Spring sale, start: 2027-01-11, end: 2027-01-17, promotion: true}\n",
        encoding="utf-8",
    )
    (data / "priors.yaml").write_text(
        "priors:\n  - network: meta\n    cpr: 14\n    elasticity: 0.6\n", encoding="utf-8"
    )
    (data / "lift.csv").write_text(
        "network,segment,result_type,incremental_per_result,low,high,level\n"
        "meta,,,0.6,0.4,0.8,0.9\n"
        "tiktok,,,0.9,0.6,1.3,\n",
        encoding="utf-8",
    )
    return tmp_path


def scenario(folder: Path, *lines: str, head: tuple[str, ...] | None = None) -> Path:
    """Write ``folder/q.yaml`` forecast from ``data/history.csv``, with ``lines`` added."""
    body = head or (
        "name: resp",
        "history: data/history.csv",
        "from: 2027-01-04",
        "to: 2027-01-31",
        "period: week",
        "spec: {budget: 20000}",
    )
    path = folder / "q.yaml"
    path.write_text("\n".join([*body, *lines]) + "\n", encoding="utf-8")
    return path


FULL = (
    "response:",
    "  carryover: 0.4",
    "  season: Common",
    "  shape: hill",
    "  events: data/events.yaml",
    "  priors: data/priors.yaml",
    "  lift: data/lift.csv",
    "  results: incremental",
)


def test_the_response_is_read_with_paths_beside_the_scenario(folder, monkeypatch):
    monkeypatch.chdir(folder / "data")  # the working folder does not matter
    sc = load_scenario(scenario(folder, *FULL))
    data = folder / "data"
    assert sc.response == response_options(
        carryover=0.4,
        season="common",
        shape="hill",
        events=data / "events.yaml",
        priors=data / "priors.yaml",
        lift=data / "lift.csv",
        basis="incremental",
    )
    assert sc.response.to_dict()["lift"] == str(data / "lift.csv")


def test_no_response_is_the_defaults(folder):
    assert load_scenario(scenario(folder)).response == DEFAULT_RESPONSE
    sc = load_scenario(scenario(folder, "response: {carryover: auto}"))
    assert sc.response == DEFAULT_RESPONSE


def test_the_run_forecasts_with_the_response(folder):
    run = run_scenario(
        scenario(folder, "response:", "  carryover: 0.4", "  lift: data/lift.csv"),
        frontier=False,
    )
    said = run.curves.meta["response"]
    assert said["carryover"] == {"meta": 0.4, "tiktok": 0.4}
    assert said["lift"] == str(folder / "data" / "lift.csv")
    assert said["basis"] == "attributed"
    assert run.base.ok


@pytest.mark.parametrize(
    ("lines", "key", "needle"),
    [
        (("response: {decay: 0.3}",), "response.decay", "unknown key; allowed here: carryover, "
         "events, lift, priors, results, season, shape"),
        (("response: {carryover: 2}",), "response.carryover", "carryover '2' is not a carry-over: "
         "give 'auto' or a decay from 0 to 0.9"),
        (("response: {carryover: true}",), "response.carryover", "is not a carry-over"),
        (("response: {season: weekly}",), "response.season", "season 'weekly' is not one of "
         "auto, common, network"),
        (("response: {shape: cubic}",), "response.shape", "is not one of auto, power, hill"),
        (("response: {results: incremental}",), "response.results", "incremental results need "
         "lift tests"),
        (("response: {results: modelled}",), "response.results", "is not one of attributed, "
         "incremental"),
        (("response: {events: data/nope.csv}",), "response.events", "nope.csv does not exist"),
        (("response: {priors: data/lift.csv}",), "response.priors", "unknown column"),
        (("response: {lift: [1, 2]}",), "response.lift", "Input should be a valid string"),
        (("response: [carryover]",), "response", "valid dictionary"),
    ],
)  # fmt: skip
def test_a_bad_response_names_the_file_and_the_key(folder, lines, key, needle):
    with pytest.raises(ScenarioFileError) as e:
        load_scenario(scenario(folder, *lines))
    assert str(e.value).startswith(f"q.yaml: {key}: "), str(e.value)
    assert needle in str(e.value)
    assert e.value.key == key


def test_a_bad_row_of_a_response_file_names_the_row(folder):
    (folder / "data" / "events.yaml").write_text(
        "events:\n  - {name: Sale, start: 2026-13-01}\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioFileError) as e:
        load_scenario(scenario(folder, "response: {events: data/events.yaml}"))
    assert e.value.key == "response.events"
    assert "events.yaml: events[0], key \"start\": '2026-13-01' is not a date" in str(e.value)


def test_a_response_with_curves_from_a_file_is_refused(folder, examples_dir):
    head = ("name: c", f"curves: {examples_dir / 'curves.json'}", "spec: {budget: 1000}")
    with pytest.raises(ScenarioFileError) as e:
        load_scenario(scenario(folder, "response: {carryover: 0.3}", head=head))
    assert e.value.key == "response"
    assert "q.yaml: response: applies to curves forecast from 'history'" in str(e.value)


def test_read_response_names_the_key_at_fault():
    assert read_response({}) == DEFAULT_RESPONSE
    assert read_response({"carryover": "0.3", "results": None}).carryover == 0.3
    for values, key in (
        ({"carryover": 5}, "carryover"),
        ({"shape": "hill", "season": "x"}, "season"),
        ({"results": "incremental"}, "results"),
        ({"lift": [{"network": "meta"}], "results": "incremental"}, "lift"),
        ({"events": []}, "events"),
        ({"priors": {"priors": [{"network": "meta", "elasticity": 3}]}}, "priors"),
        ({"basis": "incremental"}, "basis"),
    ):
        with pytest.raises(ResponseOptionError) as e:
            read_response(values)
        assert e.value.key == key, (values, str(e.value))


def test_scenario_run_exits_2_naming_the_key(folder):
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    path = scenario(folder, "response: {shape: cubic}")
    p = subprocess.run(
        [str(ADPLAN), "scenario", "run", str(path), "--out", str(folder / "out"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert p.returncode == 2, p.stderr
    assert "q.yaml: response.shape: shape 'cubic' is not one of auto, power, hill" in p.stderr
    assert p.stdout == ""
