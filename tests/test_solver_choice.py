"""The solver choice is honoured by every entry point: explicit > ADPLAN_SOLVER > highs.

Each test checks the solver that actually ran: ``solver.name`` in the Plan JSON, ``solver``
in each frontier point, and, where nothing is written, the plans the run made. The rule is
one function, ``scenarios.solver.choose_solver``; an unknown name is the same message from
the CLI (exit 2) and over HTTP (422).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from scenarios.solver import SOLVER_ENV, choose_solver, unknown_solver_message

from .service.conftest import CURVES, HEADERS, KEY, SPEC, ServerThread

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"
BUDGETS = "30000:90000:7"  # 7 budgets: HiGHS would take its reduced-LP path for these


@pytest.fixture(autouse=True)
def _no_solver_in_env(monkeypatch):
    monkeypatch.delenv(SOLVER_ENV, raising=False)


@pytest.fixture
def work(tmp_path) -> Path:
    """A copy of the bundled examples (curves.json, plan.yaml, the two scenarios)."""
    d = tmp_path / "examples"
    shutil.copytree(EXAMPLES, d)
    return d


def cli(*args, code: int = 0):
    r = CliRunner().invoke(cli_app, [str(a) for a in args])
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def error_line(r) -> str:
    """The message of the CLI's ``error:`` line (stderr)."""
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert lines, r.stderr
    return lines[-1].removeprefix("error: ")


# -- the rule -------------------------------------------------------------------------------


def test_the_rule_explicit_then_setting_then_environment_then_highs():
    env = {SOLVER_ENV: "cbc"}
    assert choose_solver(environ={}) == "highs"
    assert choose_solver(environ=env) == "cbc"
    assert choose_solver("HiGHS ", environ=env) == "highs"
    assert choose_solver(None, "cbc", environ={}) == "cbc"
    assert choose_solver("highs", "cbc", environ=env) == "highs"
    assert choose_solver("", " ", environ={SOLVER_ENV: ""}) == "highs"  # blank: not given


# -- CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env", "used"),
    [(None, None, "highs"), ("cbc", None, "cbc"), (None, "cbc", "cbc"), ("highs", "cbc", "highs")],
)
def test_optimize_plan(work, monkeypatch, flag, env, used):
    if env:
        monkeypatch.setenv(SOLVER_ENV, env)
    extra = ["--solver", flag] if flag else []
    r = cli(
        "optimize", "--curves", work / "curves.json", "--spec", work / "plan.yaml", *extra, "--json"
    )
    assert json.loads(r.stdout)["solver"]["name"] == used


def test_optimize_target_results(work, monkeypatch):
    monkeypatch.setenv(SOLVER_ENV, "cbc")
    r = cli(
        "optimize",
        "--curves",
        work / "curves.json",
        "--spec",
        work / "plan.yaml",
        "--target-results",
        1000,
        "--json",
    )
    plan = json.loads(r.stdout)
    assert plan["solver"]["name"] == "cbc"
    assert plan["expected_results"] == pytest.approx(1000, rel=1e-6)


@pytest.mark.parametrize("how", ["flag", "env"])
def test_frontier_budgets_use_the_chosen_solver(work, monkeypatch, how):
    """The known bug: --solver cbc and ADPLAN_SOLVER=cbc were ignored for budget frontiers."""
    from optimizer.solvers import CbcSolver

    solves = []
    original = CbcSolver.solve

    def counting(self):
        solves.append(1)
        return original(self)

    monkeypatch.setattr(CbcSolver, "solve", counting)
    if how == "env":
        monkeypatch.setenv(SOLVER_ENV, "cbc")
    extra = ["--solver", "cbc"] if how == "flag" else []
    args = ["frontier", "--curves", work / "curves.json", "--spec", work / "plan.yaml"]
    r = cli(*args, "--budgets", BUDGETS, *extra, "--json")
    points = json.loads(r.stdout)
    assert len(points) == 7
    assert {p["solver"] for p in points} == {"cbc"}
    assert len(solves) >= 7  # every budget solved by CBC
    r = cli(*args, "--budgets", BUDGETS, "--solver", "highs", "--json")
    assert {p["solver"] for p in json.loads(r.stdout)} == {"highs"}


