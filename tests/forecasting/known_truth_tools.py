"""Helpers of the known-truth tests: read a curve's bands, solve a true optimum by hand.

Nothing here uses the optimizer or the forecasting code under test (only their data
classes), so the known-truth tests check them against independent arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def week_start(label: str) -> pd.Timestamp:
    """Return the Monday of ISO week ``label`` (``2027-W03``)."""
    return pd.Timestamp.fromisocalendar(int(label[:4]), int(label[6:]), 1)


def band_at(points, spend) -> np.ndarray:
    """Return a point list's value at each spend (linear between points, flat past the last).

    The same reading as ``CurveLine.results_at``, for the ``low`` / ``high`` point lists.
    """
    x = np.array([p[0] for p in points], float)
    y = np.array([p[1] for p in points], float)
    return np.interp(np.asarray(spend, float), x, y)


def water_fill(k, b, caps, budget: float) -> np.ndarray:
    """Return the spend per line maximising ``sum k·s^b`` with ``sum s <= budget``, ``s <= caps``.

    Every ``0 < b < 1`` (strictly concave power laws): at the optimum each line not at its cap
    has the same marginal results ``k·b·s^(b-1) = lam``, i.e. ``s = (k·b/lam)^(1/(1-b))``;
    ``lam`` is found by bisection on its logarithm so that the spend adds up to the budget.
    """
    k, b, caps = (np.asarray(a, float) for a in (k, b, caps))
    assert np.all((b > 0) & (b < 1)) and np.all(k > 0) and np.all(caps > 0)
    if budget >= caps.sum():
        return caps.copy()

    def spend_at(log_lam: float) -> np.ndarray:
        return np.minimum(caps, np.exp((np.log(k * b) - log_lam) / (1.0 - b)))

    lo, hi = -80.0, 80.0  # spend_at(lo) is every cap, spend_at(hi) about 0
    for _ in range(300):
        mid = 0.5 * (lo + hi)
        if spend_at(mid).sum() > budget:
            lo = mid
        else:
            hi = mid
    s = spend_at(hi)
    assert math.isclose(s.sum(), budget, rel_tol=1e-9), (s.sum(), budget)
    return s
