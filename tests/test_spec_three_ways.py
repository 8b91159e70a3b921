"""Any spec gets the same answer from the Python API, the CLI and HTTP.

Hypothesis draws specs, good and bad (unknown names, negative or absurd numbers, min above
max, shares above 1, a ceiling of 0, on/off rules), and each goes through
``optimizer.allocate``, ``adplan optimize --json`` and ``POST /v1/plans``: the same plan
(spend and results per line) or the same error message (the file name the CLI puts in front
aside), and infeasible rules named the same way.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app as cli_app
from optimizer import Curves, InfeasibleError, PlanSpec, SpecError, allocate

KEY = "three-ways-key-0123456789"
CURVES = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {"network": n, "segment": s, "period": p, "points": pts}
        for n, pts in (
            ("meta", [[0, 0], [1000, 60], [3000, 130], [6000, 180]]),
            ("tiktok", [[0, 0], [2000, 90], [5000, 150]]),
        )
        for s in ("f-25-34", "m-35-44")
        for p in ("2027-01", "2027-02")
    ],
}

amount = st.floats(0, 9000, allow_nan=False)
share = st.floats(0, 0.6, allow_nan=False)
rule = st.fixed_dictionaries(
    {}, optional={"min": amount, "max": amount, "min_share": share, "max_share": share}
)
line = st.fixed_dictionaries(
    {
        "network": st.sampled_from(["meta", "tiktok"]),
        "segment": st.sampled_from(["f-25-34", "m-35-44"]),
        "period": st.sampled_from(["2027-01", "2027-02"]),
    },
    optional={"min": amount, "max": amount},
)
good = st.fixed_dictionaries(
    {"budget": st.floats(100, 20000, allow_nan=False)},
    optional={
        "networks": st.dictionaries(st.sampled_from(["meta", "tiktok"]), rule, max_size=2),
        "segments": st.dictionaries(st.just("f-25-34"), rule, max_size=1),
        "periods": st.dictionaries(st.sampled_from(["2027-01", "2027-02"]), rule, max_size=1),
        "lines": st.lists(line, max_size=2, unique_by=lambda r: (r["network"], r["segment"])),
        "exclude": st.just({"segments": ["m-35-44"]}),
        "max_cost_per_result": st.floats(20, 80, allow_nan=False),
        "pacing": st.fixed_dictionaries({"tolerance": st.floats(0.05, 1, allow_nan=False)}),
        "max_period_change": st.floats(0.1, 2, allow_nan=False),
        "min_line_spend": st.floats(0, 3000, allow_nan=False),
        "max_active_lines": st.integers(1, 9),
        "max_marginal_cost_per_result": st.one_of(
            st.floats(20, 80, allow_nan=False),
            st.fixed_dictionaries(
                {"networks": st.dictionaries(st.just("tiktok"), st.floats(20, 80), max_size=1)}
            ),
        ),
        "objective": st.just("profit"),
        "value_per_result": st.one_of(
            st.floats(10, 90, allow_nan=False),
            st.fixed_dictionaries(
                {"purchases": st.floats(10, 90), "networks": st.just({"meta": 60.0})}
            ),
        ),
    },
)
#: one thing wrong with a good spec: the messages must agree too
FLAWS = [
    ("budget", -5), ("budget", "ten"), ("budget", 0), ("budget", 2e12), ("colour", "blue"),
    ("networks", {"snap": {"min": 1}}), ("networks", {"meta": {"min": 5, "max": 1}}),
    ("networks", {"tiktk": {"max": 1}}), ("max_marginal_cost_per_result", {"all": 0}),
    ("objective", "margin"), ("value_per_result", {"networks": {"meta": -1}}),
    ("networks", {"meta": {"min_share": 1.5}}), ("segments", {"meta": {"max": 1}}),
    ("max_cost_per_result", 0), ("max_active_lines", 1.5), ("pacing", {"speed": 1}),
    ("lines", [{"network": "meta", "segment": "f-25-34", "period": "2027-09", "min": 1}]),
    ("lines", [{"network": "meta", "segment": "f-25-34", "period": "2027-01", "lock": 1, "max": 2}]),
]  # fmt: skip
bad = st.tuples(good, st.sampled_from(FLAWS)).map(lambda t: {**t[0], t[1][0]: t[1][1]})
specs = st.one_of(good, good, bad)


def _norm(message: str, source: str) -> str:
    """Drop where the spec came from: the file's name (CLI) or 'spec' (Python, HTTP)."""
    return message.removeprefix(f"{source}: ").removeprefix("spec: ").removeprefix("spec.")


def _python(spec: dict):
    curves = Curves.from_dict(CURVES)
    try:
        plan = allocate(curves, PlanSpec.from_dict(spec), solver="highs")
    except InfeasibleError as e:
        return ("infeasible", str(e))
    except SpecError as e:
        return ("error", _norm(str(e), "spec"))
    return ("plan", plan.to_dict())


def _cli(spec: dict, tmp):
    (tmp / "c.json").write_text(json.dumps(CURVES))
    (tmp / "s.json").write_text(json.dumps(spec))
    args = ["optimize", "--curves", str(tmp / "c.json"), "--spec", str(tmp / "s.json"), "--json"]
    r = CliRunner().invoke(cli_app, args, terminal_width=10_000)
    if r.exit_code == 0:
        return ("plan", json.loads(r.stdout))
    message = r.stderr.split("error:", 1)[-1].split("infeasible:", 1)[-1].strip()
    message = _norm(message, str(tmp / "s.json"))
    kind = {1: "infeasible", 2: "error"}[r.exit_code]
    return (kind, message.splitlines()[0] if kind == "error" else message)


def _http(spec: dict, client):
    r = client.post("/v1/plans", headers={"X-API-Key": KEY}, json={"curves": CURVES, "spec": spec})
    body = r.json()
    if r.status_code == 201:
        return ("plan", body)
    assert r.status_code == 422, r.text
    kind = "infeasible" if body["error"] == "infeasible" else "error"
    return (kind, _norm(body["detail"], "spec") if kind == "error" else body["detail"])


def _same_plan(a: dict, b: dict) -> None:
    assert a["total_spend"] == pytest.approx(b["total_spend"], rel=1e-9, abs=1e-6)
    assert a["expected_results"] == pytest.approx(b["expected_results"], rel=1e-9, abs=1e-6)
    sa = {(x["network"], x["segment"], x["period"]): x["spend"] for x in a["lines"]}
    sb = {(x["network"], x["segment"], x["period"]): x["spend"] for x in b["lines"]}
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k] == pytest.approx(sb[k], rel=1e-9, abs=1e-6)
    assert [c["name"] for c in a["constraints"]] == [c["name"] for c in b["constraints"]]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from service import Settings, create_app

    tmp = tmp_path_factory.mktemp("three-ways")
    settings = Settings(api_keys=[KEY], database_url=f"sqlite:///{tmp / 'a.db'}", data_dir=tmp)
    with TestClient(create_app(settings)) as c:
        yield c


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=specs)
def test_one_answer_whatever_the_way_in(spec, client, tmp_path):
    py, cli, http = _python(spec), _cli(spec, tmp_path), _http(spec, client)
    event(py[0])
    assert py[0] == cli[0] == http[0], (spec, py, cli, http)
    if py[0] == "plan":
        _same_plan(py[1], cli[1])
        _same_plan(py[1], http[1])
    elif py[0] == "error":
        assert py[1] == cli[1] == http[1], spec
    else:  # the same rules named, the same smallest relaxation
        assert py[1] in cli[1] and py[1] == http[1], spec