def _actuals(path: Path) -> Path:
    path.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2027-01-05,meta,f-25-34,purchases,3000,120\n"
        "2027-01-12,tiktok,m-25-34,purchases,2500,90\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("how", ["flag", "env"])
def test_replan(work, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv(SOLVER_ENV, "cbc")
    extra = ["--solver", "cbc"] if how == "flag" else []
    r = cli(
        "replan",
        "--spec",
        work / "plan.yaml",
        "--curves",
        work / "curves.json",
        "--actuals",
        _actuals(work / "actuals.csv"),
        "--as-of",
        "2027-02-01",
        *extra,
        "--json",
    )
    assert json.loads(r.stdout)["solver"]["name"] == "cbc"


def test_scenario_run_plans_and_base_frontier(work, monkeypatch):
    """Every variant's plan and the base's frontier (which ignored the solver) use CBC."""
    import scenarios.runs

    frontiers = []
    original = scenarios.runs.base_frontier

    def recording(run, solver=None, time_limit=None, executor=None):
        frontiers.append(original(run, solver, time_limit, executor=executor))
        return frontiers[-1]

    monkeypatch.setattr(scenarios.runs, "base_frontier", recording)
    monkeypatch.setenv(SOLVER_ENV, "cbc")
    out = work / "out"
    r = cli("scenario", "run", work / "q1-2027.yaml", "--out", out, "--json")
    names = json.loads(r.stdout)["variants"]
    plans = [json.loads((out / v / "plan.json").read_text()) for v in names]
    assert len(plans) == 4 and {p["solver"]["name"] for p in plans} == {"cbc"}
    assert len(frontiers) == 1 and len(frontiers[0]) == 9
    assert {p["solver"] for p in frontiers[0]} == {"cbc"}


def test_scenario_run_in_python_names_the_solver_of_the_frontier(work):
    from scenarios.runs import run_scenario

    run = run_scenario(work / "q1-2027.yaml", solver="cbc", report=False)
    assert {p["solver"] for p in run.frontier} == {"cbc"}
    run = run_scenario(work / "q1-2027.yaml", report=False)  # no choice: the default
    assert {p["solver"] for p in run.frontier} == {"highs"}


def test_scenario_compare(work, monkeypatch):
    import scenarios.runs

    used = []
    original = scenarios.runs.optimise

    def recording(*args, **kwargs):
        plan = original(*args, **kwargs)
        used.append(plan.solver["name"])
        return plan

    monkeypatch.setattr(scenarios.runs, "optimise", recording)
    files = (work / "q1-2027.yaml", work / "q1-2027-b2b.yaml")
    cli("scenario", "compare", *files, "--solver", "cbc", "--json")
    assert used and set(used) == {"cbc"}
    used.clear()
    cli("scenario", "compare", *files, "--json")
    assert used and set(used) == {"highs"}


# the demo: tests/test_cli_json.py runs it once with ADPLAN_SOLVER=cbc and checks its plans


# -- HTTP -----------------------------------------------------------------------------------


def _app(tmp_path, **settings):
    from service import Settings, create_app

    db = f"sqlite:///{tmp_path / 'adplan.db'}"
    return create_app(Settings(api_keys=[KEY], database_url=db, **settings))


def test_http_plans_frontiers_and_scenario_runs_on_a_real_server(tmp_path, monkeypatch):
    """ADPLAN_SOLVER reaches every operation; a request's own choice wins."""
    import httpx

    monkeypatch.setenv(SOLVER_ENV, "cbc")
    with ServerThread(_app(tmp_path)) as server, httpx.Client(base_url=server.url) as c:
        body = {"curves": CURVES, "spec": SPEC}
        r = c.post("/v1/plans", headers=HEADERS, json=body)
        assert r.status_code == 201, r.text
        assert r.json()["solver"]["name"] == "cbc"
        r = c.post("/v1/plans", headers=HEADERS, json={**body, "solver": "highs"})
        assert r.json()["solver"]["name"] == "highs"

        budgets = [2000, 3000, 4000, 5000, 6000, 7000, 8000]
        r = c.post("/v1/frontiers", headers=HEADERS, json={**body, "budgets": budgets})
        assert r.status_code == 200, r.text
        assert [p["solver"] for p in r.json()["points"]] == ["cbc"] * 7
        r = c.post(
            "/v1/frontiers", headers=HEADERS, json={**body, "budgets": budgets, "solver": "highs"}
        )
        assert {p["solver"] for p in r.json()["points"]} == {"highs"}

        run = {
            "name": "q1",
            **body,
            "variants": [{"name": "cut", "overrides": {"budget": "-10%"}}],
            "frontier": True,
        }
        r = c.post("/v1/scenario-runs", headers=HEADERS, json=run)
        assert r.status_code == 201, r.text
        got = r.json()
        assert [v["plan"]["solver"]["name"] for v in got["plans"]] == ["cbc", "cbc"]
        assert got["frontier"] and {p["solver"] for p in got["frontier"]} == {"cbc"}


def test_http_request_field_without_a_setting(tmp_path):
    with TestClient(_app(tmp_path)) as c:
        body = {"curves": CURVES, "spec": SPEC}
        assert c.post("/v1/plans", headers=HEADERS, json=body).json()["solver"]["name"] == "highs"
        r = c.post("/v1/plans", headers=HEADERS, json={**body, "solver": "cbc"})
        assert r.json()["solver"]["name"] == "cbc"
        run = {"name": "q1", **body, "solver": "cbc", "frontier": True}
        r = c.post("/v1/scenario-runs", headers=HEADERS, json=run)
        assert r.json()["plans"][0]["plan"]["solver"]["name"] == "cbc"
        assert {p["solver"] for p in r.json()["frontier"]} == {"cbc"}


# -- an unknown solver: one message, exit 2 / 422 -------------------------------------------


def test_unknown_solver_is_the_same_error_on_the_cli_and_over_http(work, tmp_path):
    message = unknown_solver_message("gurobi")
    assert message == "solver 'gurobi' is not known; use one of highs, cbc"
    curves, spec = work / "curves.json", work / "plan.yaml"
    scenario = work / "q1-2027.yaml"
    acts = _actuals(work / "actuals.csv")
    commands = [
        ["optimize", "--curves", curves, "--spec", spec],
        ["optimize", "--curves", curves, "--spec", spec, "--target-results", 10],
        ["frontier", "--curves", curves, "--spec", spec, "--budgets", BUDGETS],
        ["replan", "--spec", spec, "--curves", curves, "--actuals", acts, "--as-of", "2027-02-01"],
        ["scenario", "run", scenario, "--out", work / "out"],
        ["scenario", "compare", scenario, work / "q1-2027-b2b.yaml"],
        ["demo", "--out", tmp_path / "demo"],
    ]
    for args in commands:
        r = cli(*args, "--solver", "gurobi", code=2)
        assert error_line(r) == message, args
    assert not (tmp_path / "demo").exists()  # refused before anything is done

    body = {"curves": CURVES, "spec": SPEC, "solver": "gurobi"}
    with TestClient(_app(tmp_path)) as c:
        for path, extra in (
            ("/v1/plans", {}),
            ("/v1/frontiers", {"budgets": [1000, 2000]}),
            ("/v1/scenario-runs", {"name": "q1"}),
        ):
            r = c.post(path, headers=HEADERS, json={**body, **extra})
            assert r.status_code == 422, (path, r.text)
            assert r.json() == {"error": "invalid_request", "detail": message}


def test_unknown_solver_in_the_environment_names_the_setting(work, monkeypatch):
    from pydantic import ValidationError

    from service import Settings

    monkeypatch.setenv(SOLVER_ENV, "gurobi")
    message = f"setting {SOLVER_ENV}: {unknown_solver_message('gurobi')}"
    r = cli("optimize", "--curves", work / "curves.json", "--spec", work / "plan.yaml", code=2)
    assert error_line(r) == message
    r = cli("scenario", "run", work / "q1-2027.yaml", "--out", work / "out", code=2)
    assert error_line(r) == message
    monkeypatch.setenv("ADPLAN_API_KEYS", KEY)
    r = cli("serve", "--port", 1, code=2)  # refused before it listens
    assert error_line(r) == message
    with pytest.raises(ValidationError, match=unknown_solver_message("gurobi")):
        Settings()
    # an explicit choice does not read the setting
    r = cli(
        *("optimize", "--curves", work / "curves.json", "--spec", work / "plan.yaml"),
        *("--solver", "highs", "--json"),
    )
    assert json.loads(r.stdout)["solver"]["name"] == "highs"
