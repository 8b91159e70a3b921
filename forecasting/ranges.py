"""How far to trust a forecast: the predictive spread of results, and the 10-90% ranges.

Results of a line in a period at spend ``s`` are forecast as ``mu(s)``. Around it:

- **noise**: results are counts with negative-binomial variance ``mu + phi·mu²``;
- **the forecast's own error** on the log scale, ``v(s) = v0 + (log s - m)²·se²``: ``v0`` is
  the uncertainty of the line's level, ``se`` that of its elasticity (the slope of log
  results on log spend) and ``m`` the centre of its log spend in the history. So the range
  widens as spend moves away from the history, and with the slope's uncertainty.

Together (a log-normal error on the mean, mixed with the noise):
``Var = mu + phi·mu²·e^v + mu²·(e^v - 1) + 1/12`` (the last term: a count ``y`` stands for
the unit ``[y - 1/2, y + 1/2]``). A gamma with that mean and variance gives continuous
10th/90th percentiles; :func:`coverage_share` scores them with the same continuity
correction, so that small lines (a few results a period) are covered 80% too, not 90% or 60%
as whole-count bounds give.

The line's information comes from its own history (Fisher information of a Poisson
log-linear fit of results on log spend, with negative-binomial weights
``mu / (1 + phi·mu)``): ``v0 = 1 / sum W``, ``se² = 1 / (sum W·(x - m)² + 1/TAU²)``; ``TAU``
is the spread of a line's elasticity around its network's that pooling allows. A line whose
log spend barely moved (standard deviation < ``FLAT_SPEND_SD``) cannot identify its
elasticity (and its standard error stays above ``FLAT_SE``): it is flagged ``flat_spend``.

``phi`` is measured once, on the fit's own residuals; where a backtest ran, it is
**recalibrated** per size class (:func:`calibrate`) on predictions the model made for
periods it had not seen (the backtest's folds), so that small lines (< ``SMALL_PER_WEEK``
results a week) and large ones are each covered about 80%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from optimizer.curves import MAX_LOG_VAR

from .features import per_line

#: quantiles of the low and high curves
INTERVAL = (0.1, 0.9)
#: a line's log spend with a smaller standard deviation than this cannot identify its slope
FLAT_SPEND_SD = 0.1
#: ... and when that leaves its elasticity's standard error above this
FLAT_SE = 0.1
#: prior spread of a line's elasticity around the pooled one
TAU = 0.25
#: a line is small below this many results a week (scaled to the period's length)
SMALL_PER_WEEK = 20.0
#: log-scale variance of a line the fit knows nothing of (pooled, no results)
POOLED_V0 = 0.25
#: calibration reads at most this many predictions (a fixed random sample of them)
CALIBRATION_ROWS = 4000
#: ... and the whole log-scale error of such a line, at any spend (level and slope unknown)
POOLED_V = POOLED_V0 + TAU**2
#: the forecast's log-scale variance is capped (the curves format's cap, read by the plan's ranges)
MAX_V = MAX_LOG_VAR


@dataclass(frozen=True, slots=True)
class LineSpread:
    """One line's log-scale forecast error: ``v(s) = v0 + (log s - centre)²·se²``."""

    v0: float
    centre: float
    se: float
    log_spend_sd: float

    @property
    def flat(self) -> bool:
        """Whether the line's spend history is too flat to identify its elasticity.

        Its log spend barely moved (sd < FLAT_SPEND_SD) and, for the results it has, that
        leaves the elasticity uncertain by more than FLAT_SE: a big line whose spend moved
        8% a week still measures its slope to +-0.03.
        """
        return self.log_spend_sd < FLAT_SPEND_SD and self.se > FLAT_SE

    def variance(self, spend) -> np.ndarray:
        """Return ``v`` at each spend (> 0)."""
        x = np.log(np.maximum(np.asarray(spend, float), 1e-12))
        return self.v0 + (x - self.centre) ** 2 * self.se**2


POOLED = LineSpread(v0=POOLED_V0, centre=0.0, se=TAU, log_spend_sd=0.0)


def line_spreads(rows: pd.DataFrame, mu: np.ndarray, phi: float) -> dict:
    """Return each line's :class:`LineSpread` from its training ``rows`` and fitted ``mu``."""
    x = np.log(rows["spend"].to_numpy(float))
    mu = np.maximum(np.asarray(mu, float), 1e-12)
    w = mu / (1.0 + phi * mu)
    t = pd.DataFrame(
        {
            "network": rows["network"].to_numpy(),
            "segment": rows["segment"].to_numpy(),
            "w": w,
            "wx": w * x,
            "wxx": w * x * x,
            "x": x,
            "xx": x * x,
            "n": 1.0,
        }
    )
    g = t.groupby(["network", "segment"], sort=False, observed=True).sum()
    sw = np.maximum(g["w"].to_numpy(), 1e-12)
    centre = g["wx"].to_numpy() / sw
    info = np.maximum(g["wxx"].to_numpy() - sw * centre**2, 0.0)
    n = g["n"].to_numpy()
    var_x = np.maximum(g["xx"].to_numpy() / n - (g["x"].to_numpy() / n) ** 2, 0.0)
    se = 1.0 / np.sqrt(info + 1.0 / TAU**2)
    return {
        key: LineSpread(float(1.0 / s), float(c), float(e), float(np.sqrt(vx)))
        for key, s, c, e, vx in zip(g.index, sw, centre, se, var_x, strict=True)
    }


