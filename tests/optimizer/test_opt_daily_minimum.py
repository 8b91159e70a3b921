"""The platforms' daily minimums as an on/off rule (``min_daily_spend``, optimizer/rules/onoff.py).

A line switched on in a period of D days spends 0 or at least the network's minimum a day x D;
with ``min_line_spend`` the larger minimum holds. The optimum is checked against an
independent check: every on/off choice enumerated, each solved as an LP by
``scipy.optimize.linprog`` on the curves' tiers, written apart from adplan's model.
"""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pytest
from scipy.optimize import linprog

from optimizer import Curves, PlanSpec, SpecError, allocate
from optimizer.periods import period_bounds

from .conftest import SOLVERS, make_curves

#: two networks, weeks (7 days) and a month (31 days): four lines
LINES = {
    ("tiktok", "f-18-24", "2027-W01"): [[0, 0], [100, 200], [200, 300]],
    ("tiktok", "f-18-24", "2027-W02"): [[0, 0], [60, 150], [150, 240]],
    ("meta", "all", "2027-W01"): [[0, 0], [120, 180]],
    ("meta", "all", "2027-W02"): [[0, 0], [80, 100], [300, 250]],
}


def _days(period: str) -> int:
    start, end = period_bounds(period)
    return (end - start).days


def _minimum(key, spec: dict) -> float:
    """The line's least spend when on, from docs/optimizer.md's words (not adplan's code)."""
    m = float(spec.get("min_line_spend") or 0.0)
    per_day = spec.get("min_daily_spend", {}).get(key[0], 0.0)
    return max(m, per_day * _days(key[2]))


def _independent(lines: dict, spec: dict) -> tuple[float, dict]:
    """Return the best expected results and spend per line over every on/off choice."""
    keys = list(lines)
    tiers = []  # (line, width, slope)
    for li, key in enumerate(keys):
        pts = lines[key]
        for (s0, r0), (s1, r1) in itertools.pairwise(pts):
            tiers.append((li, s1 - s0, (r1 - r0) / (s1 - s0)))
    best, best_spend = -1.0, {}
    for on in itertools.product([False, True], repeat=len(keys)):
        c = np.array([-t[2] for t in tiers])
        bounds = [(0.0, t[1] if on[t[0]] else 0.0) for t in tiers]
        a_ub = [np.ones(len(tiers))]
        b_ub = [float(spec["budget"])]
        for li, key in enumerate(keys):
            if on[li] and _minimum(key, spec) > 0:
                a_ub.append(np.array([-1.0 if t[0] == li else 0.0 for t in tiers]))
                b_ub.append(-_minimum(key, spec))
        r = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, bounds=bounds, method="highs")
        if r.status == 0 and -r.fun > best + 1e-9:
            best = -r.fun
            best_spend = {
                key: sum(r.x[j] for j, t in enumerate(tiers) if t[0] == li)
                for li, key in enumerate(keys)
            }
    return best, best_spend


def _spend(plan) -> dict:
    return {(ln.network, ln.segment, ln.period): ln.spend for ln in plan.lines}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "rules",
    [
        {"min_daily_spend": {"meta": 10}},
        {"min_daily_spend": {"meta": 15, "tiktok": 12}},
        {"min_daily_spend": {"tiktok": 20}, "min_line_spend": 90},
        {"min_daily_spend": {"meta": 5}, "min_line_spend": 60},
        {"min_daily_spend": {"meta": 30, "tiktok": 30}},
    ],
)
@pytest.mark.parametrize("budget", [150, 330, 520])
def test_optimum_matches_every_choice_enumerated(solver, rules, budget):
    spec = {"budget": budget, **rules}
    best, _ = _independent(LINES, spec)
    plan = allocate(make_curves(LINES), spec, solver=solver)
    assert plan.status == "optimal"
    assert plan.solver["mip"] is True
    assert plan.expected_results == pytest.approx(best, rel=1e-7, abs=1e-6)
    for key, s in _spend(plan).items():
        assert s == pytest.approx(0.0, abs=1e-6) or s >= _minimum(key, spec) - 1e-6


