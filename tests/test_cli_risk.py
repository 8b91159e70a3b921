"""`adplan optimize` with ranges, chances and the risk-aware plan, as users run it.

The piped contracts (``--json`` holds only JSON; exit 2 for bad input, 1 when no budget
reaches the chance asked) run the real executable; the printed summary runs in process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app

ADPLAN = str(Path(sys.executable).with_name("adplan"))
RUNNER = CliRunner()
SPREAD = {"level_var": 0.01, "log_spend_centre": 7.0, "elasticity_se": 0.05, "dispersion": 0.01}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("risk")
    lines = [
        {"network": net, "segment": seg, "period": per, "spread": SPREAD,
         "points": [[0, 0], [1000, 60], [3000, 150], [6000, 240]]}
        for net in ("meta", "tiktok") for seg in ("a", "b") for per in ("2027-W01", "2027-W02")
    ]  # fmt: skip
    curves = d / "curves.json"
    curves.write_text(json.dumps({"currency": "EUR", "result_type": "purchases", "lines": lines}))
    spec, cvar = d / "spec.yaml", d / "cvar.yaml"
    spec.write_text(yaml.safe_dump({"budget": 20000}))
    cvar.write_text(yaml.safe_dump({"budget": 20000, "objective": "cvar", "alpha": 0.1}))
    return curves, spec, cvar


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ADPLAN, *args], capture_output=True, text=True, timeout=120)


def test_confidence_finds_a_bigger_budget_and_says_its_chance(files):
    curves, spec, _ = files
    base = ["optimize", "--curves", str(curves), "--spec", str(spec), "--json"]
    plain = json.loads(run(*base, "--target-results", "1000").stdout)
    assert 0.3 < plain["target_probability"] < 0.7  # the least mean reaching it: a coin toss
    p = run(*base, "--target-results", "1000", "--confidence", "0.9")
    assert p.returncode == 0, p.stderr
    sure = json.loads(p.stdout)  # stdout holds only the JSON
    assert sure["target_confidence"] == 0.9 and sure["target_probability"] >= 0.9
    assert sure["total_spend"] > plain["total_spend"]
    # reached in 90% of the worlds: the total's P10 is the target
    assert sure["ranges"]["total"]["p10"] == pytest.approx(1000, rel=0.01)
    assert sure["expected_results"] > 1000


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--confidence", "0.9"], 2, "--confidence needs --target-results"),
        (["--target-results", "100", "--confidence", "1.5"], 2, "must be above 0 and below 1"),
        (["--target-results", "1900", "--confidence", "0.99"], 1, "no budget reaches"),
    ],
)
def test_bad_or_unreachable_confidence_exits_with_what_to_do(files, extra, code, message):
    curves, spec, _ = files
    p = run("optimize", "--curves", str(curves), "--spec", str(spec), *extra)
    assert p.returncode == code, (p.returncode, p.stderr)
    assert message in p.stderr


def test_the_summary_shows_ranges_and_the_risk_aware_plan(files):
    curves, spec, cvar = files
    r = RUNNER.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(spec)])
    assert r.exit_code == 0, r.output
    assert "P10-P90:" in r.stdout and "P10-P90" in r.stdout.split("By network")[1]
    r = RUNNER.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(cvar)])
    assert r.exit_code == 0, r.output
    assert "risk-aware plan (objective cvar, alpha 0.1)" in r.output
    assert "The rules that bind the risk-aware plan" in r.stdout and "if removed" not in r.stdout
    r = RUNNER.invoke(app, ["optimize", "--curves", str(curves), "--spec", str(cvar), "--json"])
    plan = json.loads(r.stdout)
    assert plan["risk"]["this_plan"]["p10"] >= 0 and plan["objective"] == "cvar"
