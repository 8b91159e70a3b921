"""Known truth: the 10-90% ranges (``low`` / ``high``) of forecast curves, on generated history.

The law is that of test_known_truth_law.py (per-network elasticity, the same yearly season
and trend, Poisson results) over 14 lines of two sizes:

- **large**: hundreds of results a week (reference spend in the thousands);
- **small**: 2-15 results a week (reference spend 25-100; 3-12 results at it), below
  ``ranges.SMALL_PER_WEEK``;
- two large meta lines like ``meta/big-a`` but with less spend variation: ``calm`` (log spend
  sd 0.15) and ``flat`` (0.02, below ``ranges.FLAT_SPEND_SD``: its slope is not identified).

Two years of weekly history; curves for the next 13 weeks (2027-W01..W13).

1. **Coverage.** At each future week, at the line's typical spend and at 0.6x and 1.4x of it,
   results are drawn from Poisson(true mean) (``DRAWS`` draws) and scored with
   ``ranges.coverage_share`` against the curve's low/high read at that spend. Pooled over
   seeds 0-2, each class (by the true mean, ``ranges.small``) must be covered 75-85%. The
   flat line is left out of the classes (it is checked in 3.): at 0.6x/1.4x of a spend it
   never left, its range is its prior's, on purpose. Run for ``model="auto"`` (the default:
   dispersion recalibrated per size class on the backtest) and ``model="glm"`` (the fit's own
   dispersion).
2. **Wider away from the history.** The band's variance beyond count noise, relative to the
   mean, ``X = (Var - mu - 1/12) / mu²`` (``Var`` read back from the band's 10-90% width as
   a normal's: these lines have hundreds of results), must be larger at the cap (the last
   point) than at the curve point nearest the typical spend, for every large line whose
   spend varied. ``X = (1 + phi)·e^v - 1`` (see ``forecasting.ranges``) grows only with the
   forecast's own log-scale error ``v``. The plain relative width ``(high - low) / mid`` is
   printed too: under Poisson counts it falls from the typical spend to the cap for lines
   whose spend varied (the count noise, ``1/sqrt(mu)``, shrinks faster than a well-measured
   slope's error grows), so it cannot be the criterion.
3. **Elasticity, its standard error, the flat flag.** Every line reports a finite elasticity
   and ``elasticity_se > 0``; exactly the flat line has the flag ``flat_spend`` (on its
   summary and on each of its curve lines) and the largest ``elasticity_se``; the lines
   whose spend varied are within 3 standard errors of their network's true ``1 - e_n``.
4. **Wider with the slope's uncertainty.** ``calm`` (less spend variation than ``big-a``,
   same network, spend and cost) has the wider relative band at its cap, and at a spend
   inside both curves (so at the same mean: the difference is the slope's error); ``flat``
   likewise against ``big-a``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from forecasting.curves import forecast_curves
from forecasting.ranges import INTERVAL, coverage_share, small

from . import test_known_truth_law as law
from .known_truth_tools import band_at, week_start

#: (network, segment, reference spend per week, sd of log spend week to week)
LINES = (
    ("meta", "big-a", 4000.0, 0.45),
    ("tiktok", "big-a", 3000.0, 0.45),
    ("google", "big-a", 6000.0, 0.45),
    ("meta", "big-b", 2500.0, 0.45),
    ("tiktok", "big-b", 5000.0, 0.45),
    ("google", "big-b", 3000.0, 0.45),
    ("meta", "calm", 4000.0, 0.15),
    ("meta", "flat", 4000.0, 0.02),
    ("meta", "small-a", 50.0, 0.45),
    ("tiktok", "small-a", 40.0, 0.45),
    ("google", "small-a", 100.0, 0.45),
    ("meta", "small-b", 100.0, 0.45),
    ("tiktok", "small-b", 25.0, 0.45),
    ("google", "small-b", 50.0, 0.45),
)
REF = {(n, g): ref for n, g, ref, _ in LINES}
VARIED = {(n, g) for n, g, _, sd in LINES if sd >= 0.1}
FLAT = ("meta", "flat")
SEEDS = (0, 1, 2)
MODELS = ("auto", "glm")
LEVELS = (0.6, 1.0, 1.4)
DRAWS = 40
COVERAGE = (0.75, 0.85)
X_MARGIN = 2e-5
WEEKS = 104


def true_mean(network: str, segment: str, week_start_day, spend) -> np.ndarray:
    """Return the law's expected results (that of test_known_truth_law, cost level c_n)."""
    c, e = law.NETWORKS[network]
    s = np.asarray(spend, float)
    d = pd.Timestamp(week_start_day)
    doy = (d + pd.Timedelta(days=3.5)).day_of_year / 365.25
    t = (d - law.START).days / 365.25
    season = math.exp(law.SEASON_AMPLITUDE * math.sin(2 * math.pi * doy))
    trend = math.exp(law.TREND_PER_YEAR * t)
    ratio = np.maximum(s, 1e-300) / REF[(network, segment)]
    return np.where(s > 0, s / (c * ratio**e * season * trend), 0.0)


