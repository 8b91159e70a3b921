"""Carry-over, lift tests and reach in plans: curves' ``inside``, ``lift``, basis, additivity.

Every figure here is derived by hand from curves small enough to solve on paper.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer import CurveError, Curves, allocate
from optimizer.curves import CurveLine, Lift
from optimizer.risk import lift_sigma, plan_simulation

ADPLAN = Path(sys.executable).with_name("adplan")


def curves_of(lines: list[dict], **top) -> Curves:
    """Curves in EUR of purchases from ``lines`` (network, segment, period, points, ...)."""
    return Curves.from_dict({"currency": "EUR", "result_type": "purchases", **top, "lines": lines})


def line(net: str, period: str, points, seg: str = "s", **extra) -> dict:
    return {"network": net, "segment": seg, "period": period, "points": points, **extra}


def by_net(plan) -> dict:
    return {ln.network: ln for ln in plan.lines}


# -- carry-over: results inside the plan and after it -------------------------------------


@pytest.fixture
def carry() -> Curves:
    """a/01 brings 200 for 100 (75% inside), b/01 100 for 100 (half), a/02 50 (no share)."""
    return curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 200]], inside=0.75),
            line("b", "2027-01", [[0, 0], [100, 100]], inside=0.5),
            line("a", "2027-02", [[0, 0], [100, 50]]),
        ]
    )


def test_results_inside_and_after_the_plan_are_the_hand_sums(carry, solver):
    plan = allocate(carry, {"budget": 300}, solver=solver)
    assert plan.expected_results == pytest.approx(350.0)
    lines = {(ln.network, ln.period): ln for ln in plan.lines}
    assert lines[("a", "2027-01")].results_inside == pytest.approx(150.0)
    assert lines[("b", "2027-01")].results_inside == pytest.approx(50.0)
    # a line without `inside` counts as wholly inside when others carry it
    assert lines[("a", "2027-02")].results_inside == pytest.approx(50.0)
    assert plan.results_inside == pytest.approx(250.0)
    assert plan.results_after == pytest.approx(100.0)
    d = plan.to_dict()
    assert d["results_inside"] == pytest.approx(250.0) and d["results_after"] == pytest.approx(100)
    assert d["lines"][0]["results_inside"] == pytest.approx(150.0)
    # no lift on these curves: no attributed / incremental figures anywhere
    assert "results_attributed" not in d and "results_incremental" not in d
    assert all("results_attributed" not in ln for ln in d["lines"])
    assert d["results_basis"] == "attributed" and d["results_additive"] is True


def test_curves_without_the_new_facts_give_the_plan_json_they_always_gave(ab):
    d = allocate(ab, {"budget": 150}).to_dict()
    for key in ("results_inside", "results_after", "results_attributed", "results_incremental"):
        assert key not in d
        assert all(key not in ln for ln in d["lines"])
    assert d["expected_results"] == pytest.approx(275.0)  # a: 200, b: 50 * 1.5
    assert d["by_period"] == {
        "2027-01": {"spend": 150.0, "expected_results": 275.0, "cost_per_result": 150 / 275}
    }


# -- lift: attributed and incremental results side by side --------------------------------

LIFT_A = {"ratio": 0.5, "low": 0.3, "high": 0.7}
LIFT_B = {"ratio": 1.5, "low": 1.0, "high": 2.0, "level": 0.8}


def test_attributed_basis_shows_incremental_as_results_times_ratio(solver):
    c = curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 200]], lift=LIFT_A),
            line("b", "2027-01", [[0, 0], [100, 100]], lift=LIFT_B),
        ]
    )
    plan = allocate(c, {"budget": 200}, solver=solver)
    a, b = by_net(plan)["a"], by_net(plan)["b"]
    assert (a.results_attributed, a.results_incremental) == pytest.approx((200.0, 100.0))
    assert (b.results_attributed, b.results_incremental) == pytest.approx((100.0, 150.0))
    assert plan.results_attributed == pytest.approx(300.0)
    assert plan.results_incremental == pytest.approx(250.0)
    assert plan.cost_per_incremental_result == pytest.approx(200 / 250)
    d = plan.to_dict()
    assert d["results_basis"] == "attributed"
    assert d["cost_per_incremental_result"] == pytest.approx(0.8)


def test_a_funded_line_without_lift_leaves_no_incremental_total_and_a_note():
    c = curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 200]], lift=LIFT_A),
            line("b", "2027-01", [[0, 0], [100, 100]]),
        ]
    )
    plan = allocate(c, {"budget": 200})
    b = by_net(plan)["b"]
    assert b.results_attributed == pytest.approx(100.0) and b.results_incremental is None
    assert plan.results_attributed == pytest.approx(300.0)
    assert plan.results_incremental is None and plan.cost_per_incremental_result is None
    assert any("1 funded line carries no lift test (b/s/2027-01)" in n for n in plan.notes)
    # unfunded, the line without lift brings nothing: the total is known again
    plan = allocate(c, {"budget": 100})
    assert by_net(plan)["b"].spend == 0
    assert plan.results_incremental == pytest.approx(100.0) and plan.notes == ()


# Two lines whose attributed results are a: 2 per EUR, b: 1 per EUR (up to 100 EUR each);
# lift tests say a's are 0.5 incremental per attributed result, b's 1.5. Incremental: a 1 per
# EUR, b 1.5 per EUR. With 100 EUR the attributed optimum is all on a (200 attributed, 100
# incremental), the incremental optimum all on b (150 incremental, 100 attributed).
ATTRIBUTED = [
    line("a", "2027-01", [[0, 0], [100, 200]], lift=LIFT_A),
    line("b", "2027-01", [[0, 0], [100, 100]], lift=LIFT_B),
]
INCREMENTAL = [
    line("a", "2027-01", [[0, 0], [100, 100]], lift=LIFT_A),
    line("b", "2027-01", [[0, 0], [100, 150]], lift=LIFT_B),
]


def test_the_attributed_optimum_by_hand(solver):
    plan = allocate(curves_of(ATTRIBUTED), {"budget": 100}, solver=solver)
    assert by_net(plan)["a"].spend == pytest.approx(100.0)
    assert by_net(plan)["b"].spend == pytest.approx(0.0, abs=1e-6)
    assert plan.results_attributed == pytest.approx(200.0)
    assert plan.results_incremental == pytest.approx(100.0)


def test_incremental_basis_maximises_incremental_results(solver):
    c = curves_of(INCREMENTAL, results_basis="incremental")
    assert c.basis == "incremental"
    plan = allocate(c, {"budget": 100}, solver=solver)
    a, b = by_net(plan)["a"], by_net(plan)["b"]
    assert b.spend == pytest.approx(100.0) and a.spend == pytest.approx(0.0, abs=1e-6)
    assert plan.expected_results == pytest.approx(150.0)
    assert b.results_incremental == pytest.approx(150.0)
    assert b.results_attributed == pytest.approx(100.0)  # 150 / 1.5
    assert plan.results_incremental == pytest.approx(150.0)
    assert plan.results_attributed == pytest.approx(100.0)
    assert plan.cost_per_incremental_result == pytest.approx(100 / 150)
    assert plan.cost_per_result == pytest.approx(100 / 150)  # the points are incremental
    assert plan.to_dict()["results_basis"] == "incremental"


def test_incremental_basis_with_a_ratio_of_zero_has_no_attributed_results():
    zero = {"ratio": 0, "low": 0, "high": 0.2}
    c = curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 0]], lift=zero),
            line("b", "2027-01", [[0, 0], [100, 100]], lift={"ratio": 2, "low": 1, "high": 3}),
        ],
        results_basis="incremental",
    )
    must = {"network": "a", "segment": "s", "period": "2027-01", "min": 50}
    plan = allocate(c, {"budget": 150, "lines": [must]})
    a, b = by_net(plan)["a"], by_net(plan)["b"]
    assert a.spend == pytest.approx(50.0) and b.spend == pytest.approx(100.0)
    assert a.results_incremental == 0.0 and a.results_attributed is None
    assert b.results_attributed == pytest.approx(50.0)
    assert plan.results_incremental == pytest.approx(100.0)
    assert plan.results_attributed is None  # a's attributed results are unknown
    assert any("1 funded line has a lift ratio of 0 (a/s/2027-01)" in n for n in plan.notes)


# -- results that cannot be added across periods (reach) ----------------------------------


@pytest.fixture
def reach() -> Curves:
    """Reach per month: a brings 200 people per 100 EUR in January, 100 in February."""
    return Curves.from_dict(
        {
            "currency": "EUR",
            "result_type": "reach",
            "additive": False,
            "lines": [
                line("a", "2027-01", [[0, 0], [100, 200]], inside=0.5),
                line("a", "2027-02", [[0, 0], [100, 100]]),
                line("b", "2027-02", [[0, 0], [100, 60]], lift=LIFT_A),
            ],
        }
    )


def test_non_additive_plans_show_no_total_across_periods(reach, solver):
    assert reach.additive is False
    plan = allocate(reach, {"budget": 300}, solver=solver)
    # the LP still maximises the sum of the periods' reach (person-periods)
    assert plan.expected_results == pytest.approx(360.0)
    d = json.loads(json.dumps(plan.to_dict(), allow_nan=False))
    for key in ("expected_results", "cost_per_result", "results_inside", "results_after",
                "results_attributed"):  # fmt: skip
        assert d[key] is None, key
    assert d["results_additive"] is False
    assert "person-periods" in d["results_note"] and "maximises" in d["results_note"]
    # per-period totals stay
    jan, feb = d["by_period"]["2027-01"], d["by_period"]["2027-02"]
    assert (jan["spend"], jan["expected_results"]) == pytest.approx((100.0, 200.0))
    assert (feb["spend"], feb["expected_results"]) == pytest.approx((200.0, 160.0))
    assert jan["cost_per_result"] == pytest.approx(0.5)
    assert jan["results_inside"] == pytest.approx(100.0)
    assert feb["results_inside"] == pytest.approx(160.0)
    # the ranges keep each period's band and none across periods
    r = d["ranges"]
    assert r["total"] == {"p10": None, "p50": None, "p90": None}
    assert r["cost_per_result"] == {"p10": None, "p50": None, "p90": None}
    assert all(q["p50"] is None for q in r["networks"].values())
    assert r["periods"]["2027-01"]["p50"] == pytest.approx(200.0)
    assert "person-periods" in r["note"]
    # lines keep their own figures
    assert d["lines"][0]["expected_results"] == pytest.approx(200.0)


# -- the lift tests' uncertainty in the ranges ---------------------------------------------


def lifted(basis: str, spread: bool = False) -> Curves:
    sp = {"level_var": 0.01, "log_spend_centre": 4.0, "elasticity_se": 0.0, "dispersion": 0.0}
    extra = {"spread": sp} if spread else {}
    return curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 100]], lift=LIFT_A, **extra),
            line("a", "2027-01", [[0, 0], [100, 80]], seg="t", lift=LIFT_A, **extra),
            line("b", "2027-01", [[0, 0], [100, 150]], lift=LIFT_B, **extra),
        ],
        results_basis=basis,
    )


def test_incremental_ranges_draw_one_lift_factor_per_network():
    c = lifted("incremental")
    plan = allocate(c, {"budget": 300})
    r = plan.ranges
    assert r["source"] == "lift" and "lift factor per network" in r["note"]
    assert r["total"]["p10"] < r["total"]["p50"] < r["total"]["p90"]
    sim = plan_simulation(plan, c)
    means = np.array([ln.expected_results for ln in plan.lines])
    f = sim.results / means[None, :]
    assert np.allclose(f[:, 0], f[:, 1])  # a's two lines share the network's factor
    assert not np.allclose(f[:, 0], f[:, 2])
    assert f.mean(axis=0) == pytest.approx([1.0, 1.0, 1.0], abs=0.03)  # the curve is the mean
    # each factor is log-normal with the sigma the lift's interval says
    want_a = math.log(0.7 / 0.3) / (2 * 1.6448536269514722)  # level 0.9
    want_b = math.log(2.0 / 1.0) / (2 * 1.2815515655446004)  # level 0.8
    assert lift_sigma(Lift(**LIFT_A)) == pytest.approx(want_a)
    assert np.log(f[:, 0]).std() == pytest.approx(want_a, rel=0.05)
    assert np.log(f[:, 2]).std() == pytest.approx(want_b, rel=0.05)
    # the worlds are seeded by the names: the same plan meets the same worlds
    assert np.array_equal(plan_simulation(plan, c).results, sim.results)


def test_attributed_ranges_do_not_draw_the_lift():
    plan = allocate(lifted("attributed"), {"budget": 300})
    assert plan.ranges["source"] == "none"


def test_lift_widens_a_forecasts_range():
    wide = allocate(lifted("incremental", spread=True), {"budget": 300}).ranges
    narrow = allocate(lifted("attributed", spread=True), {"budget": 300}).ranges
    assert wide["source"] == narrow["source"] == "forecast"
    assert "lift factor" in wide["note"] and "lift factor" not in narrow["note"]
    width = lambda r: r["total"]["p90"] - r["total"]["p10"]  # noqa: E731
    assert width(wide) > 2 * width(narrow)


# -- the curves JSON: round trip and refusals ---------------------------------------------


def test_curves_json_round_trip_keeps_inside_lift_basis_and_additivity():
    c = curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 50]], inside=0.6, lift=LIFT_A),
            line("b", "2027-01", [[0, 0], [100, 75]], inside=1, lift=LIFT_B),
        ],
        results_basis="incremental",
        additive=False,
    )
    assert c.lines[0].lift == Lift(0.5, 0.3, 0.7, 0.9)
    assert c.lines[1].inside == 1.0 and isinstance(c.lines[1].inside, float)
    d = c.to_dict()
    assert d["results_basis"] == "incremental" and d["additive"] is False
    assert d["lines"][0]["inside"] == 0.6
    assert d["lines"][0]["lift"] == {"ratio": 0.5, "low": 0.3, "high": 0.7, "level": 0.9}
    assert Curves.from_dict(d) == c
    assert Curves.from_dict(json.loads(c.to_json())) == c
    plain = curves_of([line("a", "2027-01", [[0, 0], [1, 1]])])
    assert (plain.basis, plain.additive) == ("attributed", True)
    assert "inside" not in plain.to_dict()["lines"][0] and "lift" not in plain.to_dict()["lines"][0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"inside": 1.5}, "lines[0]: curve line a/s/2027-01: 'inside' (the share of the line's "
         "results that land inside the plan's dates) must be a number from 0 to 1, got 1.5"),
        ({"inside": -0.1}, "must be a number from 0 to 1, got -0.1"),
        ({"inside": True}, "must be a number from 0 to 1, got True"),
        ({"inside": "half"}, "must be a number from 0 to 1, got 'half'"),
        ({"inside": float("nan")}, "must be a number from 0 to 1, got nan"),
        ({"lift": 0.5}, "'lift' must be an object with the keys ratio, low, high"),
        ({"lift": {"ratio": 0.5, "low": 0.3}}, "'lift' lacks high; give ratio, low, high"),
        ({"lift": {**LIFT_A, "p": 1}}, "'lift' has unknown keys ['p']"),
        ({"lift": {**LIFT_A, "ratio": "x"}}, "lift.ratio must be a finite number, got 'x'"),
        ({"lift": {**LIFT_A, "high": float("inf")}}, "lift.high must be a finite number"),
        ({"lift": {**LIFT_A, "level": True}}, "lift.level must be a finite number, got True"),
        ({"lift": {"ratio": 0.1, "low": -0.1, "high": 1}}, "lift.low must be >= 0, got -0.1"),
        ({"lift": {"ratio": 0.9, "low": 0.3, "high": 0.7}}, "lift.ratio must lie in its "
         "interval: lift.low <= lift.ratio <= lift.high, got low 0.3, ratio 0.9, high 0.7"),
        ({"lift": {"ratio": 5, "low": 1, "high": 12}}, "lift.high must be at most 10"),
        ({"lift": {**LIFT_A, "level": 0.3}}, "lift.level (the interval's confidence) must be "
         "from 0.5 to 0.99, got 0.3"),
        ({"lift": {**LIFT_A, "level": 0.995}}, "must be from 0.5 to 0.99, got 0.995"),
        ({"lifts": {}}, "lines[0] has unknown keys ['lifts']"),
    ],
)  # fmt: skip
def test_each_malformed_line_is_refused_naming_file_line_and_field(extra, message):
    with pytest.raises(CurveError) as e:
        Curves.from_dict(
            {"lines": [line("a", "2027-01", [[0, 0], [1, 1]], **extra)]}, source="c.json"
        )
    assert str(e.value).startswith("c.json: lines[0]")
    assert message in str(e.value)


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"results_basis": "net"}, "c.json: 'results_basis' must be one of attributed, "
         "incremental (what the points count), got 'net'"),
        ({"results_basis": None}, "'results_basis' must be one of attributed, incremental"),
        ({"additive": "no"}, "c.json: 'additive' must be true or false (false: results such as "
         "reach that cannot be added across periods), got 'no'"),
        ({"additive": 0}, "'additive' must be true or false"),
        ({"results_basis": "incremental"}, "c.json: lines[1] (b/s/2027-01) has no 'lift': "
         "with results_basis 'incremental' every line needs its lift tests' ratio"),
    ],
)  # fmt: skip
def test_each_malformed_top_level_key_is_refused(top, message):
    lines = [
        line("a", "2027-01", [[0, 0], [1, 1]], lift=LIFT_A),
        line("b", "2027-01", [[0, 0], [1, 1]]),
    ]
    with pytest.raises(CurveError) as e:
        Curves.from_dict({**top, "lines": lines}, source="c.json")
    assert message in str(e.value)


def test_curves_built_in_python_are_checked_too():
    ln = CurveLine("a", "s", "2027-01", ((0, 0), (1, 1)))
    with pytest.raises(CurveError, match=r"curves: lines\[0\] \(a/s/2027-01\) has no 'lift'"):
        Curves(lines=(ln,), meta={"results_basis": "incremental"})
    with pytest.raises(CurveError, match="'additive' must be true or false"):
        Curves(lines=(ln,), meta={"additive": "yes"})
    with pytest.raises(CurveError, match="lift.low must be >= 0"):
        Lift(0.5, -1, 1)
    assert CurveLine("a", "s", "2027-01", ((0, 0), (1, 1)), lift=LIFT_A).lift == Lift(**LIFT_A)


# -- the real executable: `adplan optimize --json` ------------------------------------------


def adplan(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADPLAN_DEBUG", "ADPLAN_SOLVER")}
    p = subprocess.run(
        [str(ADPLAN), *args], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def test_adplan_optimize_json_carries_the_new_figures(tmp_path):
    curves = tmp_path / "curves.json"
    lines = [
        line("a", "2027-01", [[0, 0], [100, 100]], lift=LIFT_A, inside=0.5),
        line("b", "2027-01", [[0, 0], [100, 150]], lift=LIFT_B),
    ]
    curves.write_text(
        json.dumps({"currency": "EUR", "results_basis": "incremental", "lines": lines})
    )
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 100\n")
    d = json.loads(
        adplan("optimize", "--curves", str(curves), "--spec", str(spec), "--json").stdout
    )
    assert d["results_basis"] == "incremental" and d["results_additive"] is True
    assert d["results_incremental"] == pytest.approx(150.0)
    assert d["results_attributed"] == pytest.approx(100.0)
    assert d["results_inside"] == pytest.approx(150.0)  # b has no share: wholly inside
    assert d["results_after"] == pytest.approx(0.0)
    assert d["cost_per_incremental_result"] == pytest.approx(100 / 150)
    b = next(ln for ln in d["lines"] if ln["network"] == "b")
    assert (b["results_attributed"], b["results_incremental"]) == pytest.approx((100.0, 150.0))


def test_adplan_optimize_on_reach_prints_each_period_and_no_total(tmp_path):
    curves = tmp_path / "reach.json"
    lines = [line("a", "2027-01", [[0, 0], [100, 200]]), line("a", "2027-02", [[0, 0], [100, 90]])]
    curves.write_text(
        json.dumps({"currency": "EUR", "result_type": "reach", "additive": False, "lines": lines})
    )
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 200\n")
    d = json.loads(
        adplan("optimize", "--curves", str(curves), "--spec", str(spec), "--json").stdout
    )
    assert d["expected_results"] is None and d["cost_per_result"] is None
    assert {p: v["expected_results"] for p, v in d["by_period"].items()} == pytest.approx(
        {"2027-01": 200.0, "2027-02": 90.0}
    )
    text = adplan("optimize", "--curves", str(curves), "--spec", str(spec)).stdout
    flat = " ".join(text.split())
    assert "not additive across periods" in flat and "person-periods" in flat
    assert "By period" in flat and "290" not in flat  # 200 + 90 is never shown


def test_adplan_optimize_prints_inside_after_attributed_and_incremental(tmp_path):
    curves = tmp_path / "curves.json"
    lines = [
        line("a", "2027-01", [[0, 0], [100, 200]], lift=LIFT_A, inside=0.75),
        line("b", "2027-01", [[0, 0], [100, 100]], lift=LIFT_B),
    ]
    curves.write_text(json.dumps({"currency": "EUR", "lines": lines}))
    spec = tmp_path / "plan.yaml"
    spec.write_text("budget: 200\n")
    text = " ".join(adplan("optimize", "--curves", str(curves), "--spec", str(spec)).stdout.split())
    # inside: 150 + 100; after: 50; attributed 300, incremental 100 + 150 at 200 / 250 each
    assert "results inside the plan's dates: 250.0; after them (carry-over): 50.0" in text
    assert "attributed results: 300.0 | incremental results: 250.0 at 0.80 EUR each" in text
    assert "the plan maximises attributed results" in text


def test_frontier_points_can_carry_the_same_figures():
    from optimizer.plan import point_figures

    c = curves_of(
        [
            line("a", "2027-01", [[0, 0], [100, 200]], lift=LIFT_A, inside=0.75),
            line("b", "2027-01", [[0, 0], [100, 100]], lift=LIFT_B),
        ]
    )
    got = point_figures(c.lines, [100.0, 50.0], [200.0, 50.0], c)
    assert got == pytest.approx(
        {
            "results_basis": "attributed",
            "results_additive": True,
            "results_inside": 200.0,
            "results_after": 50.0,
            "results_attributed": 250.0,
            "results_incremental": 175.0,
            "cost_per_incremental_result": 150 / 175,
        }
    )
