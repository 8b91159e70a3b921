"""Dates read one way and the curve cap multiple as an option, on every command.

Every date a user types on a command (``--from``, ``--to``, ``--as-of``) is YYYY-MM-DD within
1900-01-01..2200-12-31 or refused with exit 2, naming the option and the value with an
example; ``--cap-multiple`` sets where forecast curves end (1 to 10, default 1.5) on every
command that forecasts from ``--history``. The headline refusal and the piped JSON run the
real ``adplan`` executable; the other refusals and tables run in process (the same code, without
a new interpreter under coverage each time).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.power_history import power_law_rows

ADPLAN = Path(sys.executable).with_name("adplan")
RUNNER = CliRunner()
EXAMPLE = "write it as YYYY-MM-DD, e.g. 2027-01-04"
#: the window forecast in these tests: 4 ISO weeks, 2027-W01..W04
WINDOW = ("--from", "2027-01-04", "--to", "2027-01-31")


def adplan(*args, code: int | None = None, real: bool = False):
    """Run adplan: in process (refusals, tables), or the real executable (``real``: piped JSON)."""
    if real:
        env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
        env["COLUMNS"] = "200"
        p = subprocess.run(
            [str(ADPLAN), *map(str, args)], capture_output=True, text=True, env=env, timeout=300
        )
    else:
        r = RUNNER.invoke(app, list(map(str, args)), env={"COLUMNS": "200", "ADPLAN_SOLVER": ""})
        p = SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)
    if code is not None:
        assert p.returncode == code, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def history_rows() -> list[dict]:
    """20 weeks of two lines whose results follow 0.2 x spend^0.8; spend varies week to week."""
    return power_law_rows(20, (("meta", 1000.0), ("tiktok", 600.0)))


def highest_spend(rows: list[dict]) -> dict[str, float]:
    """The highest spend of each line (network) in one week of the history."""
    top: dict[str, float] = {}
    for r in rows:
        top[r["network"]] = max(top.get(r["network"], 0.0), r["spend"])
    return top


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dates-cap") / "history.csv"
    rows = history_rows()
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    """A budget far above what the curves can hold: every line is planned to its curve's end."""
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text("budget: 10000000\n", encoding="utf-8")
    return path


def forecast(history: Path, out: Path, *extra) -> dict:
    adplan("forecast", "--history", history, *WINDOW, "--model", "glm", "--out", out, *extra,
           code=0)  # fmt: skip
    return json.loads(out.read_text())


def curve_ends(curves: dict) -> dict[str, list[float]]:
    """The last spend of each curve line, by network (one line per week)."""
    ends: dict[str, list[float]] = {}
    for ln in curves["lines"]:
        ends.setdefault(ln["network"], []).append(ln["points"][-1][0])
    return ends


# -- dates ----------------------------------------------------------------------------------


def test_forecast_refuses_a_slashed_date_that_pandas_would_read(history, tmp_path):
    out = tmp_path / "c.json"
    p = adplan("forecast", "--history", history, "--from", "01/02/2027", "--to", "2027-03-31",
               "--model", "glm", "--out", out, code=2, real=True)  # fmt: skip
    assert "the --from date '01/02/2027' is not a date" in p.stderr
    assert EXAMPLE in p.stderr and not out.exists()
    assert "Traceback" not in p.stderr and "unexpected" not in p.stderr


@pytest.mark.parametrize(
    "bad", ["20270131", "2027-W05-7", "2027-01-31T00:00:00Z", "2027-02-30", "31.01.2027"]
)
def test_forecast_refuses_every_other_form_of_the_end_date(history, tmp_path, bad):
    p = adplan("forecast", "--history", history, "--from", "2027-01-04", "--to", bad,
               "--model", "glm", "--out", tmp_path / "c.json", code=2)  # fmt: skip
    assert f"the --to date {bad!r} is not a date" in p.stderr and EXAMPLE in p.stderr


def test_dates_outside_the_range_keep_their_message(history, tmp_path):
    p = adplan("forecast", "--history", history, "--from", "1899-12-25", "--to", "2027-01-31",
               "--out", tmp_path / "c.json", code=2)  # fmt: skip
    assert "the --from date 1899-12-25 is outside 1900-01-01..2200-12-31" in p.stderr


@pytest.mark.parametrize("command", ["optimize", "frontier"])
def test_optimize_and_frontier_refuse_the_same_dates(history, spec, command):
    budgets = ["--budgets", "1000,2000"] if command == "frontier" else []
    p = adplan(command, "--spec", spec, *budgets, "--history", history,
               "--from", "01/02/2027", "--to", "2027-01-31", code=2)  # fmt: skip
    assert "the --from date '01/02/2027' is not a date" in p.stderr and EXAMPLE in p.stderr
    p = adplan(command, "--spec", spec, *budgets, "--history", history,
               "--from", "2027-01-04", "--to", "20270131", code=2)  # fmt: skip
    assert "the --to date '20270131' is not a date" in p.stderr


