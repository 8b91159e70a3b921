"""Properties on random instances, and agreement with an independent scipy linprog solve."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from optimizer import Curves, InfeasibleError, allocate

NETS, SEGS, PERS = ("meta", "tiktok", "x"), ("s1", "s2"), ("2027-01", "2027-02")


@st.composite
def instances(draw):
    lines = []
    for n in NETS:
        for s in SEGS:
            for p in PERS:
                if not draw(st.booleans()) and lines:
                    continue
                k = draw(st.integers(1, 4))
                widths = draw(st.lists(st.floats(10, 1000), min_size=k, max_size=k))
                slopes = sorted(
                    draw(st.lists(st.floats(0.01, 3), min_size=k, max_size=k)), reverse=True
                )
                pts, x, y = [[0.0, 0.0]], 0.0, 0.0
                for w, sl in zip(widths, slopes, strict=True):
                    x, y = x + w, y + w * sl
                    pts.append([x, y])
                lines.append({"network": n, "segment": s, "period": p, "points": pts})
    curves = Curves.from_dict({"lines": lines})
    cap = sum(ln.max_spend for ln in curves.lines)
    spec: dict = {"budget": draw(st.floats(0.05, 1.2)) * cap, "networks": {}, "segments": {}}
    nets = curves.networks
    if draw(st.booleans()):
        spec["networks"][nets[0]] = {"max_share": draw(st.floats(0.3, 1.0))}
    if draw(st.booleans()):
        spec["networks"][nets[-1]] = {"min": draw(st.floats(0, 0.2)) * cap}
    if draw(st.booleans()):
        spec["segments"][curves.segments[0]] = {"max": draw(st.floats(0.1, 1)) * cap}
    if draw(st.booleans()):
        spec["max_cost_per_result"] = draw(st.floats(0.5, 5))
    return curves, spec


def _holds(plan, spec, tol=1e-6):
    scale = max(1.0, spec["budget"])
    assert plan.total_spend <= spec["budget"] + tol * scale
    by_net = plan.totals_by("network")
    for n, r in spec["networks"].items():
        got = by_net.get(n, {"spend": 0.0})["spend"]
        if "max_share" in r:
            assert got <= r["max_share"] * plan.total_spend + tol * scale
        if "min" in r:
            assert got >= r["min"] - tol * scale
    by_seg = plan.totals_by("segment")
    for s, r in spec["segments"].items():
        assert by_seg.get(s, {"spend": 0.0})["spend"] <= r["max"] + tol * scale
    if "max_cost_per_result" in spec and plan.expected_results > 0:
        assert plan.total_spend <= spec["max_cost_per_result"] * plan.expected_results + tol * scale
    for ln in plan.lines:
        assert -tol <= ln.spend <= ln.max_spend + tol


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.floats(1.05, 2.0))
def test_rules_hold_totals_add_up_and_more_budget_never_hurts(inst, grow):
    curves, spec = inst
    try:
        plan = allocate(curves, spec)
    except InfeasibleError:
        assume(False)
    _holds(plan, spec)
    assert plan.total_spend == sum(ln.spend for ln in plan.lines)
    assert plan.expected_results == sum(ln.expected_results for ln in plan.lines)
    # the same exactly in the Plan JSON (as floats, no rounding), through a JSON round trip
    d = json.loads(json.dumps(plan.to_dict()))
    assert d["total_spend"] == sum(ln["spend"] for ln in d["lines"])
    assert d["expected_results"] == sum(ln["expected_results"] for ln in d["lines"])
    if plan.total_spend < spec["budget"] * (1 - 1e-6):
        assert d["notes"], "an unspent budget must be explained"
    for ln in plan.lines:
        assert ln.expected_results == pytest.approx(
            curves.lines[
                [c.key for c in curves.lines].index((ln.network, ln.segment, ln.period))
            ].results_at(ln.spend),
            rel=1e-9,
            abs=1e-9,
        )
    bigger = allocate(curves, {**spec, "budget": spec["budget"] * grow})
    assert bigger.expected_results >= plan.expected_results - 1e-7 * max(1, plan.expected_results)


def _linprog_optimum(curves, spec) -> float:
    """The same LP written independently: one variable per tier, dense rows, scipy's HiGHS."""
    cols = []  # (line, width, slope)
    for ln in curves.lines:
        for (x0, y0), (x1, y1) in zip(ln.points, ln.points[1:], strict=False):
            cols.append((ln, x1 - x0, (y1 - y0) / (x1 - x0)))
    n = len(cols)
    slope = np.array([c[2] for c in cols])
    rows, rhs = [np.ones(n)], [spec["budget"]]
    for name, r in spec["networks"].items():
        ind = np.array([1.0 if c[0].network == name else 0.0 for c in cols])
        if "max_share" in r:
            rows.append(ind - r["max_share"])
            rhs.append(0.0)
        if "min" in r:
            rows.append(-ind)
            rhs.append(-r["min"])
    for name, r in spec["segments"].items():
        rows.append(np.array([1.0 if c[0].segment == name else 0.0 for c in cols]))
        rhs.append(r["max"])
    if "max_cost_per_result" in spec:
        rows.append(1.0 - spec["max_cost_per_result"] * slope)
        rhs.append(0.0)
    res = linprog(
        -slope,
        A_ub=np.array(rows),
        b_ub=np.array(rhs),
        bounds=[(0, c[1]) for c in cols],
        method="highs",
    )
    assert res.status in (0, 2)
    return None if res.status == 2 else -res.fun


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_agrees_with_scipy_linprog(seed, solver):
    rng = np.random.default_rng(seed)
    lines = []
    for n in ("meta", "tiktok", "x", "linkedin"):
        for s in ("s1", "s2", "s3"):
            for p in ("2027-01", "2027-02"):
                k = int(rng.integers(1, 6))
                w = rng.uniform(100, 2000, k)
                sl = np.sort(rng.uniform(0.01, 0.2, k))[::-1]
                xs = np.concatenate([[0], np.cumsum(w)])
                ys = np.concatenate([[0], np.cumsum(w * sl)])
                lines.append(
                    {
                        "network": n,
                        "segment": s,
                        "period": p,
                        "points": np.column_stack([xs, ys]).tolist(),
                    }
                )
    curves = Curves.from_dict({"lines": lines})
    cap = sum(ln.max_spend for ln in curves.lines)
    spec = {
        "budget": cap * rng.uniform(0.2, 0.8),
        "networks": {"meta": {"max_share": 0.3}, "x": {"min": cap * 0.05}},
        "segments": {"s2": {"max": cap * 0.2}},
        "max_cost_per_result": 12.0,
    }
    want = _linprog_optimum(curves, spec)
    got = allocate(curves, spec, solver=solver).expected_results
    assert got == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_highs_and_cbc_agree_on_bigger_instances(seed):
    from optimizer.synthetic import benchmark_spec_dict, synthetic_curves

    curves = synthetic_curves(4, 6, 4, 6, seed=seed)
    spec = benchmark_spec_dict(curves, 0.4)
    a = allocate(curves, spec, solver="highs")
    b = allocate(curves, spec, solver="cbc")
    assert a.expected_results == pytest.approx(b.expected_results, rel=1e-6)
    # duals may legitimately differ here (degenerate vertices); signs may not
    rules_a = [c for c in a.constraints if c.family != "curve_end"]
    rules_b = [c for c in b.constraints if c.family != "curve_end"]
    for pa, pb in zip(rules_a, rules_b, strict=True):
        assert pa.name == pb.name
        assert pa.shadow_price * pb.shadow_price >= -1e-12
