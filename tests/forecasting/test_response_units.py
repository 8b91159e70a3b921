"""Units of the response options: the adstock's EM pieces, the Hill fit, the envelope.

Each is checked against arithmetic done here by hand or by brute force.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.carryover import grid_of, inside_shares, lifetime_targets, observed
from forecasting.shapes import concave_envelope, fit_hill, hill_offset


def _grid(decay: float, T: int = 6):
    starts = pd.date_range("2026-01-05", periods=T, freq="W-MON")
    panel = pd.DataFrame({"network": "meta", "segment": "a", "start": starts})
    return grid_of(panel, "week", {"meta": decay})


def test_observed_spreads_each_lifetime_geometrically_with_a_steady_start():
    g = _grid(0.5, 4)
    life = np.array([[8.0, 0.0, 4.0, 0.0]])
    mu = observed(g, life)
    # by hand: carry-in 0.5·8 = 4 before; μ_t = 0.5·L_t + 0.5·μ_{t-1}
    want = [0.5 * 8 + 0.5 * 8, 0.5 * 8.0, 0.5 * 4 + 0.5 * 4, 0.5 * 4]
    assert mu[0] == pytest.approx(want)
    assert observed(g, life, carry_in=False)[0] == pytest.approx([4.0, 2.0, 3.0, 1.5])


def test_lifetime_targets_are_a_fixed_point_at_the_truth_and_conserve_results():
    g = _grid(0.4, 6)
    life = np.array([[10.0, 3.0, 7.0, 0.0, 5.0, 2.0]])
    seen = observed(g, life)  # results exactly as expected
    att, expo = lifetime_targets(g, seen, life)
    # at the truth each spend is attributed its expected share: L·(1 - λ^(T-τ))
    assert att[0] == pytest.approx(life[0] * expo[0])
    assert expo[0] == pytest.approx(1 - 0.4 ** (6 - np.arange(6)))
    # and the attributed results never exceed what was seen (the rest came from before)
    assert att.sum() <= seen.sum() + 1e-9


def test_without_decay_the_targets_are_the_results_themselves():
    g = _grid(0.0, 5)
    seen = np.array([[1.0, 4.0, 0.0, 2.0, 9.0]])
    att, expo = lifetime_targets(g, seen, np.array([[2.0, 2.0, 1.0, 3.0, 5.0]]))
    assert att[0] == pytest.approx(seen[0]) and np.all(expo == 1)


def test_inside_shares_by_hand():
    assert inside_shares(0.5, 3) == pytest.approx([1 - 0.125, 1 - 0.25, 1 - 0.5])
    assert inside_shares(0.0, 4) == pytest.approx([1, 1, 1, 1])


def _brute_majorant(x, y):
    out = y.copy()
    for i in range(len(x)):
        for a in range(i + 1):
            for b in range(i, len(x)):
                if x[b] > x[a]:
                    t = (x[i] - x[a]) / (x[b] - x[a])
                    out[i] = max(out[i], y[a] + t * (y[b] - y[a]))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_the_concave_envelope_is_the_least_concave_majorant(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([[0.0], np.cumsum(rng.uniform(0.1, 1.0, 14))])
    y = np.concatenate([[0.0], np.cumsum(rng.uniform(0.0, 1.0, 14))])
    env, below = concave_envelope(x, y)
    assert env == pytest.approx(_brute_majorant(x, y))
    lifted = env > y + 1e-9
    assert below == (x[lifted].max() if lifted.any() else 0.0)


def test_an_s_curve_is_lifted_below_its_tangent_point():
    x = np.linspace(0, 4, 81)
    y = x**2 / (1 + x**2)  # Hill κ=2, K=1: convex below 1/√3
    env, below = concave_envelope(x, y)
    assert 0.577 < below < 2.0  # the tangent from 0 touches at s = 1 (where y/s is largest)
    assert np.all(np.diff(env, 2) <= 1e-12)  # concave
    assert env[x >= 1.05] == pytest.approx(y[x >= 1.05])


def test_hill_offset_rises_like_s_to_the_kappa_and_flattens_to_its_ceiling():
    k = np.log(100.0)
    low = hill_offset(np.log([1.0, 2.0]), k, 2.0)
    assert low[1] - low[0] == pytest.approx(2 * np.log(2), rel=1e-3)  # slope κ far below K
    assert hill_offset(np.log(1e6), k, 2.0) == pytest.approx(k, abs=1e-6)  # ceiling: log K
    assert hill_offset(k, k, 1.5) == pytest.approx(k + np.log(0.5))  # half at s = K


def test_fit_hill_recovers_the_law_of_a_hill_history():
    # results ~ Poisson(A·hill(s; κ=2, K=1.2·centre)) for 3 lines of one network
    rng = np.random.default_rng(0)
    n = 600
    line = rng.integers(0, 3, n)
    centre = np.log(np.array([1000.0, 2000.0, 4000.0]))[line]
    log_s = centre + rng.normal(0, 0.5, n)
    mu = np.exp(np.log(80.0) + hill_offset(log_s, centre + np.log(1.2), 2.0) - centre)
    y = rng.poisson(mu).astype(float)
    power = log_s - centre  # a power law of elasticity 1 for the comparison
    got = fit_hill(y, np.zeros(n), power, log_s, centre, np.array(["meta"] * n), line)
    kappa, c = got["meta"]
    assert kappa == 2.0 and abs(np.log(c / 1.2)) < 0.2


def test_fit_hill_keeps_the_power_law_where_it_fits():
    rng = np.random.default_rng(1)
    n = 600
    line = rng.integers(0, 3, n)
    centre = np.log(np.array([1000.0, 2000.0, 4000.0]))[line]
    log_s = centre + rng.normal(0, 0.5, n)
    power = 0.6 * (log_s - centre)
    y = rng.poisson(np.exp(np.log(50.0) + power)).astype(float)
    assert fit_hill(y, np.zeros(n), power, log_s, centre, np.array(["meta"] * n), line) == {}
