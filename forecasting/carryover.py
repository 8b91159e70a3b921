"""Carry-over: a period's spend keeps bringing results in the periods after it.

The law (geometric adstock on the response, Meridian's "Hill before adstock"): the spend
``s_τ`` of period ``τ`` brings ``L_τ = r_τ(s_τ)`` results over its lifetime, a share
``(1 - λ)·λ^k`` of them ``k`` periods later. The results seen in period ``t`` are

    μ_t = Σ_{k ≥ 0} (1 - λ)·λ^k · L_{t-k}

so a curve point (spend → lifetime results) stays separable and concave, and the plan stays
a linear program. ``λ`` (the decay) is per network; 0 is no carry-over.

Fitting ``L`` is the EM algorithm of a sum of Poisson counts (:func:`lifetime_targets`): the
results of each period are shared among the spends that brought them in proportion to their
expected contributions; each spend's share, summed over the periods it reaches inside the
history, is a Poisson count of mean ``L_τ·(1 - λ^{T-τ})`` (the part of its lifetime the
history has seen), which the usual GLM fits with that exposure as a weight. Results before
the history's first period are taken to come from spend like its first period's.

A line in the plan's period ``j`` of ``P`` sees ``1 - λ^{P-j}`` of its lifetime results
inside the plan (:func:`inside_shares`); the rest land after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

#: EM rounds: the first from a flat cost per result, each a fit of the model
EM_ROUNDS = 8
#: each EM round's step on the log scale of the lifetime results (1: plain EM)
EM_STEP = 1.5


@dataclass(frozen=True, slots=True)
class Grid:
    """A panel laid out as lines × consecutive periods (missing periods hold no spend)."""

    lines: list  # (network, segment) of each row of the grid
    starts: pd.DatetimeIndex
    line_of: np.ndarray  # per panel row: its line
    period_of: np.ndarray  # per panel row: its period
    decay: np.ndarray  # per line

    @property
    def shape(self) -> tuple[int, int]:
        """Return (lines, periods)."""
        return len(self.lines), len(self.starts)

    def put(self, values: np.ndarray) -> np.ndarray:
        """Return an (lines × periods) array holding ``values`` of the panel rows, 0 elsewhere."""
        out = np.zeros(self.shape)
        np.add.at(out, (self.line_of, self.period_of), np.asarray(values, float))
        return out

    def take(self, grid: np.ndarray) -> np.ndarray:
        """Return the panel rows' values of an (lines × periods) array."""
        return grid[self.line_of, self.period_of]


def consecutive_starts(starts, period: str) -> pd.DatetimeIndex:
    """Return every period start from the first to the last of ``starts`` (none skipped)."""
    s = pd.DatetimeIndex(starts)
    freq = {"day": "D", "week": "W-MON", "month": "MS"}[period]
    return pd.date_range(s.min(), s.max(), freq=freq)


def grid_of(panel: pd.DataFrame, period: str, decays: dict, starts=None) -> Grid:
    """Return the grid of ``panel``'s rows; ``decays`` maps a network to its λ (absent: 0)."""
    starts = consecutive_starts(panel["start"] if starts is None else starts, period)
    keys = pd.MultiIndex.from_arrays(
        [panel["network"].astype(str).to_numpy(), panel["segment"].astype(str).to_numpy()]
    )
    uniq = keys.unique()
    lines = list(uniq)
    line_of = uniq.get_indexer(keys)
    period_of = starts.get_indexer(pd.DatetimeIndex(panel["start"]))
    if np.any(period_of < 0):
        raise ValueError("a panel row's period is not on the grid")
    decay = np.array([float(decays.get(n, 0.0)) for n, _ in lines])
    return Grid(lines, starts, line_of, period_of, decay)


def _by_decay(grid: Grid, fn, arr: np.ndarray) -> np.ndarray:
    """Apply ``fn(rows, λ)`` to the rows of ``arr`` sharing each distinct decay."""
    out = np.empty_like(arr)
    for lam in np.unique(grid.decay):
        idx = np.flatnonzero(grid.decay == lam)
        out[idx] = fn(arr[idx], float(lam))
    return out


def observed(grid: Grid, lifetime: np.ndarray, carry_in: bool = True) -> np.ndarray:
    """Return the results seen per period, ``μ``, of lifetime results ``L`` (lines × periods).

    ``carry_in``: the first period also sees results of earlier spend like its own.
    """

    def fwd(rows: np.ndarray, lam: float) -> np.ndarray:
        if lam == 0:
            return rows.copy()
        zi = (lam * rows[:, :1]) if carry_in else np.zeros((rows.shape[0], 1))
        y, _ = lfilter([1.0 - lam], [1.0, -lam], rows, axis=1, zi=zi)
        return y

    return _by_decay(grid, fwd, lifetime)


def lifetime_targets(grid: Grid, results: np.ndarray, lifetime: np.ndarray):
    """Return (results attributed to each period's spend, exposure) for the EM's next fit.

    ``results`` and ``lifetime`` are lines × periods arrays (the seen results, the current
    lifetime estimates). The attributed results of period τ are a Poisson count of mean
    ``L_τ·exposure_τ`` with ``exposure_τ = 1 - λ^{T-τ}``.
    """
    mu = observed(grid, lifetime)
    ratio = np.divide(results, mu, out=np.zeros_like(results), where=mu > 1e-300)

    def back(rows: np.ndarray, lam: float) -> np.ndarray:
        if lam == 0:
            return rows.copy()
        y = lfilter([1.0], [1.0, -lam], rows[:, ::-1], axis=1)
        return y[:, ::-1]

    attributed = (1.0 - grid.decay)[:, None] * lifetime * _by_decay(grid, back, ratio)
    T = grid.shape[1]
    left = T - np.arange(T)[None, :]  # periods from τ to the history's end, τ included
    exposure = 1.0 - grid.decay[:, None] ** left
    return attributed, exposure


def inside_shares(decay: float, n_periods: int) -> np.ndarray:
    """Return the share of each plan period's lifetime results that lands inside the plan."""
    j = np.arange(n_periods)
    return 1.0 - float(decay) ** (n_periods - j)


def carried_in(context: pd.DataFrame, decays: dict, period: str, plan_starts) -> dict:
    """Return {network: results} that spend before the plan brings inside the plan's periods.

    ``context``: the history's rows with their lifetime results (``network``, ``start``,
    ``life``); a spend of period τ lands ``(1 - λ)·λ^(t-τ)`` of its lifetime in period t, so
    the plan's periods t0..t1 receive ``λ^(t0-τ) - λ^(t1-τ+1)`` of it. These results come
    whatever the plan spends: they are not in its curves.
    """
    plan = pd.DatetimeIndex(plan_starts)
    starts = consecutive_starts(pd.DatetimeIndex(context["start"]).append(plan), period)
    tau = starts.get_indexer(pd.DatetimeIndex(context["start"]))
    t0, t1 = starts.get_indexer(plan[[0, -1]])
    lam = context["network"].map(lambda n: float(decays.get(n, 0.0))).to_numpy(float)
    share = np.where(lam > 0, lam ** (t0 - tau) - lam ** (t1 - tau + 1), 0.0)
    got = pd.Series(context["life"].to_numpy(float) * share).groupby(context["network"].to_numpy())
    return {str(n): float(v) for n, v in got.sum().items() if decays.get(n, 0.0) > 0}
