"""From history to the optimizer's response curves (``optimizer.Curves``).

For every network × segment with history and every future period (ISO week ``2027-W01`` or
month ``2027-01``) the fitted model predicts expected results at a few spend levels inside
the line's own range; a power law ``results = A·spend^b`` is fitted to them and ``b`` is
kept within [0.05, 1]. Sampling that law gives a curve that is concave **by construction**
(``b <= 1``): points are placed at equal steps of results (``CURVE_POINTS`` steps), which
the design's measurements found the best place for LP tiers.

- The last point is ``SPEND_CAP_MULTIPLE`` (1.5) × the line's highest spend in one period
  of its history: the optimizer cannot plan more than that, and every line carries the flag
  ``extrapolated_above:<that highest spend>`` saying where the data end.
- ``low`` / ``high`` are the same curve scaled to the 10th / 90th percentile of results at
  the line's typical (median) spend, from the model's calibrated spread (see
  :mod:`forecasting.models`); their coverage is what the backtest reports.
- Thin data is reported, not fatal: a line with fewer than ``MIN_LINE_PERIODS`` periods with
  spend gets its network's pooled estimate and the flag ``thin_history``; a line that spent
  but never got a result gets the pooled estimate and ``no_results``; a line with no spend
  of this result type gets no curve and a warning naming it.
- Refused (:class:`~forecasting.errors.ForecastingError`): a result type with spend but not
  one result, or a network without any (``InsufficientDataError``); several currencies.
  A history naming no currency gives curves in ``XXX`` (ISO 4217 "no currency").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from optimizer.curves import CurveLine, Curves

from .backtest import run_backtest
from .errors import ForecastingError, InsufficientDataError
from .features import (
    aggregate_panel,
    period_end,
    period_label,
    period_range,
    plan_window,
    select_result_type,
)
from .models import MODELS, interval_bounds
from .progress import Progress

#: the curve stops at this multiple of the line's highest historical spend per period
SPEND_CAP_MULTIPLE = 1.5
#: points after (0, 0), at equal steps of results
CURVE_POINTS = 8
#: a line with fewer periods with spend than this gets its network's pooled estimate
MIN_LINE_PERIODS = 4
#: bounds on the exponent b of results = A·spend^b (b = 1: constant cost per result)
ELASTICITY_BOUNDS = (0.05, 1.0)
#: spend levels (fractions of the line's highest spend) where the model is read
_GRID = np.geomspace(0.25, 1.0, 5)


@dataclass(slots=True)
class LineForecast:
    """What the forecast says about one network × segment (for tables and reports)."""

    network: str
    segment: str
    history_periods: int
    history_max_spend: float
    typical_spend: float
    cost_per_result: float | None
    elasticity: float
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Return the line's figures as JSON-ready values, rounded."""
        return {
            "network": self.network,
            "segment": self.segment,
            "history_periods": self.history_periods,
            "history_max_spend": round(self.history_max_spend, 4),
            "typical_spend": round(self.typical_spend, 4),
            "cost_per_result": None
            if self.cost_per_result is None
            else round(self.cost_per_result, 6),
            "elasticity": round(self.elasticity, 4),
            "flags": list(self.flags),
        }


@dataclass(slots=True)
class ForecastResult:
    """The forecast curves, with the model used, the per-line figures and the warnings."""

    curves: Curves
    warnings: list[str]
    model_name: str
    result_type: str
    period: str
    lines: list[LineForecast] = field(default_factory=list)
    backtest: dict | None = None

    def to_dict(self) -> dict:
        """Return the whole result, curves included, as JSON-ready values."""
        return {
            "model": self.model_name,
            "result_type": self.result_type,
            "period": self.period,
            "warnings": list(self.warnings),
            "lines": [ln.to_dict() for ln in self.lines],
            "backtest": self.backtest,
            "curves": self.curves.to_dict(),
        }


#: the currency of curves forecast from a history without one (ISO 4217 "no currency")
NO_CURRENCY = "XXX"