def test_hand_derived_optimum():
    """Budget 150 on tiktok W01 (slope 2 to 100, then 1) and meta W01 (slope 1.5 to 120).

    meta on at m spends exactly m (tiktok's first tier is dearer for it): 2(150 - m) + 1.5m =
    300 - 0.5m; off, tiktok takes 150: 200 + 50 = 250. So on when m < 100: 10 a day x 7 = 70
    gives 265.
    """
    lines = {k: v for k, v in LINES.items() if k[2] == "2027-W01"}
    plan = allocate(make_curves(lines), {"budget": 150, "min_daily_spend": {"meta": 10}})
    assert _spend(plan) == pytest.approx(
        {("tiktok", "f-18-24", "2027-W01"): 80.0, ("meta", "all", "2027-W01"): 70.0}, abs=1e-6
    )
    assert plan.expected_results == pytest.approx(265.0, abs=1e-6)
    rule = next(c for c in plan.constraints if c.name == "min_daily_spend__meta/all/2027-W01")
    assert rule.binding
    assert "0 or at least 70 EUR (Meta's minimum of 10 EUR a day x 7 days)" in rule.description


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    ("per_day", "on"),
    [(14.28, True), (14.29, False), (119.9 / 7, False), (121 / 7, False)],
)
def test_mutation_just_below_and_above_the_break_even(solver, per_day, on):
    """On the hand instance meta pays off below a minimum of 100 (300 - 0.5m > 250)."""
    lines = {k: v for k, v in LINES.items() if k[2] == "2027-W01"}
    spec = {"budget": 150, "min_daily_spend": {"meta": per_day}}
    plan = allocate(make_curves(lines), spec, solver=solver)
    meta = _spend(plan)[("meta", "all", "2027-W01")]
    if on:
        assert meta == pytest.approx(7 * per_day, abs=1e-6)
        assert plan.expected_results == pytest.approx(300 - 0.5 * 7 * per_day, abs=1e-6)
    else:
        assert meta == 0.0
        assert plan.expected_results == pytest.approx(250.0, abs=1e-6)


def test_limited_by_says_the_platform_minimum_in_words():
    lines = {k: v for k, v in LINES.items() if k[2] == "2027-W01"}
    plan = allocate(make_curves(lines), {"budget": 150, "min_daily_spend": {"meta": 14.5}})
    meta = next(ln for ln in plan.lines if ln.network == "meta")
    assert meta.spend == 0.0
    r = meta.limited_by.to_dict()
    assert r["cause"] == "on_off"
    assert r["rule"] == "min_daily_spend"
    assert r["rule_words"] == "0 or at least 101.5 EUR (Meta's minimum of 14.5 EUR a day x 7 days)"
    assert "on, it would have to spend at least 101.5 EUR (Meta's minimum of 14.5 EUR" in r["words"]
    # above the curve's cap (120): the words say the curve cannot absorb it
    plan = allocate(make_curves(lines), {"budget": 150, "min_daily_spend": {"meta": 20}})
    r = next(ln for ln in plan.lines if ln.network == "meta").limited_by.to_dict()
    assert r["words"].startswith("switched off: its curve absorbs at most 120 EUR, less than")
    assert "Meta's minimum of 20 EUR a day x 7 days" in r["words"]


def test_the_larger_minimum_holds_and_min_line_spend_is_unchanged():
    lines = {k: v for k, v in LINES.items() if k[2] == "2027-W01"}
    # both lines on at >= 80 (meta 80 + tiktok 90: 300) beats meta off (tiktok 170: 270)
    spec = {"budget": 170, "min_line_spend": 80, "min_daily_spend": {"meta": 10}}
    plan = allocate(make_curves(lines), spec)
    names = {c.name for c in plan.constraints}
    assert "min_line_spend__meta/all/2027-W01" in names  # 80 > 70: min_line_spend names it
    assert _spend(plan)[("meta", "all", "2027-W01")] == pytest.approx(80.0, abs=1e-6)
    spec["min_daily_spend"] = {"meta": 12}  # 84 > 80: the daily minimum names it
    plan = allocate(make_curves(lines), spec)
    assert "min_daily_spend__meta/all/2027-W01" in {c.name for c in plan.constraints}
    assert _spend(plan)[("meta", "all", "2027-W01")] == pytest.approx(84.0, abs=1e-6)
    plan = allocate(make_curves(lines), {"budget": 150, "min_line_spend": 110})
    r = next(ln for ln in plan.lines if ln.network == "meta").limited_by.to_dict()
    assert r["rule"] == "min_line_spend"
    assert r["rule_words"] == "a line switched on spends at least 110 EUR"
    assert "(min_line_spend), and that money brings more elsewhere" in r["words"]


