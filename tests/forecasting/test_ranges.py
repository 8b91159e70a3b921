"""The 10-90% ranges: exact under the model for every size of line, and scored one way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.ranges import (
    FLAT_SPEND_SD,
    bounds,
    calibrate,
    calibrate_phi,
    concave_band,
    coverage_share,
    line_spreads,
    pit_share,
)


def _draw(rng, mu, phi_eff, n):
    m = np.full(n, mu)
    if phi_eff < 1e-9:
        return m, rng.poisson(m)
    r = 1 / phi_eff
    return m, rng.negative_binomial(r, r / (r + m))


@pytest.mark.parametrize("mu", [0.05, 0.5, 3.0, 12.0, 60.0, 2000.0])
@pytest.mark.parametrize(("phi", "v"), [(0.0, 0.0), (0.1, 0.05)])
def test_ranges_cover_80_percent_of_counts_at_every_size(mu, phi, v):
    rng = np.random.default_rng(1)
    phi_eff = (1 + phi) * np.exp(v) - 1
    m, y = _draw(rng, mu, phi_eff, 100_000)
    lo, hi = bounds(m[:1], phi, v)
    assert lo[0] < mu < hi[0]
    share = coverage_share(y, lo[0], hi[0]).mean()
    assert 0.79 <= share <= 0.81
    # the same share from the distribution function alone (what the backtest uses)
    assert np.isclose(pit_share(y, m, phi, v).mean(), share, atol=1e-9)


def test_whole_count_bounds_would_miss_small_lines():
    """Bounds rounded to whole results cover a mean of 5 about 89%, not 80%: why units count."""
    rng = np.random.default_rng(2)
    m, y = _draw(rng, 5.0, 0.0, 100_000)
    lo, hi = bounds(m[:1], 0.0, 0.0)
    whole = ((y >= np.floor(lo[0])) & (y <= np.ceil(hi[0]))).mean()
    assert whole > 0.86
    assert 0.79 <= coverage_share(y, lo[0], hi[0]).mean() <= 0.81


def test_calibration_finds_the_dispersion_that_covers_80_percent():
    rng = np.random.default_rng(4)
    mu = rng.uniform(1, 200, 8000)
    y = rng.negative_binomial(1 / 0.1, 1 / (1 + 0.1 * mu))  # variance mu + 0.1 mu^2
    phi = calibrate_phi(y, mu, np.zeros_like(mu))
    assert 0.07 < phi < 0.14
    assert 0.79 <= pit_share(y, mu, phi, 0.0).mean() <= 0.81
    cal = calibrate(y, mu, np.zeros_like(mu), period_days=7)
    assert cal.small is not None and cal.large is not None
    assert calibrate_phi(y[:5], mu[:5], np.zeros(5)) is None  # too few to calibrate


def test_ranges_widen_with_the_forecast_error():
    lo0, hi0 = bounds(np.array([500.0]), 0.02, 0.0)
    lo1, hi1 = bounds(np.array([500.0]), 0.02, 0.2)
    assert hi1[0] - lo1[0] > 1.5 * (hi0[0] - lo0[0])


def test_concave_band_lifts_a_convex_start_and_keeps_concave_points():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert np.allclose(concave_band(x, np.array([0.0, 0.1, 1.0, 1.5])), [0, 0.5, 1.0, 1.5])
    concave = np.array([0.0, 2.0, 3.0, 3.5])
    assert np.allclose(concave_band(x, concave), concave)


def _rows(spend):
    n = len(spend)
    return pd.DataFrame(
        {"network": ["m"] * n, "segment": ["s"] * n, "spend": spend, "results": np.full(n, 50.0)}
    )


def test_a_line_whose_spend_never_moved_is_flat_and_its_slope_uncertain():
    rng = np.random.default_rng(0)
    varied = _rows(1000 * np.exp(rng.normal(0, 0.4, 52)))
    flat = _rows(1000 * np.exp(rng.normal(0, 0.01, 52)))
    sv = line_spreads(varied, np.full(52, 50.0), 0.0)[("m", "s")]
    sf = line_spreads(flat, np.full(52, 50.0), 0.0)[("m", "s")]
    assert not sv.flat and sf.flat and sf.log_spend_sd < FLAT_SPEND_SD
    assert sf.se > 3 * sv.se
    # the forecast's error grows as spend moves away from the history
    far, near = sv.variance(np.array([3000.0, 1000.0]))
    assert far > 2 * near
