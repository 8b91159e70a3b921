"""The response options on the command line: every command that forecasts from --history.

``--carryover``, ``--season``, ``--shape``, ``--events``, ``--priors``, ``--lift`` and
``--incremental`` are read by ``forecasting.options.response_options`` (through
``cli.commands._common.response_option``) and handed to ``forecast_curves``. The real
``adplan`` executable runs in a subprocess (piped JSON, exit codes, messages); one spy test
runs the commands in process to see what reaches ``forecast_curves``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting.options import CARRYOVER_WORDS, SEASON_WORDS, SHAPE_WORDS, response_options
from tests.power_history import power_law_rows

ADPLAN = Path(sys.executable).with_name("adplan")
WINDOW = ("--from", "2027-01-04", "--to", "2027-01-31")
OPTIONS = ("--carryover", "--season", "--shape", "--events", "--priors", "--lift", "--incremental")


def adplan(*args, code: int | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``adplan`` executable; check its exit code when ``code`` is given."""
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    env["COLUMNS"] = "200"
    p = subprocess.run(
        [str(ADPLAN), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=cwd,
    )
    if code is not None:
        assert p.returncode == code, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def words(text: str) -> str:
    """Return ``text`` on one line, Rich's boxes and wrapping removed."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A history (20 weeks, two networks), a spec, curves and events, priors and lift files."""
    d = tmp_path_factory.mktemp("cli-response")
    rows = power_law_rows(20, (("meta", 1000.0), ("tiktok", 600.0)))
    with (d / "history.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (d / "spec.yaml").write_text("budget: 8000\n", encoding="utf-8")
    (d / "events.csv").write_text(
        "name,start,end,network,promotion\n"
        "Spring sale,2026-03-02,2026-03-08,,yes\n"
        "Spring sale,2027-01-11,2027-01-17,,yes\n",
        encoding="utf-8",
    )
    (d / "priors.yaml").write_text(
        "priors:\n  - network: meta\n    cpr: 14\n    elasticity: 0.6\n", encoding="utf-8"
    )
    (d / "lift.csv").write_text(
        "network,segment,result_type,incremental_per_result,low,high,level\n"
        "meta,,,0.6,0.4,0.8,0.9\n"
        "tiktok,,,0.9,0.6,1.3,\n",
        encoding="utf-8",
    )
    curves = {
        "currency": "EUR",
        "result_type": "purchases",
        "lines": [
            {
                "network": "meta",
                "segment": "all",
                "period": "2027-W01",
                "points": [[0, 0], [5000, 200]],
            }
        ],
    }
    (d / "curves.json").write_text(json.dumps(curves), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def forecast_json(folder) -> dict:
    """``adplan forecast --json`` with every response option (one forecast, shared)."""
    p = adplan(
        "forecast", "--history", folder / "history.csv", *WINDOW,
        "--out", folder / "curves-out.json",
        "--carryover", "0.5", "--season", "network", "--shape", "power",
        "--events", folder / "events.csv", "--priors", folder / "priors.yaml",
        "--lift", folder / "lift.csv", "--incremental", "--json",
        code=0,
    )  # fmt: skip
    return json.loads(p.stdout)  # the whole of standard output is the JSON


def test_forecast_json_reports_the_options_it_was_given(forecast_json, folder):
    response = forecast_json["response"]
    assert response["carryover"] == {"meta": 0.5, "tiktok": 0.5}
    # 20 weeks of history: too short for a season per network, said so, the common one used
    assert response["season"] == "common"
    assert any("--season network needs a year" in w for w in forecast_json["warnings"])
    assert response["basis"] == "incremental"
    assert response["priors"] == str(folder / "priors.yaml")
    assert response["lift"] == str(folder / "lift.csv")
    assert response["events"] == ["promotion"]  # the history saw the promotion: its effect
    lines = {ln["network"]: ln for ln in forecast_json["lines"]}
    assert {n: ln["carryover"] for n, ln in lines.items()} == {"meta": 0.5, "tiktok": 0.5}
    assert {n: ln["lift"] for n, ln in lines.items()} == {"meta": 0.6, "tiktok": 0.9}
    assert "curves" not in forecast_json  # written to --out
    assert json.loads((folder / "curves-out.json").read_text())["lines"]


def test_forecast_table_shows_the_response_and_its_columns(folder, tmp_path):
    p = adplan(
        "forecast", "--history", "history.csv", *WINDOW, "--out", tmp_path / "c.json",
        "--carryover", "0.3", "--lift", "lift.csv",
        code=0, cwd=folder,
    )  # fmt: skip
    text = words(p.stdout)
    assert "carry-over" in text and "lift" in text  # the per-line columns
    assert "Response" in text
    assert "carry-over meta 0.3, tiktok 0.3" in text  # the carry-over chosen per network
    assert "lift tests lift.csv" in text and "results attributed" in text
    assert "priors none" in text


def test_forecast_table_has_response_columns_only_off_the_defaults():
    from dataclasses import replace

    from cli.commands.forecast import _response_cell, _response_columns
    from forecasting.curves import LineForecast

    line = LineForecast(
        network="meta", segment="all", history_periods=20, history_max_spend=2.0,
        typical_spend=1.0, cost_per_result=1.0, elasticity=0.8,
    )  # fmt: skip
    assert _response_columns([line]) == []
    hill = replace(line, shape="hill", prior_share=0.4)
    assert _response_columns([line, hill]) == ["shape", "prior share"]
    assert _response_cell(hill, "prior share") == "40% / -"
    assert _response_cell(line, "prior share") == "-"
    assert _response_columns([replace(line, carryover=0.3, lift=0.6)]) == ["carry-over", "lift"]


def test_optimize_json_stays_pure_with_the_options(folder):
    p = adplan(
        "optimize", "--spec", folder / "spec.yaml", "--history", folder / "history.csv", *WINDOW,
        "--carryover", "0", "--season", "common", "--lift", folder / "lift.csv", "--json",
        code=0,
    )  # fmt: skip
    plan = json.loads(p.stdout)
    assert plan["status"] == "optimal"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--carryover", "2"), "--carryover '2' is not a carry-over: give 'auto' or a decay from 0 to 0.9"),
        (("--carryover", "-0.1"), "--carryover '-0.1' is not a carry-over"),
        (("--carryover", "lots"), "--carryover 'lots' is not a carry-over"),
        (("--season", "weekly"), "--season 'weekly' is not one of auto, common, network"),
        (("--shape", "cubic"), "--shape 'cubic' is not one of auto, power, hill"),
        (("--incremental",), "incremental results need lift tests"),
    ],
)  # fmt: skip
def test_a_bad_option_exits_2_naming_it(folder, tmp_path, args, needle):
    p = adplan(
        "forecast", "--history", folder / "history.csv", *WINDOW, "--out", tmp_path / "c.json",
        *args, code=2,
    )  # fmt: skip
    assert needle in words(p.stderr)
    assert not (tmp_path / "c.json").exists()


def test_a_missing_or_bad_file_exits_2_naming_it(folder, tmp_path):
    p = adplan(
        "forecast", "--history", folder / "history.csv", *WINDOW, "--out", tmp_path / "c.json",
        "--events", tmp_path / "nope.csv", code=2,
    )  # fmt: skip
    assert "events file" in p.stderr and "nope.csv does not exist" in words(p.stderr)
    bad = tmp_path / "lift.csv"
    bad.write_text("network,incremental_per_result,low,high\nmeta,0.5,0.6,0.9\n", encoding="utf-8")
    p = adplan(
        "optimize", "--spec", folder / "spec.yaml", "--history", folder / "history.csv", *WINDOW,
        "--lift", bad, code=2,
    )  # fmt: skip
    assert "lift.csv: data row 1 (line 2)" in words(p.stderr)


@pytest.mark.parametrize(
    "command",
    [
        ("optimize", "--spec", "{spec}", "--curves", "{curves}"),
        ("frontier", "--spec", "{spec}", "--curves", "{curves}", "--budgets", "1000,2000"),
        ("replan", "--spec", "{spec}", "--curves", "{curves}", "--actuals", "{history}",
         "--as-of", "2027-01-18"),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "option",
    [("--carryover", "0.3"), ("--shape", "hill"), ("--events", "{events}"), ("--incremental",)],
)
def test_the_options_with_curves_are_refused(folder, command, option):
    paths = {
        "spec": folder / "spec.yaml",
        "curves": folder / "curves.json",
        "history": folder / "history.csv",
        "events": folder / "events.csv",
    }
    args = [a.format(**paths) for a in (*command, *option)]
    p = adplan(*args, code=2)
    assert (
        f"{option[0]} applies to curves forecast from --history; curves read with --curves "
        "are already made" in words(p.stderr)
    )


@pytest.mark.parametrize("command", ["forecast", "optimize", "frontier", "replan"])
def test_help_documents_every_option(command):
    text = words(adplan(command, "--help", code=0).stdout)
    for option in OPTIONS:
        assert option in text, option
    for sentence in (CARRYOVER_WORDS, SEASON_WORDS, SHAPE_WORDS):
        assert sentence in text


# -- what reaches forecast_curves (in process: a spy in its place) ---------------------------


@pytest.fixture
def spy(monkeypatch):
    """Put a spy in forecast_curves' place: it keeps its ``response`` and stops the command."""
    import forecasting
    from forecasting.errors import ForecastingError

    seen: list = []

    class Stopped(ForecastingError):
        pass

    def fake(*args, **kwargs):
        seen.append(kwargs.get("response"))
        raise Stopped("spy: stopped")

    monkeypatch.setattr(forecasting, "forecast_curves", fake)
    return seen


@pytest.mark.parametrize(
    "command",
    [
        ("forecast", "--out", "{out}"),
        ("optimize", "--spec", "{spec}"),
        ("frontier", "--spec", "{spec}", "--budgets", "1000"),
        ("replan", "--spec", "{spec}", "--actuals", "{history}", "--as-of", "2027-01-18"),
    ],
)
def test_every_option_reaches_forecast_curves(folder, tmp_path, spy, command):
    from typer.testing import CliRunner

    from cli.main import app

    paths = {
        "spec": folder / "spec.yaml",
        "history": folder / "history.csv",
        "out": tmp_path / "c.json",
    }
    args = [a.format(**paths) for a in command]
    r = CliRunner().invoke(
        app,
        [
            *args, "--history", str(folder / "history.csv"), *WINDOW,
            "--carryover", "0.25", "--season", "common", "--shape", "hill",
            "--events", str(folder / "events.csv"), "--priors", str(folder / "priors.yaml"),
            "--lift", str(folder / "lift.csv"), "--incremental",
        ],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert r.exit_code == 2 and "spy: stopped" in r.stderr, r.output
    assert spy == [
        response_options(
            carryover=0.25,
            season="common",
            shape="hill",
            events=folder / "events.csv",
            priors=folder / "priors.yaml",
            lift=folder / "lift.csv",
            basis="incremental",
        )
    ]


def test_response_option_builds_the_options_or_refuses():
    import typer

    from cli.commands._common import response_option
    from forecasting.errors import ForecastingError
    from forecasting.options import DEFAULT_RESPONSE

    history = Path("h.csv")
    assert response_option(history) == DEFAULT_RESPONSE
    assert response_option(None) == DEFAULT_RESPONSE  # nothing given: nothing to refuse
    got = response_option(history, carryover="AUTO", season=" network ", shape="Hill")
    assert got == response_options(season="network", shape="hill")
    assert response_option(history, carryover="0.6").carryover == 0.6
    with pytest.raises(typer.Exit):
        response_option(None, shape="hill")
    with pytest.raises(ForecastingError, match="--carryover '1' is not a carry-over"):
        response_option(history, carryover="1", incremental=True)
    with pytest.raises(ForecastingError, match="incremental results need lift tests"):
        response_option(history, incremental=True)


def test_inside_and_after_add_up_to_the_headline(tmp_path):
    # two lines of 100.05 results, half of each inside the plan: 200.1 = 100.1 + 100.0
    lines = [
        {"network": n, "segment": "all", "period": "2027-W01", "inside": 0.5,
         "points": [[0, 0], [1000, 100.05]]}
        for n in ("meta", "tiktok")
    ]  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps({"currency": "EUR", "lines": lines}))
    (tmp_path / "s.yaml").write_text("budget: 5000\n")
    p = adplan("optimize", "--curves", "c.json", "--spec", "s.yaml", code=0, cwd=tmp_path)
    text = words(p.stdout)
    assert "-> 200.1 results" in text
    assert "inside the plan's dates: 100.1; after them (carry-over): 100.0" in text


def test_inside_and_after_add_up_to_the_headline_at_a_half(tmp_path):
    # 100.25 results show as 100.2 (half to even); inside and after, 50.125 each, follow it
    lines = [
        {"network": n, "segment": "all", "period": "2027-W01", "inside": 0.5,
         "points": [[0, 0], [1000, 50.125]]}
        for n in ("meta", "tiktok")
    ]  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps({"currency": "EUR", "lines": lines}))
    (tmp_path / "s.yaml").write_text("budget: 5000\n")
    text = words(adplan("optimize", "--curves", "c.json", "--spec", "s.yaml", code=0,
                        cwd=tmp_path).stdout)  # fmt: skip
    head = float(text.split("-> ")[1].split(" ")[0])
    inside = float(text.split("inside the plan's dates: ")[1].split(";")[0])
    after = float(text.split("after them (carry-over): ")[1].split(" ")[0])
    assert round(inside + after, 1) == head