def _currency(df: pd.DataFrame, warnings: list[str]) -> str:
    """Return the history's one currency; ``NO_CURRENCY`` when it names none.

    Spend in different currencies is never added: a mix is an error.
    """
    if "currency" not in df:
        return NO_CURRENCY
    cur = df["currency"].astype("string").str.strip().str.upper()
    known = cur[cur.notna() & (cur != "")]
    if known.empty:
        return NO_CURRENCY
    counts = known.value_counts()
    if len(counts) > 1:
        listing = ", ".join(f"{c} ({n:,} rows)" for c, n in counts.items())
        raise ForecastingError(
            f"the history mixes currencies: {listing}. Spend in different currencies cannot be "
            "added: split the history by currency (one forecast each) or convert it to one "
            "currency first"
        )
    if len(known) < len(cur):
        warnings.append(
            f"{len(cur) - len(known):,} history rows name no currency; taking them to be in "
            f"{counts.index[0]} like the other {len(known):,}"
        )
    return str(counts.index[0])


def window_warnings(dates: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    """Return warnings (never errors) about a plan window against the history's dates.

    The plan runs from ``first`` to ``last`` (the days its whole periods cover), off history
    on ``dates``. Warned of: a window that starts before the history ends, a horizon (history
    end to plan end) longer than the history's span, and a gap between consecutive history
    dates longer than half the span (a lone week years from the rest).
    """
    days = pd.DatetimeIndex(pd.to_datetime(dates).dropna().unique()).normalize().unique()
    if len(days) == 0:
        return []
    days = days.sort_values()
    h0, h1 = days[0], days[-1]
    span = (h1 - h0).days
    out = []
    if first <= h1:
        out.append(
            f"the forecast window starts {first.date()}, before the history ends "
            f"({h1.date()}): the periods up to then are forecast, not the results recorded; "
            "start the plan after the history's last day to plan the future"
        )
    horizon = (last - h1).days
    if horizon > span:
        out.append(
            f"the plan runs to {last.date()}, {horizon:,} days past the history's end "
            f"({h1.date()}): longer than the history itself ({span:,} days, {h0.date()} to "
            f"{h1.date()}). Its trend and season cannot be known that far ahead; plan a "
            "shorter window or give more history"
        )
    if len(days) >= 3:
        gaps = np.diff(days.values) / np.timedelta64(1, "D")
        i = int(np.argmax(gaps))
        if gaps[i] > span / 2 and gaps[i] > 2 * float(np.median(gaps)):
            out.append(
                f"the history has a gap of {int(gaps[i]):,} days, from {days[i].date()} to "
                f"{days[i + 1].date()}: more than half its span ({span:,} days). Rows that far "
                "from the rest are probably a wrong date or another account; check the history"
            )
    return out


def _check_results(stats: pd.DataFrame, rtype: str) -> None:
    """Refuse to plan a result type, or a network, that the history never saw a result of.

    Any curve there would be invented.
    """
    if stats["results"].sum() <= 0:
        raise InsufficientDataError(
            f"the history has spend ({stats['spend'].sum():,.2f}) but not one result of type "
            f"'{rtype}': there is nothing to learn a cost per result from. Check the result "
            "column (or --result-type), or add history with results"
        )
    by_net = stats.groupby(level="network")[["spend", "results"]].sum()
    dead = by_net[by_net["results"] <= 0]
    if not dead.empty:
        listing = ", ".join(f"{n} (spend {r.spend:,.2f})" for n, r in dead.iterrows())
        raise InsufficientDataError(
            f"network(s) {listing} spent but never got a result of type '{rtype}' in the "
            "history: check their tracking, or drop their rows to plan the other networks"
        )


def _choose_model(df, period, model, on_progress: Progress | None, n_jobs, warnings):
    if model != "auto":
        if model not in MODELS:
            raise ForecastingError(
                f"unknown model {model!r}; choose auto, {', '.join(sorted(MODELS))}"
            )
        return model, None
    try:
        bt = run_backtest(df, period=period, folds=3, on_progress=on_progress, n_jobs=n_jobs)
    except InsufficientDataError as e:
        reason = getattr(e, "reason", None) or str(e)
        warnings.append(
            f"model 'auto': no backtest possible ({reason}); using the GLM. Give more history "
            f"to compare the models, or name one: {', '.join(sorted(MODELS))}"
        )
        return "glm", None
    if not bt.beats_baselines:
        warnings.append(
            f"in the backtest, the chosen model '{bt.chosen}' (WAPE {bt.score(bt.chosen).wape:.3f}) "
            "did not beat every naive baseline; treat these curves with care"
        )
    return bt.chosen, bt.to_dict()


def forecast_curves(  # noqa: C901 (long: not split yet)
    history: pd.DataFrame,
    start,
    end,
    period: str = "week",
    result_type: str | None = None,
    model: str = "auto",
    on_progress: Progress | None = None,
    *,
    points: int = CURVE_POINTS,
    cap_multiple: float = SPEND_CAP_MULTIPLE,
    n_jobs: int = 1,
) -> ForecastResult:
    """Forecast concave response curves for every line with history and period in the window.

    The periods are those in [start, end] (whole ISO weeks or months). See the module
    docstring.

    ``model``: ``"auto"`` (the backtest's best non-baseline model; the GLM when the history
    is too short to backtest), ``"glm"``, ``"gbm"`` or ``"glm_eb"``. With ``"auto"``,
    ``on_progress(message, done, total)`` is called as the backtest advances.
    """
    if period not in ("week", "month"):
        raise ForecastingError(f"period must be 'week' or 'month' for curves, got {period!r}")
    if model != "auto" and model not in MODELS:
        raise ForecastingError(f"unknown model {model!r}; choose auto, {', '.join(sorted(MODELS))}")
    if not (isinstance(points, int) and points >= 1):
        raise ForecastingError(f"points must be an integer >= 1, got {points!r}")
    if not (cap_multiple >= 1):
        raise ForecastingError(f"cap_multiple must be >= 1, got {cap_multiple!r}")
    start, end = plan_window(start, end)
    future = period_range(start, end, period)
    if len(future) == 0:
        raise ForecastingError(f"no {period} between {start.date()} and {end.date()}")
    pairs = history[["network", "segment"]].astype(str).drop_duplicates()
    all_lines = sorted(zip(pairs["network"], pairs["segment"], strict=True))
    df, rtype, warnings = select_result_type(history, result_type)
    first, last = future[0], future[-1]
    if first < start or period_end(last, period) > end:
        warnings.append(
            f"whole {period}s are planned: {period_label(first, period)} to "
            f"{period_label(last, period)} run from {first.date()} to "
            f"{period_end(last, period).date()}, beyond {start.date()}..{end.date()}"
        )
    warnings.extend(window_warnings(df["date"], first, period_end(last, period)))
    currency = _currency(df, warnings)
    panel = aggregate_panel(df, period)
    pos = panel[panel["spend"] > 0]
    stats = pos.groupby(["network", "segment"]).agg(
        n=("spend", "size"),
        max_spend=("spend", "max"),
        typical=("spend", "median"),
        spend=("spend", "sum"),
        results=("results", "sum"),
    )
    missing = [ln for ln in all_lines if ln not in stats.index]
    for n, s in missing:
        warnings.append(
            f"line {n}/{s}: no history with spend for result type '{rtype}'; no curve (add "
            "history for it, or plan it from curves of your own)"
        )
    if stats.empty:
        raise InsufficientDataError(f"no line has spend in the history for result type '{rtype}'")
    _check_results(stats, rtype)
    name, bt = _choose_model(df, period, model, on_progress, n_jobs, warnings)
    fitted = MODELS[name](period=period).fit(panel)

    keys = list(stats.index)
    thin = np.array([stats.loc[k, "n"] < MIN_LINE_PERIODS for k in keys])
    nores = np.array([stats.loc[k, "results"] <= 0 for k in keys])
    pooled_line = thin | nores
    s_max = stats["max_spend"].to_numpy(float)
    typical = stats["typical"].to_numpy(float)
    L, P, J = len(keys), len(future), len(_GRID)
    # rows: line-major, then period, then grid point
    li = np.repeat(np.arange(L), P * J)
    pi = np.tile(np.repeat(np.arange(P), J), L)
    gi = np.tile(np.arange(J), L * P)
    grid = pd.DataFrame(
        {
            "network": [keys[i][0] for i in li],
            "segment": [keys[i][1] for i in li],
            "start": future[pi],
            "spend": s_max[li] * _GRID[gi],
        }
    )
    mu = fitted.predict(grid, pooled=pooled_line[li]).reshape(L, P, J)
    mu = np.maximum(mu, 1e-12)
    x = np.log(s_max[:, None, None] * _GRID[None, None, :])
    ly = np.log(mu)
    xm, ym = x.mean(axis=2, keepdims=True), ly.mean(axis=2, keepdims=True)
    b = ((x - xm) * (ly - ym)).sum(axis=2) / ((x - xm) ** 2).sum(axis=2)
    b_clipped = np.clip(b, *ELASTICITY_BOUNDS)
    loga = (ym - b_clipped[:, :, None] * xm)[:, :, 0]

    # low/high: the curve scaled to the 10th/90th percentile at the line's typical spend
    mu_ref = np.maximum(np.exp(loga) * typical[:, None] ** b_clipped, 1e-12)
    lo, hi = interval_bounds(mu_ref.ravel(), fitted.phi_)
    factor_lo, factor_hi = (lo / mu_ref.ravel()).reshape(L, P), (hi / mu_ref.ravel()).reshape(L, P)
    lines: list[CurveLine] = []
    summaries: list[LineForecast] = []
    frac = np.arange(1, points + 1) / points
    for i, (net, seg) in enumerate(keys):
        flags = [f"extrapolated_above:{s_max[i]:.6g}"]
        if nores[i]:
            flags.append("no_results")
        elif thin[i]:
            flags.append("thin_history")
        if np.any(np.abs(b[i] - b_clipped[i]) > 1e-9):
            flags.append("elasticity_clipped")
        if pooled_line[i]:
            reason = (
                "spent but never got a result"
                if nores[i]
                else f"only {int(stats.loc[(net, seg), 'n'])} {period}(s) with spend"
            )
            warnings.append(
                f"line {net}/{seg}: {reason}; using the pooled estimate of network {net}"
            )
        top = cap_multiple * s_max[i]
        for j in range(P):
            bb, A = float(b_clipped[i, j]), math.exp(float(loga[i, j]))
            r_top = A * top**bb
            spends = top * frac ** (1.0 / bb)
            res = r_top * frac
            pts = [(0.0, 0.0)] + [(float(s), float(r)) for s, r in zip(spends, res, strict=True)]
            f_lo, f_hi = float(factor_lo[i, j]), float(factor_hi[i, j])
            lines.append(
                CurveLine(
                    network=net,
                    segment=seg,
                    period=period_label(future[j], period),
                    points=pts,
                    low=[(s, r * f_lo) for s, r in pts],
                    high=[(s, r * f_hi) for s, r in pts],
                    flags=tuple(flags),
                )
            )
        b0, A0 = float(b_clipped[i, 0]), math.exp(float(loga[i, 0]))
        r_typ = A0 * typical[i] ** b0
        summaries.append(
            LineForecast(
                network=net,
                segment=seg,
                history_periods=int(stats.loc[(net, seg), "n"]),
                history_max_spend=float(s_max[i]),
                typical_spend=float(typical[i]),
                cost_per_result=float(typical[i] / r_typ) if r_typ > 0 else None,
                elasticity=b0,
                flags=tuple(flags),
            )
        )
    dates = pd.DatetimeIndex(df["date"])
    meta = {
        "model": name,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "history_start": dates.min().strftime("%Y-%m-%d"),
        "history_end": dates.max().strftime("%Y-%m-%d"),
        "period": period,
        "spend_cap_multiple": cap_multiple,
        "interval": [0.1, 0.9],
    }
    curves = Curves(lines=tuple(lines), currency=currency, result_type=rtype, meta=meta)
    return ForecastResult(
        curves=curves,
        warnings=warnings,
        model_name=name,
        result_type=rtype,
        period=period,
        lines=summaries,
        backtest=bt,
    )