def test_month_has_its_days():
    curves = make_curves({("tiktok", "a", "2027-02"): [[0, 0], [1000, 900]]})
    plan = allocate(curves, {"budget": 700, "min_daily_spend": {"tiktok": 20}})
    assert plan.lines[0].spend == pytest.approx(700.0)  # 560 = 20 x 28 days: on
    plan = allocate(curves, {"budget": 500, "min_daily_spend": {"tiktok": 20}})
    assert plan.lines[0].spend == 0.0


def test_spec_errors_and_round_trip():
    curves = make_curves({("tiktok", "a", "Q1"): [[0, 0], [100, 90]]})
    with pytest.raises(SpecError, match=r"days of period 'Q1' cannot be told.*ISO weeks"):
        allocate(curves, {"budget": 50, "min_daily_spend": {"tiktok": 1}})
    week = make_curves({("tiktok", "a", "2027-W01"): [[0, 0], [100, 90]]})
    with pytest.raises(SpecError, match=r"min_daily_spend.tiktk: no curve.*did you mean 'tiktok'"):
        allocate(week, {"budget": 50, "min_daily_spend": {"tiktk": 1}})
    with pytest.raises(SpecError, match=r"spec.min_daily_spend.tiktok: must be >= 0"):
        PlanSpec.from_dict({"budget": 5, "min_daily_spend": {"tiktok": -1}})
    with pytest.raises(SpecError, match=r"spec.min_daily_spend"):
        PlanSpec.from_dict({"budget": 5, "min_daily_spend": [1]})
    with pytest.raises(SpecError, match=r"cvar"):
        PlanSpec.from_dict({"budget": 5, "objective": "cvar", "min_daily_spend": {"x": 1}})
    spec = PlanSpec.from_dict({"budget": 5, "min_daily_spend": {"facebook": 2}})
    assert spec.is_mip and PlanSpec.from_dict(spec.to_dict()) == spec
    assert not PlanSpec.from_dict({"budget": 5, "min_daily_spend": {"meta": 0}}).is_mip
    # a platform name ingest maps reaches the curves' network
    fb = make_curves({("meta", "a", "2027-W01"): [[0, 0], [100, 90]]})
    assert allocate(fb, spec.with_budget(10)).lines[0].spend == 0.0  # 14 > 10: off


def test_replan_carries_the_daily_minimum():
    from optimizer.rules.replan import OpenPart

    spec = PlanSpec.from_dict({"budget": 500, "min_daily_spend": {"meta": 10}})
    curves = make_curves(LINES)
    status = {"2027-W01": "elapsed", "2027-W02": "open"}
    locked = {("meta", "all", "2027-W01"): 100.0}
    part = OpenPart(curves, status, {}, locked, {}, {}, 500, 400, True)
    sub = spec.for_open_part(part)
    assert sub.min_daily_spend == {"meta": 10} and sub.is_mip
    w2 = Curves.from_dict(
        {
            **curves.to_dict(),
            "lines": [d for d in curves.to_dict()["lines"] if "W02" in d["period"]],
        }
    )
    plan = allocate(w2, sub.with_budget(60))  # meta W02 needs 70: off; tiktok takes the 60
    assert {ln.network: ln.spend for ln in plan.lines} == pytest.approx({"tiktok": 60, "meta": 0})


#: a re-plan's open part on 2027-01-18: January runs (14 days left), February is open
RUNNING = {
    ("tiktok", "a", "2027-01"): [[0, 0], [2000, 1000]],
    ("tiktok", "a", "2027-02"): [[0, 0], [2000, 800]],
    ("meta", "a", "2027-01"): [[0, 0], [600, 900], [3000, 1500]],
    ("meta", "a", "2027-02"): [[0, 0], [600, 900], [3000, 1500]],
}
AS_OF = date(2027, 1, 18)


def _open_part_spec(spec: dict, current: dict, left: float, as_of=AS_OF):
    """Return the spec and curves a re-plan optimises its open part under (as_of 2027-01-18)."""
    from optimizer.rules.replan import OpenPart

    curves = make_curves(RUNNING)
    status = {"2027-01": "current", "2027-02": "open"}
    part = OpenPart(curves, status, current, {}, {}, {}, left, left, False, as_of=as_of)
    return PlanSpec.from_dict(spec).with_budget(left).for_open_part(part), curves