def estimate_dispersion(y, mu) -> float:
    """Estimate ``phi`` in ``Var = mu + phi·mu²`` by moments (>= 0)."""
    y, mu = np.asarray(y, float), np.asarray(mu, float)
    den = float(np.sum(mu * mu))
    if den <= 0:
        return 0.0
    return max(0.0, float(np.sum((y - mu) ** 2 - mu)) / den)


def fit_spread(rows: pd.DataFrame, mu, n_params: int = 1) -> tuple[float, dict]:
    """Return the fit's dispersion (its residuals, corrected for ``n_params``) and spreads."""
    y = rows["results"].to_numpy(float)
    n = len(y)
    phi = estimate_dispersion(y, mu) * n / max(n - n_params, 1)
    return phi, line_spreads(rows, mu, phi)


def row_variance(panel: pd.DataFrame, spreads: dict, pooled=None) -> np.ndarray:
    """Return ``v`` for each row of ``panel`` at its spend (pooled rows: :data:`POOLED`)."""
    n = len(panel)
    pm = np.zeros(n, bool) if pooled is None else np.asarray(pooled, bool)
    v0 = per_line(panel, {k: s.v0 for k, s in spreads.items()}, np.nan)
    c = per_line(panel, {k: s.centre for k, s in spreads.items()}, 0.0)
    se = per_line(panel, {k: s.se for k, s in spreads.items()}, 0.0)
    x = np.log(np.maximum(panel["spend"].to_numpy(float), 1e-12))
    out = np.minimum(v0 + (x - c) ** 2 * se**2, MAX_V)
    return np.where(pm | np.isnan(v0), POOLED_V, out)


def effective_phi(phi, v) -> np.ndarray:
    """Return the negative-binomial dispersion of noise and forecast error together.

    ``Var = mu + phi·mu²·e^v + mu²·(e^v - 1) = mu + ((1 + phi)·e^v - 1)·mu²``.
    """
    ev = np.exp(np.minimum(np.asarray(v, float), MAX_V))
    return (1.0 + np.asarray(phi, float)) * ev - 1.0


def count_cdf(k, mu, phi_eff) -> np.ndarray:
    """Return P(results <= k) under the negative binomial (Poisson where ``phi_eff`` ~ 0)."""
    k = np.asarray(k, float)
    mu = np.maximum(np.asarray(mu, float), 1e-12)
    phi_eff = np.asarray(phi_eff, float)
    pois = phi_eff < 1e-8
    n = 1.0 / np.where(pois, 1.0, phi_eff)
    kk = np.maximum(k, 0.0) + 1.0
    f = np.where(pois, special.gammaincc(kk, mu), special.betainc(n, kk, n / (n + mu)))
    return np.where(k < 0, 0.0, f)


def _quantile(q: float, mu: np.ndarray, phi_eff: np.ndarray) -> np.ndarray:
    """Return the ``q`` quantile of results with each count spread over its unit.

    A count ``y`` stands for ``[y - 1/2, y + 1/2]`` (results + a uniform jitter), whose
    distribution function is linear between whole counts: exact, and continuous.
    """
    var = mu + phi_eff * mu * mu + 1.0 / 12.0
    m = mu + 0.5
    y = np.maximum(np.floor(special.gammaincinv(m * m / var, q) * var / m), 0.0)
    # the gamma's guess is within a few counts: step to the exact one (only rows still moving)
    rows = np.arange(len(y))
    for _ in range(100):
        rows = rows[count_cdf(y[rows], mu[rows], phi_eff[rows]) < q]
        if not len(rows):
            break
        y[rows] += 1
    rows = np.flatnonzero(y > 0)
    for _ in range(100):
        rows = rows[(y[rows] > 0) & (count_cdf(y[rows] - 1, mu[rows], phi_eff[rows]) >= q)]
        if not len(rows):
            break
        y[rows] -= 1
    f0, f1 = count_cdf(y - 1, mu, phi_eff), count_cdf(y, mu, phi_eff)
    return y + (q - f0) / np.maximum(f1 - f0, 1e-300) - 0.5


