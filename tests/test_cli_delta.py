"""``adplan optimize --from-plan plan.json --extra N``: where extra money (or a cut) goes.

What users pipe runs as the real executable (``--json``: the whole standard output is the
Plan JSON with a ``delta`` key); the table and the refusals (exit 2 with the message) run in
process. The curves are two lines with linear tiers (see tests/scenarios/test_scn_delta.py):
at a budget of 1000 all goes to meta; +500 goes to tiktok, 20 purchases at 25 each.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.delta_case import CURVES
from tests.test_cli_json import parse, run

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    """curves.json, spec.yaml (budget 1000) and plan.json, written by ``adplan optimize``."""
    (tmp_path / "curves.json").write_text(json.dumps(CURVES))
    (tmp_path / "spec.yaml").write_text("budget: 1000\n")
    r = runner.invoke(app, [*_inputs(tmp_path), "--out", str(tmp_path / "plan.json")])
    assert r.exit_code == 0, r.output
    return tmp_path


def _inputs(d) -> list[str]:
    return ["optimize", "--curves", str(d / "curves.json"), "--spec", str(d / "spec.yaml")]


def test_json_is_the_new_plan_with_its_delta(files):
    p = run(*_inputs(files), "--from-plan", str(files / "plan.json"), "--extra", "500", "--json")
    result = parse(p)
    assert result["budget"] == 1500 and result["total_spend"] == pytest.approx(1500)
    assert result["expected_results"] == pytest.approx(70)
    d = result["delta"]
    assert (d["from_budget"], d["to_budget"], d["extra"]) == (1000, 1500, 500)
    assert d["spend_change"] == pytest.approx(500)
    assert d["results_change"] == pytest.approx(20)
    assert d["cost_per_extra_result"] == pytest.approx(25)
    assert [ln["network"] for ln in d["lines"]] == ["tiktok", "meta"]
    tiktok = d["lines"][0]
    assert tiktok["current_spend"] == 0 and tiktok["spend"] == pytest.approx(500)
    assert tiktok["change"] == pytest.approx(500)
    assert tiktok["results_change"] == pytest.approx(20)
    assert d["lines"][1]["change"] == pytest.approx(0, abs=1e-6)


def test_json_of_a_cut(files):
    out = files / "new.json"
    p = run(
        *_inputs(files),
        "--from-plan",
        str(files / "plan.json"),
        "--extra",
        "-300",
        "--json",
        "--out",
        str(out),
    )
    d = parse(p)["delta"]
    # 700 left: meta's first tier, 20 each; the cut costs 15 purchases
    assert d["to_budget"] == 700 and d["spend_change"] == pytest.approx(-300)
    assert d["results_change"] == pytest.approx(-15)
    assert d["cost_per_extra_result"] == pytest.approx(20)
    assert [(ln["network"], ln["change"]) for ln in d["lines"]] == [("meta", pytest.approx(-300))]
    # --out writes the same JSON, delta included
    assert json.loads(out.read_text())["delta"] == d


def test_out_csv_writes_the_new_plan(files):
    out = files / "new.csv"
    r = runner.invoke(
        app,
        [
            *_inputs(files),
            "--from-plan",
            str(files / "plan.json"),
            "--extra",
            "500",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    rows = out.read_text().splitlines()
    assert rows[0].startswith("network,segment,period,spend") and len(rows) == 3


def test_the_table_shows_where_the_extra_goes_with_totals(files):
    r = runner.invoke(
        app, [*_inputs(files), "--from-plan", str(files / "plan.json"), "--extra", "500"]
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())  # Rich wraps long lines at the console's width
    assert "optimal" in text.split("budget 1,000 -> 1,500")[0]  # the usual summary first
    assert "budget 1,000 -> 1,500 EUR: spend +500 EUR -> +20.0 purchases" in text
    assert "(25.00 EUR per extra result)" in text
    assert "Where the extra 500 EUR goes" in text
    rows = [ln for ln in r.stdout.splitlines() if "tiktok" in ln or "total" in ln]
    assert any("+500" in ln and "+20.0" in ln for ln in rows if "tiktok" in ln)
    assert any("+500" in ln and "+20.0" in ln for ln in rows if "total" in ln)


def test_a_cut_table_says_where_the_cut_comes_from(files):
    r = runner.invoke(
        app, [*_inputs(files), "--from-plan", str(files / "plan.json"), "--extra", "-300"]
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "Where the cut of 300 EUR comes from" in text
    assert "(20.00 EUR saved per result given up)" in text


def test_many_lines_show_20_then_the_rest_and_add_up_to_the_total(tmp_path):
    # 25 lines with first tiers of 333.33: the money moved is in thirds, so whole units
    # rounded one by one would not add up to the total
    lines = [
        {
            "network": f"n{i:02d}",
            "segment": "all",
            "period": "2027-01",
            "points": [[0, 0], [1000 / 3, 30], [2000, 60]],
        }
        for i in range(25)
    ]
    (tmp_path / "curves.json").write_text(json.dumps({"currency": "EUR", "lines": lines}))
    (tmp_path / "spec.yaml").write_text("budget: 1000\n")
    plan = {
        "budget": 1000,
        "lines": [
            {**{k: ln[k] for k in ("network", "segment", "period")}, "spend": 40} for ln in lines
        ],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    r = runner.invoke(
        app,
        [*_inputs(tmp_path), "--from-plan", str(tmp_path / "plan.json"), "--extra", "7000"],
    )
    assert r.exit_code == 0, r.output
    assert "... and 5 more" in r.stdout
    table = r.stdout[r.stdout.index("Where the extra 7,000 EUR goes") :]
    rows = [[c.strip() for c in ln.split("│")[1:-1]] for ln in table.splitlines() if "│" in ln]
    rows = [r for r in rows if r[3]]  # a label wrapped onto a second line has no numbers
    body, total = rows[:-1], rows[-1]
    assert len(body) == 21 and body[-1][0].startswith("... and 5") and total[0] == "total"
    for col in (3, 4, 5):  # current, new, change: the shown lines add up to the shown total
        shown = [float(r[col].replace(",", "").replace("+", "")) for r in body]
        assert sum(shown) == float(total[col].replace(",", "").replace("+", "")), col
    assert total[5] == "+7,000"  # 25 x 40 = 1,000 spent; 8,000 now


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--extra", "500"], "--extra needs --from-plan FILE"),
        (["--from-plan", "{d}/plan.json"], "--from-plan needs --extra AMOUNT"),
        (
            ["--from-plan", "{d}/plan.json", "--extra", "-1000"],
            "--extra -1,000 would make the budget 0 (the current plan's 1,000 plus -1,000); "
            "a budget must be above 0 and at most 1e12",
        ),
        (
            ["--from-plan", "{d}/plan.json", "--extra", "1e12"],
            "a budget must be above 0 and at most 1e12",
        ),
        (["--from-plan", "{d}/plan.json", "--extra", "nan"], "--extra must be a finite number"),
        (
            ["--from-plan", "{d}/plan.json", "--extra", "5", "--target-results", "10"],
            "--target-results cannot be combined with --from-plan and --extra",
        ),
        (
            ["--from-plan", "{d}/plan.json", "--extra", "5", "--out", "{d}/plan.json"],
            "is the same file as --from-plan",
        ),
        (["--from-plan", "{d}/missing.json", "--extra", "5"], "missing.json: no such file"),
        (["--from-plan", "{d}/spec.yaml", "--extra", "5"], "spec.yaml: line 1, column 1"),
    ],
)
def test_bad_delta_input_exits_2_with_the_reason(files, args, message):
    args = [a.format(d=files) for a in args]
    r = runner.invoke(app, [*_inputs(files), *args])
    assert r.exit_code == 2, r.output
    assert message in r.stderr


def test_a_plan_line_no_curve_has_exits_2_naming_the_line_and_file(files):
    plan = json.loads((files / "plan.json").read_text())
    plan["lines"][0]["segment"] = "b2b-it"
    (files / "plan.json").write_text(json.dumps(plan))
    r = runner.invoke(
        app, [*_inputs(files), "--from-plan", str(files / "plan.json"), "--extra", "5"]
    )
    assert r.exit_code == 2, r.output
    assert f"{files / 'plan.json'}: lines[0]: no curve has line meta/b2b-it/2027-01" in r.stderr


def test_results_the_file_says_differently_are_noted_on_stderr(files):
    plan = json.loads((files / "plan.json").read_text())
    plan["expected_results"] = 55
    (files / "plan.json").write_text(json.dumps(plan))
    r = runner.invoke(
        app, [*_inputs(files), "--from-plan", str(files / "plan.json"), "--extra", "500"]
    )
    assert r.exit_code == 0, r.output
    assert "says its spend brings 55 purchases" in r.stderr
    assert "the same spend brings 50" in r.stderr


def test_no_extra_moves_no_money(files):
    r = runner.invoke(
        app, [*_inputs(files), "--from-plan", str(files / "plan.json"), "--extra", "0"]
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "budget 1,000 -> 1,000 EUR: spend +0 EUR -> +0.0 purchases" in text
    assert "no line's spend changes." in text and "Where the" not in text
