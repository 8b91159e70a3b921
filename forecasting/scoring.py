"""Scores of a backtest's predictions, and the honest choice of a model.

The predictions frame holds one row per line × period of every test fold, with ``fold``,
``results``, ``spend``, ``usual`` (the line's median spend in the fold's training periods)
and, per candidate ``m``, ``pred:m`` (expected results at the spend made), ``v:m`` (its
log-scale error, :mod:`forecasting.ranges`) and ``phi:m`` (the dispersion of that fold's fit).

- **WAPE** = Σ|pred − actual| / Σ actual; **bias** = (Σpred − Σactual) / Σactual. Predicting
  no results at all scores a WAPE of exactly 1: a candidate at or above 1 is never chosen.
- **Slope WAPE**: what the optimizer lives on is how results change with spend, not only
  their level. Each line's predictions in a fold are scaled so that they sum to its actual
  results there (its level error removed); the WAPE of those is taken on the periods whose
  spend moved at least ``MOVED`` (25%) from the line's usual level. A flat CPR (a baseline)
  says results follow spend one for one; a model with the right elasticity does better.
- **Choice score** = the mean of WAPE and slope WAPE (WAPE alone where no spend moved).
- **Nested**: the candidate for fold ``k`` is chosen on folds before ``k`` only (the
  "inner" folds, all inside fold ``k``'s training periods), then scored on fold ``k``
  ("outer"). Cross-validation (no time order) chooses for fold ``k`` on the other folds.
  The best model is used only when its inner score beats the best baseline's.
- **Bootstrap**: the interval of (outer WAPE of the choices − outer WAPE of the best
  baseline) resamples whole lines (their errors are correlated over periods).
- **Coverage** of the 10-90% ranges on each outer fold uses the dispersion calibrated on
  the folds before it (:func:`forecasting.ranges.calibrate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ranges import Calibration, calibrate, pit_share, small

#: a period's spend moved when it is this factor above or below the line's usual spend
MOVED = 1.25
#: bootstrap resamples and the interval reported
BOOTSTRAP = 2000
BOOTSTRAP_INTERVAL = (0.05, 0.95)


def wape_bias(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Return WAPE and bias of predictions ``p`` of actuals ``y`` (NaN without results)."""
    tot = float(y.sum())
    if tot <= 0:
        return math.nan, math.nan
    return float(np.abs(p - y).sum() / tot), float((p - y).sum() / tot)


