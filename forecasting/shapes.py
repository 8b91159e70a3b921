"""Saturating response shapes: the Hill curve, its fit, and the concave envelope of a curve.

Besides the power law ``results = A·s^b``, a network may respond as a **Hill** curve

    results = A · (s/K)^κ / (1 + (s/K)^κ)          (κ > 0, K > 0)

which rises like ``s^κ`` at low spend and flattens to the ceiling ``A`` past the
half-saturation spend ``K``. ``κ > 1`` is S-shaped (convex at first). ``K`` is a multiple
``c`` of each line's usual spend (its geometric mean spend in the history), so the lines of
a network share ``(κ, c)`` and differ in ``A``.

In the models the Hill curve is an offset of the GLM (:func:`hill_offset`, on the log
scale) in place of the power law's log spend and elasticities; ``(κ, c)`` per network is
chosen on a grid (:data:`KAPPAS` × :data:`HALF_SATURATION`) by the Poisson deviance of a
power-law fit's other effects held fixed (:func:`fit_hill`): one extra fit, not one per
grid point. The backtest decides, per network, whether the Hill curve or the power law
forecasts better (``forecasting.choice``).

The optimizer needs concave curves: :func:`concave_envelope` gives the least concave
majorant of a sampled curve and the spend below which it had to lift the curve (the
S-shape's convex start is replaced by a straight line from 0: spending there in part is
read as spending on the line in some periods and not others).
"""

from __future__ import annotations

import numpy as np

#: Hill slopes tried (κ): 1 is the Michaelis-Menten curve, above 1 S-shaped
KAPPAS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
#: half-saturation spends tried, as multiples of a line's usual spend (0.25 to 4, x1.19)
HALF_SATURATION = tuple(float(c) for c in np.geomspace(0.25, 4.0, 17))
#: a Hill curve is kept only when it lowers the network's deviance by this share of it ...
MIN_GAIN = 0.02
#: ... and by at least this much (two more parameters than the power law)
MIN_DROP = 10.0


def hill_offset(log_spend: np.ndarray, log_k: np.ndarray, kappa) -> np.ndarray:
    """Return ``log K + log((s/K)^κ / (1 + (s/K)^κ))`` (log results of a unit ceiling per K)."""
    x = np.asarray(kappa) * (np.asarray(log_spend) - np.asarray(log_k))
    return np.asarray(log_k) + x - np.logaddexp(0.0, x)


def _deviance(y: np.ndarray, eta: np.ndarray, line: np.ndarray, n_lines: int) -> float:
    """Return the Poisson deviance with each line's level profiled out (closed form)."""
    mu0 = np.exp(np.clip(eta, -100, 100))
    ys = np.bincount(line, weights=y, minlength=n_lines)
    ms = np.bincount(line, weights=mu0, minlength=n_lines)
    scale = np.divide(ys, ms, out=np.ones_like(ys), where=ms > 0)
    mu = mu0 * scale[line]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2.0 * np.sum(term - (y - mu)))


def fit_hill(
    y: np.ndarray,
    other: np.ndarray,
    power: np.ndarray,
    log_spend: np.ndarray,
    log_centre: np.ndarray,
    network: np.ndarray,
    line: np.ndarray,
) -> dict:
    """Return ``{network: (κ, c)}`` for the networks whose history a Hill curve fits better.

    Per row: ``y`` results, ``other`` the log effects besides spend (season, trend, levels)
    of a power-law fit, ``power`` that fit's log spend response, ``log_spend`` and the
    line's ``log_centre`` (its usual spend), ``network`` and ``line`` codes. For each
    network and each (κ, c) of the grid the deviance is computed with every line's level
    profiled out; a Hill curve is kept when it lowers the power law's deviance by
    :data:`MIN_GAIN` of it and at least :data:`MIN_DROP`.
    """
    out: dict = {}
    for net in np.unique(network):
        m = network == net
        codes, ln = np.unique(line[m], return_inverse=True)
        L = len(codes)
        yy, oo = y[m], other[m]
        base = _deviance(yy, oo + power[m], ln, L)
        best = None
        for kappa in KAPPAS:
            for c in HALF_SATURATION:
                h = hill_offset(log_spend[m], log_centre[m] + np.log(c), kappa)
                d = _deviance(yy, oo + h, ln, L)
                if best is None or d < best[0]:
                    best = (d, kappa, c)
        if best is not None and base - best[0] > max(MIN_DROP, MIN_GAIN * base):
            out[str(net)] = (best[1], best[2])
    return out


def concave_envelope(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the least concave majorant of points ``(x, y)`` (x rising, from (0, 0)) at ``x``.

    And the largest ``x`` where it lies above the curve (0 when the curve was concave):
    below it the envelope replaced the curve.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    hull = [0]
    for i in range(1, len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b when it lies on or below the chord from a to i
            if (y[b] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[b] - x[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    env = np.interp(x, x[hull], y[hull])
    lifted = env > y + 1e-9 * np.maximum(1.0, np.abs(y))
    below = float(x[np.flatnonzero(lifted)].max()) if lifted.any() else 0.0
    return env, below