def bounds(mu, phi, v=0.0, quantiles=INTERVAL) -> tuple[np.ndarray, np.ndarray]:
    """Return the low/high quantiles of results around ``mu`` (noise and forecast error)."""
    mu = np.maximum(np.asarray(mu, dtype=float), 1e-12)
    phi_eff = np.broadcast_to(effective_phi(phi, v), mu.shape)
    return _quantile(quantiles[0], mu, phi_eff), _quantile(quantiles[1], mu, phi_eff)


def coverage_share(y, lo, hi) -> np.ndarray:
    """Return the share of each count's unit ``[y - 1/2, y + 1/2]`` inside ``[lo, hi]``."""
    y = np.asarray(y, float)
    inside = np.minimum(y + 0.5, np.asarray(hi, float)) - np.maximum(y - 0.5, np.asarray(lo, float))
    return np.clip(inside, 0.0, 1.0)


def pit_share(y, mu, phi, v, quantiles=INTERVAL) -> np.ndarray:
    """Return :func:`coverage_share` of the exact bounds, from the distribution function alone.

    The unit of ``y`` spans probabilities ``[F(y - 1), F(y)]``; the share of it between the
    two quantiles is the share of the unit inside the bounds (the distribution is linear
    inside a unit), without solving for the bounds.
    """
    y = np.asarray(y, float)
    phi_eff = effective_phi(phi, v)
    a, b = count_cdf(y - 1, mu, phi_eff), count_cdf(y, mu, phi_eff)
    inside = np.clip(np.minimum(b, quantiles[1]) - np.maximum(a, quantiles[0]), 0.0, None)
    width = b - a
    point = (a >= quantiles[0]) & (b <= quantiles[1])
    return np.where(width > 1e-300, inside / np.maximum(width, 1e-300), point.astype(float))


def small(mu, period_days: float) -> np.ndarray:
    """Return whether each forecast is a small line's (< SMALL_PER_WEEK results a week)."""
    return np.asarray(mu, float) < SMALL_PER_WEEK * period_days / 7.0


def calibrate_phi(y, mu, v, target: float = INTERVAL[1] - INTERVAL[0]) -> float | None:
    """Return the ``phi`` whose ranges cover ``target`` of ``y`` best (None without data).

    The smallest ``phi`` reaching the target; 0 when even that covers more.
    """
    y, mu, v = (np.asarray(a, float) for a in (y, mu, v))
    keep = mu > 0
    if keep.sum() < 10:
        return None
    y, mu, v = y[keep], mu[keep], v[keep]
    if len(y) > CALIBRATION_ROWS:  # a fixed sample: the share is known to about +-0.01
        pick = np.random.default_rng(0).choice(len(y), CALIBRATION_ROWS, replace=False)
        y, mu, v = y[pick], mu[pick], v[pick]

    def covers(phi: float) -> bool:
        return float(pit_share(y, mu, phi, v).mean()) >= target

    if covers(0.0):
        return 0.0
    # log10 phi: coverage rises with phi up to about 10 (beyond, most of the mass sits at 0
    # and the bounds fall below typical counts)
    lo, hi = -4.0, 1.0
    if not covers(10**hi):
        return float(10**hi)
    for _ in range(10):  # to within a factor of 10**(5/1024): about 1%
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if covers(10**mid) else (mid, hi)
    return float(10**hi)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Dispersion per size class, measured on periods the model had not seen."""

    small: float | None
    large: float | None
    period_days: float

    def phi(self, mu, default: float) -> np.ndarray:
        """Return the ``phi`` of each forecast: its class's, else ``default`` (the fit's)."""
        is_small = small(mu, self.period_days)
        s = default if self.small is None else self.small
        big = default if self.large is None else self.large
        return np.where(is_small, s, big)

    def to_dict(self) -> dict:
        """Return the dispersions as JSON-ready values."""
        return {
            "phi_small": None if self.small is None else round(self.small, 6),
            "phi_large": None if self.large is None else round(self.large, 6),
        }


def calibrate(y, mu, v, period_days: float) -> Calibration:
    """Return the :class:`Calibration` of out-of-sample predictions, per size class."""
    mu = np.asarray(mu, float)
    is_small = small(mu, period_days)
    y, v = np.asarray(y, float), np.asarray(v, float)
    return Calibration(
        small=calibrate_phi(y[is_small], mu[is_small], v[is_small]),
        large=calibrate_phi(y[~is_small], mu[~is_small], v[~is_small]),
        period_days=period_days,
    )


def concave_band(spend: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Return ``values`` over ``spend`` (from 0) lifted to their least concave majorant.

    The optimizer takes only concave, non-decreasing curves; a quantile band is nearly so
    (its start can be convex where a small mean's low quantile stays near 0).
    """
    y = np.maximum.accumulate(np.maximum(np.asarray(values, float), 0.0))
    x = np.asarray(spend, float)
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b when it lies on or below the chord from a to i
            if (y[b] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[b] - x[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    return np.interp(x, x[hull], y[hull])
