"""One way in for each input: the same history, spec or curves gives the same result everywhere.

The history is read by ``forecasting.load_history`` (any export ``adplan ingest`` reads) in
``adplan optimize|frontier|forecast|backtest --history``, ``adplan replan --history|--actuals``,
scenario files and the service's start-up history; a spec becomes a ``PlanSpec`` through
``PlanSpec.from_dict`` (``optimizer.load_spec`` for files); curves through
``Curves.from_dict`` (``optimizer.load_curves`` for files). So a bad input gets the same
message from every command and, over HTTP, the same ``detail`` (where the CLI names the
file, the service names the part of the body).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app as cli_app

from .service.conftest import CURVES, HEADERS, KEY

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"
WINDOW = ["--from", "2027-01-04", "--to", "2027-01-31", "--period", "week"]
#: a plan window after the Meta fixture's history (November 2026)
META_WINDOW = ["--from", "2026-11-09", "--to", "2026-11-29", "--period", "week"]


@pytest.fixture
def work(tmp_path) -> Path:
    d = tmp_path / "examples"
    shutil.copytree(EXAMPLES, d)
    (d / "budget.yaml").write_text("budget: 1000\n", encoding="utf-8")
    return d


@pytest.fixture
def meta_export(fixtures_dir) -> Path:
    return fixtures_dir / "ingest" / "meta_en.csv"


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from service import Settings, create_app

    app = create_app(Settings(api_keys=[KEY], database_url=f"sqlite:///{tmp_path / 'adplan.db'}"))
    with TestClient(app) as c:
        yield c


def cli(*args, code: int = 0):
    r = CliRunner().invoke(cli_app, [str(a) for a in args])
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def error(*args) -> str:
    """Run a command that must refuse its input (exit 2); return its error message."""
    r = cli(*args, code=2)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, r.stderr
    return lines[0].removeprefix("error: ")


def scenario(path: Path, **keys) -> Path:
    path.write_text(yaml.safe_dump({"name": "s", **keys}), encoding="utf-8")
    return path


def actuals(path: Path) -> Path:
    path.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2027-01-05,meta,f-25-34,purchases,3000,120\n",
        encoding="utf-8",
    )
    return path


# -- history --------------------------------------------------------------------------------


def test_optimize_history_accepts_a_platform_export(work, meta_export, tmp_path):
    """``adplan optimize --history`` read only canonical CSV; now any export, as ingest reads."""
    spec = work / "budget.yaml"
    r = cli("optimize", "--history", meta_export, *META_WINDOW, "--spec", spec, "--json")
    plan = json.loads(r.stdout)
    assert plan["status"] == "optimal" and plan["currency"] == "EUR"
    assert {ln["network"] for ln in plan["lines"]} == {"meta"}
    # the same plan as from the canonical history `adplan ingest` writes of that export
    canonical = tmp_path / "history.csv"
    cli("ingest", meta_export, "--out", canonical)
    r = cli("optimize", "--history", canonical, *META_WINDOW, "--spec", spec, "--json")
    again = json.loads(r.stdout)
    assert again["lines"] == plan["lines"]
    assert again["expected_results"] == plan["expected_results"]


def test_every_command_reads_a_platform_export(work, meta_export, tmp_path):
    spec = work / "budget.yaml"
    r = cli(
        "frontier",
        "--history",
        meta_export,
        *META_WINDOW,
        "--spec",
        spec,
        "--budgets",
        "500,1000",
        "--json",
    )
    assert [p["status"] for p in json.loads(r.stdout)] == ["optimal", "optimal"]
    out = tmp_path / "curves.json"
    cli("forecast", "--history", meta_export, *META_WINDOW[:4], "--out", out, "--model", "glm")
    assert json.loads(out.read_text())["currency"] == "EUR"
    sc = scenario(
        work / "s.yaml",
        history=str(meta_export),
        spec="budget.yaml",
        **{"from": "2026-11-09", "to": "2026-11-29", "period": "week"},
    )
    r = cli("scenario", "run", sc, "--out", tmp_path / "run", "--json")
    assert json.loads(r.stdout)["name"] == "s"


def _bad_history(path: Path) -> Path:
    """A canonical history whose second row is dated 2300 (outside 1900-2200)."""
    path.write_text(
        "date,network,segment,result_type,spend,results\n"
        "2026-11-02,meta,f-25-34,purchases,10,1\n"
        "2300-11-09,meta,f-25-34,purchases,10,1\n",
        encoding="utf-8",
    )
    return path


def test_the_same_bad_history_is_the_same_message_everywhere(work, tmp_path, client):
    bad = _bad_history(tmp_path / "h.csv")
    expected = f'{bad}: data row 2 (line 3), column "date": 2300-11-09 is outside 1900-2200'
    spec, curves = work / "budget.yaml", work / "curves.json"
    acts = actuals(tmp_path / "actuals.csv")
    replan = ["replan", "--spec", spec, "--as-of", "2027-02-01"]
    messages = {
        "optimize": error("optimize", "--history", bad, *WINDOW, "--spec", spec),
        "frontier": error(
            "frontier", "--history", bad, *WINDOW, "--spec", spec, "--budgets", "1000"
        ),
        "forecast": error("forecast", "--history", bad, *WINDOW[:4], "--out", tmp_path / "c.json"),
        "backtest": error("backtest", "--history", bad),
        "replan --history": error(*replan, "--history", bad, *WINDOW, "--actuals", acts),
        "replan --actuals": error(*replan, "--curves", curves, "--actuals", bad),
        "scenario run": error(
            "scenario",
            "run",
            scenario(
                work / "s.yaml",
                history=str(bad),
                spec="budget.yaml",
                **{"from": "2027-01-04", "to": "2027-01-31", "period": "week"},
            ),
            "--out",
            tmp_path / "out",
        ),
    }
    assert messages == dict.fromkeys(messages, expected)

    # over HTTP the same rows come as JSON: the same words, the rows named in the body
    rows = [
        {"date": "2026-11-02", "network": "meta", "segment": "f-25-34",
         "result_type": "purchases", "spend": 10, "results": 1},
        {"date": "2300-11-09", "network": "meta", "segment": "f-25-34",
         "result_type": "purchases", "spend": 10, "results": 1},
    ]  # fmt: skip
    body = {"history": rows, "from": "2027-01-04", "to": "2027-01-31", "spec": {"budget": 1000}}
    r = client.post("/v1/plans", headers=HEADERS, json=body)
    assert r.status_code == 422 and r.json()["error"] == "invalid_history"
    detail = r.json()["detail"]
    assert detail == 'history: data row 2, column "date": 2300-11-09 is outside 1900-2200'
    assert expected == detail.replace("history: data row 2,", f"{bad}: data row 2 (line 3),")


def test_a_history_of_no_known_format_is_the_same_message_everywhere(work, tmp_path):
    from service.history import StartupHistoryError, read_startup_history

    odd = tmp_path / "odd.csv"
    odd.write_text("when,what,how much\n2027-01-01,x,3\n", encoding="utf-8")
    spec = work / "budget.yaml"
    first = error("optimize", "--history", odd, *WINDOW, "--spec", spec)
    assert str(odd) in first
    assert error("backtest", "--history", odd) == first
    assert error("ingest", odd) == first
    args = ["--spec", spec, "--curves", work / "curves.json", "--as-of", "2027-02-01"]
    assert error("replan", *args, "--actuals", odd) == first
    with pytest.raises(StartupHistoryError) as ei:  # the service's ADPLAN_HISTORY_PATH
        read_startup_history(odd)
    assert str(ei.value).endswith(f": cannot read it as ad history: {first}")


def test_a_directory_as_history_is_the_same_message_everywhere(work, tmp_path):
    spec = work / "budget.yaml"
    msg = error("optimize", "--history", tmp_path, *WINDOW, "--spec", spec)
    assert msg.startswith(f"{tmp_path}: is a directory; give the history CSV file")
    assert error("forecast", "--history", tmp_path, *WINDOW[:4]) == msg
    assert error("backtest", "--history", tmp_path) == msg
    assert error("ingest", tmp_path) == msg


# -- spec -----------------------------------------------------------------------------------

BAD_SPECS = {
    "min above max": "budget: 60000\nnetworks: {meta: {min: 100, max: 10}}\n",
    "unknown key": "budget: 60000\nnetwrks: {meta: {min: 1}}\n",
    "negative": "budget: 60000\nnetworks: {meta: {min: -5}}\n",
    "no budget": "networks: {meta: {min: 5}}\n",
    "unknown network": "budget: 60000\nnetworks: {snapchat: {max: 5}}\n",
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_the_same_bad_spec_is_the_same_message_everywhere(
    work, meta_export, tmp_path, client, case
):
    bad = work / "bad.yaml"
    bad.write_text(BAD_SPECS[case], encoding="utf-8")
    curves = work / "curves.json"
    if case == "unknown network":  # checked against the curves: give the example's
        first = error("optimize", "--curves", curves, "--spec", bad)
    else:
        first = error("optimize", "--history", meta_export, *META_WINDOW, "--spec", bad)
    assert first.startswith(f"{bad}: ")
    acts = actuals(tmp_path / "actuals.csv")
    args = ["--curves", curves, "--actuals", acts, "--as-of", "2027-02-01"]
    assert error("replan", "--spec", bad, *args) == first
    sc = scenario(work / "s.yaml", curves="curves.json", spec="bad.yaml")
    msg = error("scenario", "run", sc, "--out", tmp_path / "out")
    if case == "unknown network":  # checked when the base runs: it names the scenario's base
        assert msg == first.replace(f"{bad}: ", "s.yaml spec: ", 1)
    else:  # read with the scenario file, as optimize reads it
        assert msg == first
    assert error("frontier", "--curves", curves, "--spec", bad, "--budgets", "1000") == first

    spec = yaml.safe_load(BAD_SPECS[case])
    body = {"curves": json.loads(curves.read_text()), "spec": spec}
    for path, extra in (("/v1/plans", {}), ("/v1/frontiers", {"budgets": [1000, 2000]})):
        r = client.post(path, headers=HEADERS, json={**body, **extra})
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid_spec"
        detail = r.json()["detail"]
        # where the CLI names the spec file, the body's spec is named "spec": before the key
        # path when the spec is read (spec.networks.meta: ...), in place of the file when a
        # rule is checked against the curves (spec: networks.snapchat: ...)
        if case == "unknown network":
            assert detail.replace("spec: ", f"{bad}: ", 1) == first
        else:
            assert f"{bad}: {detail}" == first


def test_a_spec_file_that_cannot_be_read_is_the_same_message_everywhere(work, tmp_path):
    curves = work / "curves.json"
    acts = actuals(tmp_path / "actuals.csv")
    for text in ("budget: [1, 2\n", "- just\n- a list\n"):
        bad = work / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        first = error("optimize", "--curves", curves, "--spec", bad)
        assert first.startswith(f"{bad}: ")
        args = ["--curves", curves, "--actuals", acts, "--as-of", "2027-02-01"]
        assert error("replan", "--spec", bad, *args) == first
        sc = scenario(work / "s.yaml", curves="curves.json", spec="bad.yaml")
        assert error("scenario", "run", sc, "--out", tmp_path / "out") == first
    missing = work / "nope.yaml"
    first = error("optimize", "--curves", curves, "--spec", missing)
    assert first == f"{missing}: no such file; give the spec YAML or JSON file"
    sc = scenario(work / "s.yaml", curves="curves.json", spec="nope.yaml")
    assert error("scenario", "run", sc, "--out", tmp_path / "out") == first


# -- curves ---------------------------------------------------------------------------------


def _bad_curves(case: str) -> dict:
    curves = json.loads((EXAMPLES / "curves.json").read_text())
    line = curves["lines"][0]
    if case == "not concave":
        line["points"] = [[0, 0], [1000, 10], [2000, 100]]
    elif case == "one point":
        line["points"] = [[0, 0]]
    elif case == "unknown key":
        line["colour"] = "blue"
    elif case == "twice":
        curves["lines"].append(dict(line))
    return curves


@pytest.mark.parametrize("case", ["not concave", "one point", "unknown key", "twice"])
def test_the_same_bad_curves_are_the_same_message_everywhere(work, tmp_path, client, case):
    bad = work / "bad.json"
    bad.write_text(json.dumps(_bad_curves(case)), encoding="utf-8")
    spec = work / "plan.yaml"
    first = error("optimize", "--curves", bad, "--spec", spec)
    assert first.startswith(f"{bad}: lines[")
    acts = actuals(tmp_path / "actuals.csv")
    args = ["--spec", spec, "--actuals", acts, "--as-of", "2027-02-01"]
    assert error("replan", "--curves", bad, *args) == first
    sc = scenario(work / "s.yaml", curves="bad.json", spec="plan.yaml")
    assert error("scenario", "run", sc, "--out", tmp_path / "out") == first

    body = {"curves": _bad_curves(case), "spec": {"budget": 60000}}
    for path, extra in (
        ("/v1/plans", {}),
        ("/v1/frontiers", {"budgets": [1000]}),
        ("/v1/scenario-runs", {"name": "s"}),
    ):
        r = client.post(path, headers=HEADERS, json={**body, **extra})
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid_curves"
        assert r.json()["detail"].replace("curves: ", f"{bad}: ", 1) == first


@pytest.mark.parametrize(
    "change",
    [{"value_per_result": "x"}, {"flags": 5}, {"network": None, "points": [[0, 0], [1, "a"]]}],
)
def test_curves_no_reader_accepts_are_bad_input_not_a_crash(work, client, change):
    """Exit 2 and 422 with the same words, never exit 3 or 500."""
    curves = json.loads(json.dumps(CURVES))
    curves["lines"][0].update(change)
    bad = work / "odd.json"
    bad.write_text(json.dumps(curves), encoding="utf-8")
    first = error("optimize", "--curves", bad, "--spec", work / "budget.yaml")
    r = client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": {"budget": 10}})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_curves"
    assert r.json()["detail"].replace("curves: ", f"{bad}: ", 1) == first
    spec = {"budget": 10, "results_floors": [{"result_type": "leads", "min": 1, "curves": curves}]}
    r = client.post("/v1/plans", headers=HEADERS, json={"curves": CURVES, "spec": spec})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_spec"