def history(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(WEEKS):
        d = law.START + pd.Timedelta(weeks=w)
        for n, g, ref, sd in LINES:
            s = round(ref * math.exp(rng.normal(0, sd)), 2)
            mu = float(true_mean(n, g, d, s))
            rows.append((d, n, g, "purchases", s, float(rng.poisson(mu)), "EUR"))
    return pd.DataFrame(
        rows, columns=["date", "network", "segment", "result_type", "spend", "results", "currency"]
    )


def test_the_law_has_small_and_large_lines():
    weeks = [pd.Timestamp("2027-01-04") + pd.Timedelta(weeks=w) for w in range(13)]
    for n, g, ref, _ in LINES:
        mu = np.array([true_mean(n, g, d, ref * np.array(LEVELS)) for d in weeks])
        if g.startswith("small"):
            assert np.all((mu >= 1.5) & (mu < 16)) and np.all(small(mu, 7.0)), (n, g, mu.min())
        else:
            assert np.all(mu >= 100), (n, g, mu.min())
    # the law of test_known_truth_law at its own reference spend: the same numbers
    d, s = weeks[3], 1234.0
    for n in law.NETWORKS:
        REF[(n, "check")] = law.ref_spend(n, "f-25-34")
        try:
            ours = float(true_mean(n, "check", d, s))
        finally:
            del REF[(n, "check")]
        assert ours == pytest.approx(float(law.expected_results(n, "f-25-34", d, s)), rel=1e-12)


@functools.cache
def _forecast(seed: int, model: str):
    r = forecast_curves(history(seed), "2027-01-04", "2027-04-04", period="week", model=model)
    assert len(r.curves.periods) == 13 and r.curves.periods[0] == "2027-W01"
    assert {(ln.network, ln.segment) for ln in r.lines} == set(REF)
    return r


def _summaries(r) -> dict:
    return {(s.network, s.segment): s for s in r.lines}


def _coverage(seed: int, model: str) -> dict[str, list[float]]:
    """Return the coverage share of each held-out draw, per class ("small", "large", "flat")."""
    r = _forecast(seed, model)
    typical = _summaries(r)
    rng = np.random.default_rng(1000 + seed)
    out: dict[str, list[float]] = {"small": [], "large": [], "flat": []}
    for ln in r.curves.lines:
        key = (ln.network, ln.segment)
        spend = typical[key].typical_spend * np.array(LEVELS)
        assert np.all(spend < ln.max_spend)
        mu = true_mean(ln.network, ln.segment, week_start(ln.period), spend)
        lo, hi = band_at(ln.low, spend), band_at(ln.high, spend)
        y = rng.poisson(np.broadcast_to(mu, (DRAWS, len(mu))))
        share = coverage_share(y, lo, hi)
        if key == FLAT:
            out["flat"].extend(share.ravel())
            continue
        for j, is_small in enumerate(small(mu, 7.0)):
            out["small" if is_small else "large"].extend(share[:, j])
    return out


@pytest.mark.parametrize("model", MODELS)
def test_80pct_ranges_cover_75_to_85pct_for_small_and_large_lines(model):
    pooled: dict[str, list[float]] = {"small": [], "large": [], "flat": []}
    lines = []
    for seed in SEEDS:
        cov = _coverage(seed, model)
        for k, v in cov.items():
            pooled[k].extend(v)
        lines.append(
            f"seed={seed} model={model}: "
            + " ".join(f"{k}={np.mean(v):.3f} (n={len(v)})" for k, v in cov.items())
        )
    got = {k: float(np.mean(v)) for k, v in pooled.items()}
    lines.append(f"pooled model={model}: " + " ".join(f"{k}={v:.3f}" for k, v in got.items()))
    figures = "\n".join(lines)
    print(figures)
    # the design: both classes are there, small lines 3-15 results a week, large ones 100s
    assert len(pooled["small"]) > 1000 and len(pooled["large"]) > 1000
    for cls in ("small", "large"):
        assert COVERAGE[0] <= got[cls] <= COVERAGE[1], f"{cls}: {got[cls]:.3f}\n{figures}"


def _excess(mu: float, lo: float, hi: float) -> float:
    """Return ``(Var - mu - 1/12) / mu²``, ``Var`` read from the 10-90% width of the band.

    Read as a normal's (``width = 2·z90·sd``): for a large line (hundreds of results) the
    skew of the counts moves the two quantiles alike, so the width, and ``Var``, are read to
    about 1e-4 of their size whatever the band's exact shape.
    """
    sd = (hi - lo) / (special.ndtri(INTERVAL[1]) - special.ndtri(INTERVAL[0]))
    return (sd * sd - mu - 1.0 / 12.0) / (mu * mu)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("seed", (0, 1))
def test_ranges_widen_beyond_count_noise_away_from_the_history(seed, model):
    r = _forecast(seed, model)
    typical = _summaries(r)
    rows = []
    for ln in r.curves.lines:
        key = (ln.network, ln.segment)
        if key not in VARIED or small(ln.results_at(typical[key].typical_spend), 7.0):
            continue
        spends = np.array([p[0] for p in ln.points])
        i = int(np.argmin(np.abs(np.log(spends[1:] / typical[key].typical_spend)))) + 1
        j = len(spends) - 1
        assert i < j
        x = [_excess(ln.points[k][1], ln.low[k][1], ln.high[k][1]) for k in (i, j)]
        rel = [(ln.high[k][1] - ln.low[k][1]) / ln.points[k][1] for k in (i, j)]
        rows.append((ln.label, spends[i], spends[j], *x, *rel))
    assert len(rows) == 7 * 13  # the 7 large lines whose spend varied, 13 weeks
    for label, s_typ, s_cap, x_typ, x_cap, rel_typ, rel_cap in rows:
        if label.endswith("W01"):
            print(
                f"seed={seed} model={model} {label}: X at {s_typ:,.0f} (near typical) "
                f"{x_typ:.2e}, at the cap {s_cap:,.0f} {x_cap:.2e}; (high-low)/mid "
                f"{rel_typ:.4f} -> {rel_cap:.4f}"
            )
    # reading X as a normal's errs by < 1e-5 at these sizes (phi <= 0.01); the slope's error
    # adds 1e-4 to 6e-4 at the cap (measured)
    narrower = [r for r in rows if not r[4] > r[3] + X_MARGIN]
    assert not narrower, narrower[:5]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("seed", SEEDS)
def test_each_line_reports_elasticity_se_and_flat_spend(seed, model):
    r = _forecast(seed, model)
    lines = _summaries(r)
    for key, s in lines.items():
        true_b = 1.0 - law.NETWORKS[key[0]][1]
        z = (s.elasticity - true_b) / s.elasticity_se
        print(
            f"seed={seed} model={model} {key[0]}/{key[1]}: elasticity {s.elasticity:.3f} "
            f"(true {true_b:.2f}) se {s.elasticity_se:.4f} z={z:+.2f} flags={list(s.flags[1:])}"
        )
        assert math.isfinite(s.elasticity) and math.isfinite(s.elasticity_se)
        assert s.elasticity_se > 0
        assert ("flat_spend" in s.flags) == (key == FLAT), key
        if key in VARIED:
            assert abs(z) <= 3.0, (key, s.elasticity, true_b, s.elasticity_se)
    for ln in r.curves.lines:
        assert ("flat_spend" in ln.flags) == ((ln.network, ln.segment) == FLAT), ln.label
    others = [s.elasticity_se for key, s in lines.items() if key != FLAT]
    assert lines[FLAT].elasticity_se > max(others)
    assert lines[FLAT].elasticity_se > 3 * lines[("meta", "big-a")].elasticity_se


def _rel_width(ln, spend: float) -> float:
    mid = ln.results_at(spend)
    return float((band_at(ln.high, spend) - band_at(ln.low, spend)) / mid)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("seed", SEEDS)
def test_ranges_widen_with_the_slopes_uncertainty(seed, model):
    r = _forecast(seed, model)
    lines = _summaries(r)
    curve = {ln.key: ln for ln in r.curves.lines}
    assert lines[("meta", "calm")].elasticity_se > lines[("meta", "big-a")].elasticity_se
    ref = REF[("meta", "big-a")]
    for period in r.curves.periods:
        varied = curve[("meta", "big-a", period)]
        for seg, common in (("calm", 1.8 * ref), ("flat", 1.4 * ref)):
            less = curve[("meta", seg, period)]
            assert common < min(less.max_spend, varied.max_spend)
            at_cap = (_rel_width(less, less.max_spend), _rel_width(varied, varied.max_spend))
            same = (_rel_width(less, common), _rel_width(varied, common))
            if period == "2027-W01":
                print(
                    f"seed={seed} model={model} {period} meta/{seg} vs meta/big-a: (high-low)/mid "
                    f"at the caps {at_cap[0]:.4f} vs {at_cap[1]:.4f}, at {common:,.0f} "
                    f"{same[0]:.4f} vs {same[1]:.4f}"
                )
            assert at_cap[0] > at_cap[1], (seg, period, at_cap)
            assert same[0] > same[1], (seg, period, same)
