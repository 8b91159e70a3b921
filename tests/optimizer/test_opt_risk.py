"""The plan's ranges (optimizer/risk.py) against closed forms on small cases.

Each case sets one source of uncertainty in a curve line's ``spread`` and reads the plan's
simulated P10 / P50 / P90 against the distribution written by hand (scipy.stats):

- count noise alone: Poisson; two lines: the Poisson of their sum;
- the dispersion alone: the negative binomial ``mu + phi·mu²``;
- the level error alone (large counts): a log-normal of mean ``mu``, the same for the periods
  of one network × segment (their total as wide as one line) and independent between
  segments (the variance of the sum is the sum of the variances);
- the slope error alone, away from the history's spend: log-normal with ``w·se``;
- a band from another tool: the P90/P10 ratio of the band;
- the chance of a target: Poisson's tail.

2,000 worlds give a P10 or P90 to about 0.04 standard deviations (``QSE``); the tolerances
are three of those.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from optimizer import Curves, allocate
from optimizer.curves import MAX_LOG_VAR, CurveError, CurveLine, Spread
from optimizer.risk import Z90, beats, draw_world, simulate

#: a linear curve: cost per result 10 up to 1e7 of spend
LINEAR = ((0.0, 0.0), (1e7, 1e6))
#: the standard error of a simulated P10 / P90 over 2,000 worlds, in standard deviations
QSE = math.sqrt(0.1 * 0.9 / 2000) / stats.norm.pdf(stats.norm.ppf(0.9))


def rtol(sigma: float) -> float:
    """Three standard errors of a log-normal's simulated quantile, relative, and the counts'."""
    return 3 * QSE * sigma + 3e-3  # + the Poisson noise of a million counts (0.13% at P10)


def line(network="meta", segment="a", period="2027-W01", spread=None, **kw) -> CurveLine:
    return CurveLine(network, segment, period, kw.pop("points", LINEAR), spread=spread, **kw)


def sim_total(lines, spend, mean, scenarios=2000):
    return simulate(lines, spend, mean, scenarios=scenarios).total


def q(x):
    return np.quantile(x, (0.1, 0.5, 0.9))


def test_count_noise_alone_is_poisson():
    ln = line(spread=Spread(0.0, 0.0, 0.0, 0.0))
    got = q(sim_total([ln], [400.0], [40.0]))
    want = stats.poisson.ppf((0.1, 0.5, 0.9), 40)
    assert np.all(np.abs(got - want) <= 1.0), (got, want)


def test_two_lines_of_count_noise_are_the_poisson_of_their_sum():
    a = line(segment="a", spread=Spread(0.0, 0.0, 0.0, 0.0))
    b = line(segment="b", spread=Spread(0.0, 0.0, 0.0, 0.0))
    got = q(sim_total([a, b], [250.0, 350.0], [25.0, 35.0]))
    want = stats.poisson.ppf((0.1, 0.5, 0.9), 60)
    assert np.all(np.abs(got - want) <= 1.0), (got, want)


def test_dispersion_alone_is_negative_binomial():
    phi, mu = 0.05, 200.0
    ln = line(spread=Spread(0.0, 0.0, 0.0, phi))
    got = q(sim_total([ln], [2000.0], [mu]))
    n = 1.0 / phi
    want = stats.nbinom.ppf((0.1, 0.5, 0.9), n, n / (n + mu))
    sd = math.sqrt(mu + phi * mu * mu)
    assert np.all(np.abs(got - want) <= 0.06 * sd), (got, want)


def _lognormal(mu: float, v: float) -> np.ndarray:
    z = stats.norm.ppf((0.1, 0.5, 0.9))
    return mu * np.exp(math.sqrt(v) * z - v / 2.0)


def test_level_error_is_lognormal_of_mean_mu_and_shared_by_periods():
    v, mu = 0.04, 1e6  # Poisson noise is 0.1% of the mean: negligible
    one = [line(spread=Spread(v, 0.0, 0.0, 0.0))]
    got = q(sim_total(one, [1e7], [mu]))
    assert np.allclose(got, _lognormal(mu, v), rtol=rtol(0.2)), (got, _lognormal(mu, v))
    # two periods of one network x segment: the same error, the total as wide as one line
    two = [line(period=p, spread=Spread(v, 0.0, 0.0, 0.0)) for p in ("2027-W01", "2027-W02")]
    got2 = q(sim_total(two, [1e7, 1e7], [mu, mu]))
    assert np.allclose(got2, _lognormal(2 * mu, v), rtol=rtol(0.2)), got2


def test_level_errors_of_different_segments_are_independent():
    v, mu = 0.04, 1e6
    lines = [line(segment=s, spread=Spread(v, 0.0, 0.0, 0.0)) for s in "abcd"]
    total = sim_total(lines, [1e7] * 4, [mu] * 4, scenarios=4000)
    want_var = 4 * mu * mu * math.expm1(v)  # independent: the variances add up
    assert total.var() == pytest.approx(want_var, rel=0.1)
    assert total.mean() == pytest.approx(4 * mu, rel=0.005)


def test_slope_error_grows_with_the_distance_from_the_history():
    se, centre, mu = 0.1, math.log(1e5), 1e6
    ln = line(spread=Spread(0.0, centre, se, 0.0))
    for spend in (1e5, 1e6):  # at the history's spend, and 10x above it
        w = math.log(spend) - centre
        got = q(sim_total([ln], [spend], [mu]))
        want = _lognormal(mu, (w * se) ** 2)
        assert np.allclose(got, want, rtol=rtol(abs(w) * se)), (spend, got, want)


def test_log_scale_error_is_capped():
    ln = line(spread=Spread(10.0, 0.0, 0.0, 0.0))
    got = q(sim_total([ln], [1e7], [1e6], scenarios=4000))
    want = _lognormal(1e6, MAX_LOG_VAR)
    assert got[2] / got[0] == pytest.approx(want[2] / want[0], rel=0.08)


def test_a_band_from_another_tool_gives_its_p90_over_p10():
    lo = ((0.0, 0.0), (1e7, 0.8e6))
    hi = ((0.0, 0.0), (1e7, 1.25e6))
    ln = line(low=lo, high=hi)
    got = q(sim_total([ln], [1e6], [1e5]))
    assert got[2] / got[0] == pytest.approx(1.25 / 0.8, rel=0.02)
    sigma = math.log(1.25 / 0.8) / (2 * Z90)
    assert got[1] == pytest.approx(1e5 * math.exp(-sigma * sigma / 2), rel=0.01)


def test_curves_without_uncertainty_give_no_range_but_the_expected_values():
    c = Curves((line(), line(segment="b")), result_type="purchases")
    plan = allocate(c, {"budget": 5000})
    r = plan.ranges
    assert r["source"] == "none" and r["note"].startswith("no range")
    assert r["total"]["p10"] == r["total"]["p90"] == pytest.approx(plan.expected_results)


def test_plan_ranges_hold_every_view_and_the_chance_of_a_target():
    sp = Spread(0.0, 0.0, 0.0, 0.0)
    c = Curves((line(spread=sp), line(segment="b", spread=sp)), result_type="purchases")
    plan = allocate(c, {"budget": 400, "segments": {"a": {"max": 200}}})
    r = plan.ranges
    assert r["source"] == "forecast" and r["scenarios"] == 2000
    assert set(r) >= {"total", "cost_per_result", "networks", "segments", "periods"}
    assert set(r["segments"]) == {"a", "b"}
    want = stats.poisson.ppf((0.1, 0.5, 0.9), 40)
    assert [r["total"][k] for k in ("p10", "p50", "p90")] == pytest.approx(want, abs=1.0)
    assert r["cost_per_result"]["p10"] == pytest.approx(400 / r["total"]["p90"])
    for ln in plan.lines:
        assert ln.results_p10 <= ln.expected_results <= ln.results_p90
    target = optimizer_target(c, 35)  # the least spend whose mean is 35: a coin toss
    assert target.target_probability == pytest.approx(1 - stats.poisson.cdf(34, 35), abs=0.03)
    d = target.to_dict()
    assert d["target_probability"] == target.target_probability
    assert "results_p10" in d["lines"][0] and "ranges" in d


def optimizer_target(c, n):
    from optimizer import min_budget_for_results

    return min_budget_for_results(c, {"budget": 1}, n)


def test_worlds_are_seeded_by_the_lines_names():
    a = line(segment="a", spread=Spread(0.04, 0.0, 0.0, 0.0))
    b = line(segment="b", spread=Spread(0.04, 0.0, 0.0, 0.0))
    w1, w2 = draw_world([a, b], 50), draw_world([b], 50)
    assert np.array_equal(w1.z_level[:, 1], w2.z_level[:, 0])
    assert not np.array_equal(w1.z_level[:, 0], w1.z_level[:, 1])


@pytest.mark.parametrize(
    "raw",
    [
        {"level_var": -1, "log_spend_centre": 0, "elasticity_se": 0, "dispersion": 0},
        {"level_var": 0, "log_spend_centre": "x", "elasticity_se": 0, "dispersion": 0},
        {"level_var": 0, "log_spend_centre": 0, "elasticity_se": 0},
        [0, 0, 0, 0],
    ],
)
def test_a_malformed_spread_is_refused_naming_the_line(raw):
    data = {"lines": [{"network": "m", "segment": "a", "period": "2027-W01",
                       "points": [[0, 0], [10, 1]], "spread": raw}]}  # fmt: skip
    with pytest.raises(CurveError, match=r"lines\[0\].*spread"):
        Curves.from_dict(data)


def test_a_spread_survives_the_json_round_trip():
    ln = line(spread=Spread(0.01, 7.5, 0.05, 0.02))
    back = Curves.from_dict(Curves((ln,)).to_dict())
    assert back.lines[0].spread == ln.spread


def test_plans_on_the_same_curves_meet_the_same_worlds_whatever_they_fund():
    sp = Spread(0.01, 0.0, 0.0, 0.02)
    lines = [line(segment=s, period=p, spread=sp) for s in "ab" for p in ("2027-W01", "2027-W02")]
    full, part = draw_world(lines, 300), draw_world(lines[1:], 300)
    for name in ("noise", "count_u", "count_z"):
        assert np.array_equal(getattr(full, name)[:, 1:], getattr(part, name)), name
    # one line with a little more: its count never falls, every other line's stays put
    base = simulate(lines, [300.0] * 4, [30.0] * 4, scenarios=500)
    more = simulate(lines, [310.0, 300.0, 300.0, 300.0], [31.0, 30.0, 30.0, 30.0], scenarios=500)
    assert np.array_equal(more.results[:, 1:], base.results[:, 1:])
    assert np.all(more.results[:, 0] >= base.results[:, 0])
    assert beats(more, base) > 0.5 and beats(base, more) < 0.5


def test_the_chance_of_a_target_never_falls_as_the_budget_grows():
    sp = Spread(0.01, 0.0, 0.0, 0.02)
    lines = [line(segment=s, spread=sp) for s in "abc"]
    world = draw_world(lines, 2000)
    chances = []
    for b in np.linspace(300, 600, 31):  # one line at a time: spend only grows
        spend = np.minimum(np.maximum(b - np.array([0.0, 200.0, 400.0]), 0.0), 200.0)
        total = world.results(spend, spend / 10.0).sum(axis=1)
        chances.append(float((total >= 40).mean()))
    assert np.all(np.diff(chances) >= 0), chances


def test_no_chance_and_no_confidence_on_curves_that_carry_no_uncertainty():
    from optimizer import min_budget_for_results
    from optimizer.errors import SpecError

    c = Curves((line(), line(segment="b")), result_type="purchases")
    assert min_budget_for_results(c, {"budget": 1}, 100).target_probability is None
    with pytest.raises(SpecError, match="carry no uncertainty"):
        min_budget_for_results(c, {"budget": 1}, 100, confidence=0.9)


def test_the_frontier_band_is_empty_without_uncertainty_and_ordered_with_it():
    from optimizer import frontier

    bare = Curves((line(), line(segment="b")), result_type="purchases")
    for p in frontier(bare, {"budget": 100}, [100, 200]):
        assert p["results_p10"] is None and p["results_p90"] is None
    sp = Spread(0.01, 0.0, 0.0, 0.02)
    sure = Curves((line(spread=sp), line(segment="b", spread=sp)), result_type="purchases")
    for p in frontier(sure, {"budget": 100}, [100, 2000]):
        assert p["results_p10"] <= p["results_p50"] <= p["results_p90"]
        assert p["results_p10"] < p["expected_results"] < p["results_p90"]


def test_a_tiny_target_with_a_confidence_ends_at_once_and_names_the_budget_found():
    from optimizer import min_budget_for_results

    sp = Spread(0.01, 0.0, 0.0, 0.02)
    c = Curves((line(spread=sp), line(segment="b", spread=sp)), result_type="purchases")
    plan = min_budget_for_results(c, {"budget": 1}, 1e-9, confidence=0.9, time_limit=5)
    assert plan.target_probability >= 0.9
    sure = min_budget_for_results(c, {"budget": 1}, 100, confidence=0.9)
    words = [x.description for x in sure.constraints if x.family == "budget"]
    assert words == [f"the budget of {sure.budget:,.0f} EUR"], words


def test_a_risk_aware_plan_needs_curves_that_carry_uncertainty():
    from optimizer.errors import SpecError

    bare = Curves((line(), line(segment="b")), result_type="purchases")
    with pytest.raises(SpecError, match="cvar needs curves that carry their uncertainty"):
        allocate(bare, {"budget": 100, "objective": "cvar"})