def _running_choices(spec: dict, current: dict) -> list[list[tuple[float, float]]]:
    """Each line's spend intervals, from the brief's words (not adplan's code).

    A line that spent ``a`` by as_of may always stop there (money spent is spent), whatever
    minimum applies to it, or spends at least per day x 14 days more and ``min_line_spend``
    in all; one that did not is off or spends at least per day x the days it runs from
    as_of (and ``min_line_spend``).
    """
    m = float(spec.get("min_line_spend") or 0.0)
    out = []
    for key, pts in RUNNING.items():
        cap = float(pts[-1][0])
        per_day = spec.get("min_daily_spend", {}).get(key[0], 0.0)
        days = 14 if key[2] == "2027-01" else _days(key[2])
        a = current.get(key, 0.0)
        least = max(a + per_day * days, m)
        out.append([(a, a), (least, cap)])  # a = 0: off
    return out


def _independent_running(spec: dict, current: dict, left: float) -> float:
    """Return the best results over every choice of interval, each an LP (scipy linprog)."""
    keys, tiers = list(RUNNING), []
    for li, key in enumerate(keys):
        for (s0, r0), (s1, r1) in itertools.pairwise(RUNNING[key]):
            tiers.append((li, s1 - s0, (r1 - r0) / (s1 - s0)))
    k = spec.get("max_active_lines")
    best = -1.0
    for pick in itertools.product(*_running_choices(spec, current)):
        if k is not None and sum(1 for lo, hi in pick if hi > 0) > k:
            continue
        a_ub, b_ub = [np.ones(len(tiers))], [left]
        for li, (lo, hi) in enumerate(pick):
            row = np.array([1.0 if t[0] == li else 0.0 for t in tiers])
            a_ub += [row, -row]
            b_ub += [hi, -lo]
        bounds = [(0.0, t[1]) for t in tiers]
        c = np.array([-t[2] for t in tiers])
        r = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, bounds=bounds, method="highs")
        if r.status == 0:
            best = max(best, -r.fun)
    return best


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    ("spent", "left", "rules"),
    [
        ("both", 1900, {}),  # 100 more for tiktok Jan: below 280, so it stops at 600
        ("both", 2000, {}),
        ("both", 2200, {}),  # 400 more: above 280, it goes on
        ("meta", 1500, {}),  # tiktok Jan spent nothing: 300 >= 20 x 14 days left, on
        ("both", 1900, {"min_line_spend": 900}),
        ("both", 1900, {"min_line_spend": 700}),  # meta (no daily minimum) may stop at 500
        ("both", 2500, {"min_line_spend": 700, "max_active_lines": 3}),
        ("both", 2200, {"max_active_lines": 3}),
        ("meta", 1500, {"max_active_lines": 2}),
    ],
)
def test_running_period_counts_the_days_left_on_top_of_the_spend(solver, spent, left, rules):
    current = {("meta", "a", "2027-01"): 500.0}
    if spent == "both":
        current[("tiktok", "a", "2027-01")] = 600.0
    spec = {"budget": 10_000, "min_daily_spend": {"tiktok": 20}, **rules}
    sub, curves = _open_part_spec(spec, current, left)
    plan = allocate(curves, sub, solver=solver)
    assert plan.expected_results == pytest.approx(
        _independent_running(spec, current, left), rel=1e-7, abs=1e-6
    )
    for key, s in _spend(plan).items():  # each interval holds
        assert any(lo - 1e-6 <= s <= hi + 1e-6 for lo, hi in _running_choices(spec, current)[
            list(RUNNING).index(key)
        ]), (key, s)  # fmt: skip


def test_running_period_words_and_the_measured_change():
    """Old rule: tiktok Jan kept 700 (620 = 20 x 31 days counted the spend made); now 600."""
    current = {("tiktok", "a", "2027-01"): 600.0, ("meta", "a", "2027-01"): 500.0}
    sub, curves = _open_part_spec({"budget": 1, "min_daily_spend": {"tiktok": 20}}, current, 1900)
    plan = allocate(curves, sub)
    s = _spend(plan)
    assert s[("tiktok", "a", "2027-01")] == pytest.approx(600.0)
    assert s[("meta", "a", "2027-01")] == pytest.approx(700.0)  # the 100 at slope 0.25
    line = next(ln for ln in plan.lines if (ln.network, ln.period) == ("tiktok", "2027-01"))
    why = line.limited_by.to_dict()
    assert why["cause"] == "on_off"
    assert "x 14 days left from 2027-01-18, on top of the 600 EUR spent" in why["words"]
    plan = allocate(curves, sub.with_budget(2200))
    rule = next(c for c in plan.constraints if c.name == "min_daily_spend__tiktok/a/2027-01")
    assert "600 EUR (spent, then stop) or at least 880 EUR (TikTok's minimum of 20 EUR a day" in (
        rule.description
    )
    assert _spend(plan)[("tiktok", "a", "2027-01")] == pytest.approx(1000.0)