def slope_wape(preds: pd.DataFrame, name: str) -> float:
    """Return the level-free WAPE on periods whose spend moved (NaN if none moved)."""
    y = preds["results"].to_numpy(float)
    p = preds[f"pred:{name}"].to_numpy(float)
    keys = [preds[k].to_numpy() for k in ("fold", "network", "segment")]  # by position
    frame = pd.DataFrame({"y": y, "p": p, "n": 1.0})
    sums = frame.groupby(keys, observed=True, sort=False).transform("sum").to_numpy()
    ok = (sums[:, 1] > 0) & (sums[:, 2] >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = p * sums[:, 0] / sums[:, 1]
        ratio = preds["spend"].to_numpy(float) / preds["usual"].to_numpy(float)
    moved = (
        ok
        & np.isfinite(ratio)
        & (np.abs(np.log(np.where(ratio > 0, ratio, 1.0))) >= math.log(MOVED))
    )
    return wape_bias(y[moved], adj[moved])[0]


def choice_score(wape: float, slope: float) -> float:
    """Return the score a model is chosen on: WAPE and slope WAPE weighed equally."""
    return wape if math.isnan(slope) else 0.5 * (wape + slope)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One candidate's name and kind."""

    name: str
    baseline: bool


def _scores(preds: pd.DataFrame, cands: Sequence[Candidate]) -> dict[str, tuple[float, float]]:
    y = preds["results"].to_numpy(float)
    out = {}
    for c in cands:
        wape = wape_bias(y, preds[f"pred:{c.name}"].to_numpy(float))[0]
        out[c.name] = (wape, choice_score(wape, slope_wape(preds, c.name)))
    return out


def choose(preds: pd.DataFrame, cands: Sequence[Candidate]) -> str | None:
    """Return the candidate to use after these folds: the best model if it beats every baseline.

    Candidates worse than predicting zero (WAPE >= 1) are out; None when all are.
    """
    scores = {n: s for n, (w, s) in _scores(preds, cands).items() if w < 1 and not math.isnan(s)}
    models = [c.name for c in cands if not c.baseline and c.name in scores]
    bases = [c.name for c in cands if c.baseline and c.name in scores]
    best_m = min(models, key=scores.__getitem__) if models else None
    best_b = min(bases, key=scores.__getitem__) if bases else None
    if best_m is None or (best_b is not None and scores[best_b] <= scores[best_m]):
        return best_b
    return best_m


def inner_of(preds: pd.DataFrame, k: int, time_ordered: bool) -> pd.DataFrame:
    """Return the folds a choice for fold ``k`` may look at."""
    folds = preds["fold"].to_numpy()
    return preds[folds < k] if time_ordered else preds[folds != k]


def nested_picks(
    preds: pd.DataFrame, cands: Sequence[Candidate], time_ordered: bool
) -> dict[int, str]:
    """Return, per outer fold, the candidate chosen on its inner folds."""
    picks = {}
    for k in sorted(preds["fold"].unique()):
        inner = inner_of(preds, k, time_ordered)
        if inner.empty:
            continue
        pick = choose(inner, cands)
        if pick is not None:
            picks[int(k)] = pick
    return picks


def outer_predictions(preds: pd.DataFrame, picks: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """Return (mask of outer rows, the chosen candidates' predictions there)."""
    folds = preds["fold"].to_numpy()
    mask = np.isin(folds, list(picks))
    p = np.zeros(len(preds))
    for k, name in picks.items():
        rows = folds == k
        p[rows] = preds.loc[rows, f"pred:{name}"].to_numpy(float)
    return mask, p[mask]


def bootstrap_difference(
    preds: pd.DataFrame, p_a: np.ndarray, p_b: np.ndarray, seed: int = 0
) -> tuple[float, float] | None:
    """Return the bootstrap interval of WAPE(a) − WAPE(b), resampling whole lines."""
    y = preds["results"].to_numpy(float)
    frame = pd.DataFrame({"a": np.abs(p_a - y), "b": np.abs(p_b - y), "y": y})
    per = frame.groupby([preds["network"].to_numpy(), preds["segment"].to_numpy()]).sum()
    if len(per) < 2 or per["y"].sum() <= 0:
        return None
    rng = np.random.default_rng(seed)
    w = rng.multinomial(len(per), np.full(len(per), 1.0 / len(per)), size=BOOTSTRAP)
    tot = w @ per["y"].to_numpy()
    ok = tot > 0
    diff = (w @ (per["a"] - per["b"]).to_numpy())[ok] / tot[ok]
    lo, hi = np.quantile(diff, BOOTSTRAP_INTERVAL)
    return float(lo), float(hi)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Share of outcomes inside the 10-90% ranges: all, small lines, large lines."""

    all: float | None
    small: float | None
    large: float | None

    def to_dict(self) -> dict:
        """Return the shares as JSON-ready values."""
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {"all": r(self.all), "small_lines": r(self.small), "large_lines": r(self.large)}


def _share(share, mask) -> float | None:
    return float(share[mask].mean()) if mask.any() else None


def coverage(
    preds: pd.DataFrame, name: str, outer: Sequence[int], period_days: float, time_ordered: bool
) -> Coverage:
    """Return the coverage of ``name``'s ranges on the ``outer`` folds, each calibrated before."""
    shares, mu_all = [], []
    for k in outer:
        test = preds[preds["fold"] == k]
        inner = inner_of(preds, k, time_ordered)
        cal = calibrate_on(inner, name, period_days)
        mu = test[f"pred:{name}"].to_numpy(float)
        phi = cal.phi(mu, default=float(test[f"phi:{name}"].iloc[0]))
        y = test["results"].to_numpy(float)
        shares.append(pit_share(y, mu, phi, test[f"v:{name}"].to_numpy(float)))
        mu_all.append(mu)
    if not shares:
        return Coverage(None, None, None)
    share, mu = np.concatenate(shares), np.concatenate(mu_all)
    is_small = small(mu, period_days)
    return Coverage(
        _share(share, np.ones(len(share), bool)), _share(share, is_small), _share(share, ~is_small)
    )


def calibrate_on(preds: pd.DataFrame, name: str, period_days: float) -> Calibration:
    """Return the dispersion per size class that makes ``name``'s ranges hold on ``preds``."""
    return calibrate(
        preds["results"].to_numpy(float),
        preds[f"pred:{name}"].to_numpy(float),
        preds[f"v:{name}"].to_numpy(float),
        period_days,
    )