def test_replan_refuses_a_bad_as_of_and_bad_forecast_dates(history, spec, tmp_path):
    curves = tmp_path / "c.json"
    curves.write_text(json.dumps(forecast(history, curves)), encoding="utf-8")
    p = adplan("replan", "--spec", spec, "--actuals", history, "--curves", curves,
               "--as-of", "02/01/2027", code=2)  # fmt: skip
    assert "the --as-of date '02/01/2027' is not a date" in p.stderr and EXAMPLE in p.stderr
    p = adplan("replan", "--spec", spec, "--actuals", history, "--history", history,
               "--from", "2027-W01-1", "--to", "2027-01-31", "--as-of", "2027-01-18",
               code=2)  # fmt: skip
    assert "the --from date '2027-W01-1' is not a date" in p.stderr


# -- the curve cap multiple -------------------------------------------------------------------


def test_cap_multiple_sets_the_last_point_of_every_curve(history, tmp_path):
    top = highest_spend(history_rows())
    default = forecast(history, tmp_path / "default.json")
    tripled = forecast(history, tmp_path / "tripled.json", "--cap-multiple", "3")
    assert default["spend_cap_multiple"] == 1.5 and tripled["spend_cap_multiple"] == 3.0
    for network, ends in curve_ends(tripled).items():
        assert ends == pytest.approx([3 * top[network]] * 4), network
    for network, ends in curve_ends(default).items():
        assert ends == pytest.approx([1.5 * top[network]] * 4), network


def test_dates_with_spaces_around_them_are_read(history, tmp_path):
    out = tmp_path / "c.json"
    adplan("forecast", "--history", history, "--from", " 2027-01-04 ", "--to", "2027-01-31 ",
           "--model", "glm", "--out", out, code=0)  # fmt: skip
    assert sorted({ln["period"] for ln in json.loads(out.read_text())["lines"]}) == [
        "2027-W01", "2027-W02", "2027-W03", "2027-W04",
    ]  # fmt: skip


def test_optimize_and_frontier_forecast_with_the_cap_multiple(history, spec):
    """At a budget no curve can hold, the plan spends every curve's end: 2 x the record."""
    top = highest_spend(history_rows())
    ends = 4 * sum(top.values())  # 4 weeks, each line to its highest weekly spend
    p = adplan("optimize", "--spec", spec, "--history", history, *WINDOW,
               "--cap-multiple", "2", "--json", code=0, real=True)  # fmt: skip
    assert json.loads(p.stdout)["total_spend"] == pytest.approx(2 * ends)
    p = adplan("frontier", "--spec", spec, "--budgets", "10000000", "--history", history,
               *WINDOW, "--cap-multiple", "2", "--json", code=0)  # fmt: skip
    assert json.loads(p.stdout)[0]["total_spend"] == pytest.approx(2 * ends)


@pytest.mark.parametrize("bad", ["0.5", "10.5", "nan", "inf"])
def test_a_cap_multiple_outside_1_to_10_exits_2(history, tmp_path, bad):
    out = tmp_path / "c.json"
    p = adplan("forecast", "--history", history, *WINDOW, "--cap-multiple", bad,
               "--out", out, code=2)  # fmt: skip
    assert "--cap-multiple" in p.stderr and "a number from 1 to 10 (default 1.5)" in p.stderr
    assert not out.exists()


def test_a_cap_multiple_that_is_not_a_number_exits_2(history, tmp_path):
    p = adplan("forecast", "--history", history, *WINDOW, "--cap-multiple", "double",
               "--out", tmp_path / "c.json", code=2)  # fmt: skip
    assert "--cap-multiple" in p.stderr


def test_a_cap_multiple_with_curves_from_a_file_is_refused(history, spec, tmp_path):
    curves = tmp_path / "c.json"
    forecast(history, curves)
    p = adplan("optimize", "--spec", spec, "--curves", curves, "--cap-multiple", "2", code=2)
    assert "--cap-multiple applies to curves forecast from --history" in p.stderr
    p = adplan("replan", "--spec", spec, "--actuals", history, "--curves", curves,
               "--as-of", "2027-01-18", "--cap-multiple", "2", code=2)  # fmt: skip
    assert "--cap-multiple applies to curves forecast from --history" in p.stderr


@pytest.mark.parametrize("command", [["forecast"], ["optimize"], ["frontier"], ["replan"]])
def test_help_documents_the_cap_multiple(command):
    p = adplan(*command, "--help", code=0)
    text = " ".join(p.stdout.replace("│", " ").split())
    assert "--cap-multiple" in text and "from 1 to 10 (default 1.5)" in text


def test_an_over_long_year_or_a_huge_cap_is_bad_input(history, tmp_path):
    r = adplan("forecast", "--history", history, "--from", "9" * 5000 + "-01-01", "--to", "2027-03-01", "--out", tmp_path / "c.json", code=2)  # fmt: skip
    assert "is not a date: write it as YYYY-MM-DD" in r.stderr
    from forecasting.caps import check_cap_multiple
    from forecasting.errors import ForecastingError

    with pytest.raises(ForecastingError, match="not a cap multiple"):
        check_cap_multiple(10**400, "cap_multiple")