def test_elapsed_periods_and_no_as_of_keep_the_whole_periods():
    """Without the re-plan's day the rule is the whole period's (as before): no running."""
    current = {("meta", "a", "2027-01"): 500.0}
    sub, _ = _open_part_spec({"budget": 1, "min_daily_spend": {"tiktok": 20}}, current, 1500, None)
    assert getattr(sub, "running", None) is None


def test_a_huge_daily_minimum_is_a_spec_error_not_a_solver_failure():
    """1e15 a day made HiGHS fail (API 503); a line minimum above 1e12 is refused."""
    week = make_curves({("meta", "a", "2027-W01"): [[0, 0], [100, 90]]})
    with pytest.raises(SpecError, match=r"min_daily_spend.meta: 1e\+15 a day x 7 days.*1e12"):
        allocate(week, {"budget": 50, "min_daily_spend": {"meta": 1e15}})
    month = make_curves({("meta", "a", "2027-01"): [[0, 0], [100, 90]]})
    with pytest.raises(SpecError, match=r"x 31 days of 2027-01 is 3.1e\+12"):
        allocate(month, {"budget": 50, "min_daily_spend": {"meta": 1e11}})
    assert allocate(week, {"budget": 50, "min_daily_spend": {"meta": 1e11}}).lines[0].spend == 0


def _part_spec(spec: dict, lines: dict, current: dict, as_of: date, left: float):
    """Return the open part's spec and curves: ``lines`` all current or open on ``as_of``."""
    from optimizer.rules.replan import OpenPart

    curves = make_curves(lines)
    status = {}
    for key in lines:
        start, _end = period_bounds(key[2])
        status[key[2]] = "current" if start < as_of else "open"
    part = OpenPart(curves, status, current, {}, {}, {}, left, left, False, as_of=as_of)
    return PlanSpec.from_dict(spec).with_budget(left).for_open_part(part), curves


def test_a_network_with_no_line_left_drops_out_of_the_daily_minimums():
    """Meta's lines all elapsed: its minimum was kept and refused ("no curve has network")."""
    lines = {("tiktok", "a", "2027-02"): [[0, 0], [600, 900], [1200, 1200]]}
    spec = {"budget": 1, "min_daily_spend": {"meta": 1, "tiktok": 20}}
    sub, curves = _part_spec(spec, lines, {}, date(2027, 2, 10), 800)
    assert sub.min_daily_spend == {"tiktok": 20}
    plan = allocate(curves, sub)
    assert plan.lines[0].spend == pytest.approx(800.0)  # 800 >= 20 x 19 days left


#: weeks: W02 runs on 2027-01-13 (5 days left), each of its lines spent 50 and can take 10
#: more only; W03 is open, each line worth 900 at 300 and 1,100 at 600
COUNTED = {
    ("tiktok", "a", "2027-W02"): [[0, 0], [50, 100], [60, 101]],
    ("meta", "a", "2027-W02"): [[0, 0], [50, 100], [60, 101]],
    ("tiktok", "a", "2027-W03"): [[0, 0], [300, 900], [600, 1100]],
    ("meta", "a", "2027-W03"): [[0, 0], [300, 900], [600, 1100]],
}


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_count_that_binds_through_running_lines_is_named(solver):
    """3 lines at most, 2 running (they stop at their 50): one W03 line only.

    Before, the reasons counted the switches (the running lines' say "spends more": 0), saw
    1 of 3 and blamed the other W03 line's minimum (70) instead of the count; the running
    lines said "switched off" although they spent.
    """
    current = {("tiktok", "a", "2027-W02"): 50.0, ("meta", "a", "2027-W02"): 50.0}
    spec = {"budget": 1, "min_daily_spend": {"tiktok": 10, "meta": 10}, "max_active_lines": 3}
    sub, curves = _part_spec(spec, COUNTED, current, date(2027, 1, 13), 800)
    plan = allocate(curves, sub, solver=solver)
    spend = _spend(plan)
    w03 = sorted(spend[(n, "a", "2027-W03")] for n in ("tiktok", "meta"))
    assert w03 == pytest.approx([0.0, 600.0])
    off = next(ln for ln in plan.lines if ln.period == "2027-W03" and ln.spend == 0)
    assert off.limited_by.rule == "max_active_lines"
    assert "at most 3 lines on (2 running already)" in off.limited_by.words
    for ln in plan.lines:
        if ln.period == "2027-W02":
            assert ln.spend == pytest.approx(50.0)
            assert ln.limited_by.words.startswith("stopped at the 50 EUR already spent: "), (
                ln.limited_by.words
            )
            assert "switched off" not in ln.limited_by.words
    count = next(c for c in plan.constraints if c.name == "max_active_lines")
    assert count.binding
    # 4 lines at most, 60 left for W03, below its minimum of 70: both off, the count has
    # room (2 of 4) and the reasons name the minimum
    sub, curves = _part_spec(
        {**spec, "max_active_lines": 4}, COUNTED, current, date(2027, 1, 13), 160
    )
    plan = allocate(curves, sub, solver=solver)
    for ln in plan.lines:
        if ln.period == "2027-W03":
            assert ln.spend == 0 and ln.limited_by.rule == "min_daily_spend", ln.limited_by.words
    assert not next(c for c in plan.constraints if c.name == "max_active_lines").binding


