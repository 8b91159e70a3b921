"""What users pipe, tested as they pipe it: the real ``adplan`` executable in a subprocess.

``CliRunner`` cannot see a C library writing to file descriptor 1 (HiGHS prints its banner
from ``Highs()``), so every command that offers ``--json`` runs here as a process and its
standard output must be one JSON document, nothing before or after it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ADPLAN = Path(sys.executable).with_name("adplan")


def run(*args: str, code: int = 0, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    env.update(env_extra)
    p = subprocess.run(
        [str(ADPLAN), *args], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert p.returncode == code, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def parse(p: subprocess.CompletedProcess):
    """The whole of standard output is JSON (json.loads refuses a banner or a log line)."""
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """``adplan demo --json`` once, solved by CBC (ADPLAN_SOLVER); its files feed the others.

    Once per test run, not once per xdist worker: the first worker to get here runs it under
    a lock in the run's shared temporary folder, the others read what it wrote.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "cli-json-demo"
    with (shared / "cli-json-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        answer = shared / "cli-json-demo.json"
        if not answer.exists():
            p = run("demo", "--out", str(out), "--json", ADPLAN_SOLVER="cbc")
            parse(p)
            answer.write_text(p.stdout)
        result = json.loads(answer.read_text())
    assert [s["status"] for s in result["steps"]] == ["done"] * len(result["steps"])
    assert Path(result["out_dir"]) == out
    return out


def test_demo_json_lists_every_step(demo):
    assert (demo / "plan.json").is_file() and (demo / "replan.json").is_file()


def test_demo_honours_the_solver_setting(demo):
    for name in ("plan.json", "replan.json", "scenario/q1-2027/plan.json"):
        assert json.loads((demo / name).read_text())["solver"]["name"] == "cbc", name


def test_ingest_json(demo):
    report = parse(run("ingest", str(demo / "sample-history.csv"), "--json"))
    assert report["rows_written"] == report["rows_read"] == 4992


def test_backtest_json(demo, tmp_path):
    # two networks of the sample: the JSON contract, not the models, is under test here
    rows = (demo / "sample-history.csv").read_text().splitlines()
    small = [rows[0]] + [r for r in rows[1:] if ",meta," in r or ",tiktok," in r]
    (tmp_path / "h.csv").write_text("\n".join(small) + "\n")
    result = parse(run("backtest", "--history", str(tmp_path / "h.csv"), "--json"))
    assert "chosen" in json.dumps(result)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_optimize_json(demo, solver):
    args = ("--curves", str(demo / "curves.json"), "--spec", str(demo / "spec.yaml"))
    plan = parse(run("optimize", *args, "--solver", solver, "--json"))
    assert plan["status"] == "optimal" and plan["solver"]["name"] == solver
    assert plan["total_spend"] == pytest.approx(sum(ln["spend"] for ln in plan["lines"]))


def test_optimize_target_json(demo):
    args = ("--curves", str(demo / "curves.json"), "--spec", str(demo / "spec.yaml"))
    plan = parse(run("optimize", *args, "--target-results", "20000", "--json"))
    assert plan["expected_results"] == pytest.approx(20000, rel=1e-6)


def test_optimize_infeasible_json_keeps_stdout_clean(demo, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"budget": 1000, "networks": {"meta": {"min": 5000}}}))
    p = run(
        "optimize", "--curves", str(demo / "curves.json"), "--spec", str(spec), "--json", code=1
    )
    assert p.stdout == "" and "infeasible" in p.stderr


def test_frontier_json(demo):
    args = ("--curves", str(demo / "curves.json"), "--spec", str(demo / "spec.yaml"))
    points = parse(run("frontier", *args, "--budgets", "400000:900000:3", "--json"))
    assert [round(p["budget"]) for p in points] == [400000, 650000, 900000]


def test_scenario_run_and_compare_json(demo, tmp_path):
    result = parse(
        run("scenario", "run", str(demo / "scenario.yaml"), "--out", str(tmp_path), "--json")
    )
    assert "budget-minus-10" in json.dumps(result)
    compared = parse(
        run("scenario", "compare", str(demo / "scenario.yaml"), "--variants", "--json")
    )
    assert "tiktok-dearer" in json.dumps(compared)


def test_replan_json(demo, tmp_path):
    args = ("--spec", str(demo / "spec.yaml"), "--curves", str(demo / "curves.json"))
    result = parse(
        run("replan", *args, "--actuals", str(demo / "actuals.csv"), "--as-of", "2027-02-01",
            "--out", str(tmp_path / "replan.json"), "--json")
    )  # fmt: skip
    assert json.loads((tmp_path / "replan.json").read_text()) is not None
    assert "lines" in json.dumps(result)


def test_version():
    p = run("--version")
    assert p.stdout.startswith("adplan ") and p.stdout.count("\n") == 1