#: W02 runs on 2027-01-13; tiktok and meta each spent 50 there, more is worth little
STOPS = {
    ("tiktok", "a", "2027-W02"): [[0, 0], [50, 100], [400, 120]],
    ("meta", "a", "2027-W02"): [[0, 0], [50, 100], [400, 120]],
    ("tiktok", "a", "2027-W03"): [[0, 0], [300, 900], [600, 1100]],
}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("daily", [{}, {"tiktok": 1}, {"meta": 1}, {"tiktok": 1, "meta": 1}])
def test_a_running_line_may_stop_at_its_spend_whatever_minimum_applies(solver, daily):
    """min_line_spend 200: both running lines stop at their 50, on every network alike.

    Before, with a daily minimum on tiktok only, tiktok's line stopped at 50 while meta's was
    forced to 200 (and without any daily minimum both were): 550 for W03 instead of 600.
    """
    current = {("tiktok", "a", "2027-W02"): 50.0, ("meta", "a", "2027-W02"): 50.0}
    spec = {"budget": 1, "min_line_spend": 200, "min_daily_spend": daily}
    sub, curves = _part_spec(spec, STOPS, current, date(2027, 1, 13), 800)
    plan = allocate(curves, sub, solver=solver)
    assert _spend(plan) == pytest.approx(
        {("tiktok", "a", "2027-W02"): 50, ("meta", "a", "2027-W02"): 50,
         ("tiktok", "a", "2027-W03"): 600}
    )  # fmt: skip
    for ln in plan.lines:
        if ln.period == "2027-W02":
            assert ln.limited_by.words.startswith("stopped at the 50 EUR already spent"), (
                ln.limited_by.words
            )
    meta = next(ln for ln in plan.lines if (ln.network, ln.period) == ("meta", "2027-W02"))
    assert meta.limited_by.rule_words.startswith("50 EUR (spent, then stop) or at least 200 EUR")


@pytest.mark.parametrize("minimum", [{"min_line_spend": 100}, {}])
def test_the_count_names_every_running_line_that_spent(minimum):
    """Two W02 lines spent 50 and 150 by 2027-01-13: the count says 2, with or without minimums.

    The first says "1 running already" if it counted only the lines that could still stop,
    the second nothing at all if the count's words did not know the running period.
    """
    from scenarios.replan import replan

    weeks = {
        ("meta", "a", "2027-W02"): [[0, 0], [200, 200], [260, 201]],
        ("tiktok", "a", "2027-W02"): [[0, 0], [200, 200], [260, 201]],
        ("meta", "a", "2027-W03"): [[0, 0], [300, 900], [600, 1100]],
        ("tiktok", "a", "2027-W03"): [[0, 0], [300, 900], [600, 1100]],
    }
    spent = {("meta", "a", "2027-W02"): 50.0, ("tiktok", "a", "2027-W02"): 150.0}
    actuals = [
        {"date": "2027-01-11", "network": n, "segment": s, "spend": v}
        for (n, s, _p), v in spent.items()
    ]
    spec = PlanSpec.from_dict({"budget": 2000, "max_active_lines": 3, **minimum})
    res = replan(make_curves(weeks), spec, actuals, date(2027, 1, 13))
    (count,) = [c for c in res.plan.constraints if c.name == "max_active_lines"]
    assert "at most 3 lines on (2 running already)" in count.description
