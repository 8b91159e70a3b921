"""From history to the optimizer's response curves (``optimizer.Curves``).

For every network × segment with history and every future period (ISO week ``2027-W01`` or
month ``2027-01``) the fitted model predicts expected results at a few spend levels inside
the line's own range; a power law ``results = A·spend^b`` is fitted to them and ``b`` is
kept within [0.05, 1]. Sampling that law gives a curve that is concave **by construction**
(``b <= 1``): points are placed at equal steps of results (``CURVE_POINTS`` = 16 steps).
With 8 steps, reading the curve between its points alone lost 0.42-0.66% of the results of
the true optimum on known truth (tests/forecasting/test_known_truth_plan_loss.py); 16 keep
the whole loss, fit included, under 0.5%.

- The last point is ``SPEND_CAP_MULTIPLE`` (1.5) × the line's highest spend in one period
  of its history: the optimizer cannot plan more than that, and every line carries the flag
  ``extrapolated_above:<that highest spend>`` saying where the data end.
- ``low`` / ``high`` hold each point's 10th / 90th percentile of results (see
  :mod:`forecasting.ranges`): count noise, the dispersion (calibrated per size class on the
  backtest's folds when the model is chosen by one), and the forecast's own error, which
  grows with the slope's uncertainty as spend moves away from the history. Made concave
  (least concave majorant) for the optimizer. Each line reports its elasticity with a
  standard error, and ``flat_spend`` when its spend barely moved.
- Model ``auto`` may choose a naive baseline (flat cost per result, ``b = 1``) when no model
  beats it out of sample; ``fallback="refuse"`` raises :class:`NoModelError` instead.
- ``at_cap``: the lines a plan at the history's usual budget would spend up to their cap.
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
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimizer.curves import CurveLine, Curves, Spread

from .additivity import check_additive, is_additive
from .backtest import run_backtest
from .baselines import time_baselines
from .caps import SPEND_CAP_MULTIPLE, check_cap_multiple
from .carryover import carried_in
from .errors import ForecastingError, InsufficientDataError
from .features import (
    PERIOD_DAYS,
    aggregate_panel,
    period_end,
    period_label,
    period_range,
    plan_window,
    select_result_type,
)
from .models import MODELS
from .options import DEFAULT_RESPONSE, ResponseOptions
from .priorlines import apply_priors, new_lines, prior_only, spreads_of
from .progress import Progress
from .ranges import INTERVAL, MAX_V, POOLED_V, Calibration, bounds, concave_band
from .respond import (
    curve_at,
    describe,
    event_warnings,
    hill_curves,
    per_line,
    resolve,
    scale,
)

if TYPE_CHECKING:
    from optimizer.parallel import Executor

#: the models model "auto" backtests (with the baselines). Not the GBM: its trees answer
#: spend in steps, its slope WAPE was the worst on every shared time series and it was
#: never the out-of-sample choice there (``benchmarks/bench_forecast_real.py``); leaving it
#: out keeps the choice within 3x the GLM's time. ``adplan backtest`` still scores it.
AUTO_MODELS = ("glm", "glm_eb")
#: backtests of panels with at least this many rows spread their fits over two threads
PARALLEL_ROWS = 20_000
#: points after (0, 0), at equal steps of results
CURVE_POINTS = 16
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
    elasticity_se: float | None = None
    cap_spend: float = math.nan
    flags: tuple[str, ...] = ()
    carryover: float = 0.0
    shape: str = "power"
    prior_share: float | None = None
    prior_elasticity_share: float | None = None
    lift: float | None = None

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
            "elasticity_se": None if self.elasticity_se is None else round(self.elasticity_se, 4),
            "cap_spend": round(self.cap_spend, 2),
            "flags": list(self.flags),
            "carryover": round(self.carryover, 4),
            "shape": self.shape,
            "prior_share": _r4(self.prior_share),
            "prior_elasticity_share": _r4(self.prior_elasticity_share),
            "lift": _r4(self.lift),
        }


def _r4(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


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
    at_cap: dict | None = None
    response: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the whole result, curves included, as JSON-ready values."""
        return {
            "model": self.model_name,
            "response": self.response,
            "result_type": self.result_type,
            "period": self.period,
            "warnings": list(self.warnings),
            "lines": [ln.to_dict() for ln in self.lines],
            "backtest": self.backtest,
            "at_cap": self.at_cap,
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
    raw = df["currency"].value_counts(dropna=False)  # few distinct values: clean those only
    names = pd.Series(raw.index, dtype="string").str.strip().str.upper()
    keep = (names.notna() & names.ne("")).fillna(False).to_numpy(bool)
    if not keep.any():
        return NO_CURRENCY
    per = pd.Series(raw.to_numpy()[keep], index=names.to_numpy()[keep])
    counts = per.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    known_n, total = int(counts.sum()), len(df)
    if len(counts) > 1:
        listing = ", ".join(f"{c} ({n:,} rows)" for c, n in counts.items())
        raise ForecastingError(
            f"the history mixes currencies: {listing}. Spend in different currencies cannot be "
            "added: split the history by currency (one forecast each) or convert it to one "
            "currency first"
        )
    if known_n < total:
        warnings.append(
            f"{total - known_n:,} history rows name no currency; taking them to be in "
            f"{counts.index[0]} like the other {known_n:,}"
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


class NoModelError(ForecastingError):
    """No model beat the best naive baseline out of sample, and the caller refused the baseline."""


def _choose_model(  # noqa: PLR0913
    df, panel, period, model, on_progress, n_jobs, warnings, fallback, events, executor=None
):
    """Return (candidate name, backtest or None): the named model, or the backtest's choice.

    ``executor`` (``optimizer.parallel``): where the backtest's fits run (None: here).
    """
    if model != "auto":
        if model not in MODELS:
            raise ForecastingError(
                f"unknown model {model!r}; choose auto, {', '.join(sorted(MODELS))}"
            )
        return model, None
    try:
        if n_jobs is None:
            n_jobs = 2 if len(panel) >= PARALLEL_ROWS and (os.cpu_count() or 1) >= 2 else 1
        bt = run_backtest(
            df,
            period=period,
            folds=3,
            on_progress=on_progress,
            models=AUTO_MODELS,
            n_jobs=n_jobs,
            panel=panel,
            respond={"events": events} if events is not None else None,
            executor=executor,
        )
    except InsufficientDataError as e:
        reason = getattr(e, "reason", None) or str(e)
        warnings.append(
            f"model 'auto': no backtest possible ({reason}); using the GLM. Give more history "
            f"to compare the models, or name one: {', '.join(sorted(MODELS))}"
        )
        return "glm", None
    if bt.chosen_is_baseline:
        why = _baseline_words(bt)
        if fallback == "refuse":
            raise NoModelError(
                f"{why}. Refused (--no-baseline): leave --no-baseline out to plan with the "
                f"baseline, name a model with --model ({', '.join(sorted(MODELS))}), or give "
                "more history"
            )
        warnings.append(
            f"{why}; the curves use the baseline '{bt.chosen}' (its cost per result held flat: "
            "no diminishing returns, so a plan will favour the cheapest lines up to their caps)"
        )
    return bt.chosen, bt


def _baseline_words(bt) -> str:
    """Say why no model is used: out of sample, the best baseline did as well or better."""
    o = bt.outer
    if o is None or math.isnan(o.wape) or math.isnan(o.baseline_wape):
        return f"in the backtest no model beat the naive baseline '{bt.chosen}'"
    ci = "" if o.interval is None else f", {o.interval[0]:+.3f} to {o.interval[1]:+.3f}"
    return (
        f"out of sample no model beat the best naive baseline: the models' WAPE {o.wape:.3f} "
        f"against {o.baseline_wape:.3f} for '{o.baseline}' (difference {o.difference:+.3f}{ci})"
    )


def _fitted(name: str, period: str, panel: pd.DataFrame, respond: dict):
    """Return candidate ``name`` (a model or a baseline) fitted on the whole panel."""
    if name in MODELS:
        return MODELS[name](period=period).respond(**respond).fit(panel)
    base = next(b for b in time_baselines() if b.name == name)
    return base.fit(panel)


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
    n_jobs: int | None = None,
    fallback: str = "baseline",
    response: ResponseOptions | None = None,
    executor: Executor | None = None,
) -> ForecastResult:
    """Forecast concave response curves for every line with history and period in the window.

    The periods are those in [start, end] (whole ISO weeks or months). See the module
    docstring.

    ``model``: ``"auto"`` (the nested backtest's choice among :data:`AUTO_MODELS` and the
    baselines; the GLM when the history is too short to backtest), ``"glm"``, ``"gbm"`` or
    ``"glm_eb"``. With ``"auto"``, ``on_progress(message, done, total)`` is called as the
    backtest advances; ``n_jobs`` (None: 2 threads for panels of ``PARALLEL_ROWS`` rows
    or more) spreads its fits; ``fallback="refuse"`` raises :class:`NoModelError` where the
    backtest would fall back to a baseline. ``executor`` (``optimizer.parallel``): where the
    backtests' fits run (the model's and the response options'; None: here, on ``n_jobs``
    threads); the curves are the same.
    """
    if period not in ("week", "month"):
        raise ForecastingError(f"period must be 'week' or 'month' for curves, got {period!r}")
    if model != "auto" and model not in MODELS:
        raise ForecastingError(f"unknown model {model!r}; choose auto, {', '.join(sorted(MODELS))}")
    if not (isinstance(points, int) and points >= 1):
        raise ForecastingError(f"points must be an integer >= 1, got {points!r}")
    cap_multiple = check_cap_multiple(cap_multiple, "cap_multiple")
    if fallback not in ("baseline", "refuse"):
        raise ForecastingError(f"fallback must be 'baseline' or 'refuse', got {fallback!r}")
    start, end = plan_window(start, end)
    future = period_range(start, end, period)
    if len(future) == 0:
        raise ForecastingError(f"no {period} between {start.date()} and {end.date()}")
    pairs = history[["network", "segment"]].astype(str).drop_duplicates()
    all_lines = sorted(zip(pairs["network"], pairs["segment"], strict=True))
    df, rtype, warnings = select_result_type(history, result_type)
    opts = DEFAULT_RESPONSE if response is None else response
    check_additive(df, period, rtype)
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
    if stats.empty:
        raise InsufficientDataError(f"no line has spend in the history for result type '{rtype}'")
    _check_results(stats, rtype)
    stats, standalone, new_words = new_lines(stats, all_lines, opts.priors, rtype, cap_multiple)
    warnings.extend(new_words)
    if n_jobs is None:
        n_jobs = 2 if len(panel) >= PARALLEL_ROWS and (os.cpu_count() or 1) >= 2 else 1
    name, bt = _choose_model(
        df, panel, period, model, on_progress, n_jobs, warnings, fallback, opts.events, executor
    )
    choice = resolve(
        panel,
        period,
        name,
        name not in MODELS,
        model,
        opts,
        warnings,
        n_jobs,
        additive=is_additive(rtype),
        base_preds=None if bt is None else bt.predictions,
        executor=executor,
    )
    fitted = choice.fitted or _fitted(name, period, panel, choice.respond(opts.events))
    dates = pd.DatetimeIndex(df["date"])
    warnings.extend(
        event_warnings(
            opts.events,
            fitted,
            first,
            period_end(last, period),
            (dates.min(), max(dates.max(), period_end(pd.Timestamp(panel["start"].max()), period))),
            set(stats.index.get_level_values(0)),
        )
    )
    if fitted.baseline and not math.isfinite(fitted.global_cpr_):
        warnings.append(
            f"the baseline '{name}' saw no result in its window of the history: its curves "
            "promise no results at any spend. Check the tracking of the latest periods"
        )
    law = prior_only(_power_laws(fitted, stats, future), standalone, len(future), cap_multiple)
    for i in np.flatnonzero(law.pooled & ~law.new):
        net, seg = law.keys[i]
        reason = (
            "spent but never got a result"
            if law.nores[i]
            else f"only {int(stats['n'].iloc[i])} {period}(s) with spend"
        )
        warnings.append(f"line {net}/{seg}: {reason}; using the pooled estimate of network {net}")
    cal = bt.calibration if bt is not None else None
    resp = per_line(choice, opts, law.keys, len(future), rtype)
    warnings.extend(resp.unused)
    shaped = hill_curves(fitted, law.keys, future, cap_multiple * law.s_max, points, law.pooled)
    spreads = apply_priors(
        law, spreads_of(law, fitted), opts.priors, rtype, len(standalone), shaped
    )
    lines, summaries = _curve_lines(
        law, fitted, cal, future, period, stats, points, cap_multiple, resp, spreads, shaped
    )
    flat = [s for s in summaries if "flat_spend" in s.flags]
    if flat:
        warnings.append(_flat_words(flat))
    meta = {
        "model": name,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "history_start": dates.min().strftime("%Y-%m-%d"),
        "history_end": dates.max().strftime("%Y-%m-%d"),
        "period": period,
        "spend_cap_multiple": cap_multiple,
        "interval": list(INTERVAL),
    }
    at_cap = capped_lines(law, summaries, cap_multiple)
    meta["at_cap"] = at_cap
    meta["line_forecasts"] = [s.to_dict() for s in summaries]
    response_meta = describe(choice, opts, fitted)
    context = getattr(fitted, "context_", None)
    if context is not None and any(choice.carryover.values()):
        got = carried_in(context, choice.carryover, period, future)
        response_meta["carried_in"] = {n: round(v, 2) for n, v in sorted(got.items())}
    meta["response"] = response_meta
    if resp.basis == "incremental":
        meta["results_basis"] = "incremental"
    if not is_additive(rtype):
        meta["additive"] = False
    if bt is not None:
        meta["backtest"] = {
            "chosen": bt.chosen,
            "chosen_is_baseline": bt.chosen_is_baseline,
            "outer": None if bt.outer is None else bt.outer.to_dict(),
        }
    curves = Curves(lines=tuple(lines), currency=currency, result_type=rtype, meta=meta)
    return ForecastResult(
        curves=curves,
        warnings=warnings,
        model_name=name,
        result_type=rtype,
        period=period,
        lines=summaries,
        backtest=None if bt is None else bt.to_dict(),
        at_cap=at_cap,
        response=response_meta,
    )


@dataclass(frozen=True, slots=True)
class PowerLaws:
    """``results = exp(loga)·spend^b`` per line (axis 0) and future period (axis 1)."""

    keys: list
    b_raw: np.ndarray
    b: np.ndarray
    loga: np.ndarray
    s_max: np.ndarray
    typical: np.ndarray
    pooled: np.ndarray
    nores: np.ndarray
    thin: np.ndarray
    new: np.ndarray  # lines without history: new segments (pooled), brand-new networks (prior)
    alone: np.ndarray  # lines of brand-new networks: their prior alone


def _power_laws(fitted, stats: pd.DataFrame, future) -> PowerLaws:
    """Read the fitted model at a few spends inside each line's range; fit a power law."""
    keys = list(stats.index)
    thin = stats["n"].to_numpy() < MIN_LINE_PERIODS
    nores = stats["results"].to_numpy() <= 0
    pooled = thin | nores
    s_max = stats["max_spend"].to_numpy(float)
    L, P, J = len(keys), len(future), len(_GRID)
    li = np.repeat(np.arange(L), P * J)
    pi = np.tile(np.repeat(np.arange(P), J), L)
    gi = np.tile(np.arange(J), L * P)
    nets = np.array([k[0] for k in keys], dtype=object)
    segs = np.array([k[1] for k in keys], dtype=object)
    grid = pd.DataFrame(
        {
            "network": nets[li],
            "segment": segs[li],
            "start": future[pi],
            "spend": s_max[li] * _GRID[gi],
        }
    )
    read = getattr(fitted, "predict_lifetime", fitted.predict)
    mu = np.maximum(read(grid, pooled=pooled[li]).reshape(L, P, J), 1e-12)
    x = np.log(s_max[:, None, None] * _GRID[None, None, :])
    ly = np.log(mu)
    xm, ym = x.mean(axis=2, keepdims=True), ly.mean(axis=2, keepdims=True)
    b = ((x - xm) * (ly - ym)).sum(axis=2) / ((x - xm) ** 2).sum(axis=2)
    b_clipped = np.clip(b, *ELASTICITY_BOUNDS)
    loga = (ym - b_clipped[:, :, None] * xm)[:, :, 0]
    typical = stats["typical"].to_numpy(float)
    new = stats["new"].to_numpy(bool) if "new" in stats else np.zeros(L, bool)
    return PowerLaws(
        keys, b, b_clipped, loga, s_max, typical, pooled, nores, thin, new, np.zeros(L, bool)
    )


def _line_flags(law: PowerLaws, i: int, spread, baseline: bool, shaped=None) -> list[str]:
    if law.alone[i]:
        return ["prior_only"]
    if law.new[i]:
        return ["new_line"]
    flags = [f"extrapolated_above:{law.s_max[i]:.6g}"]
    if shaped is not None:
        flags.append("hill")
        if shaped[2] > 0:
            flags.append(f"convexified_below:{shaped[2]:.6g}")
    if law.nores[i]:
        flags.append("no_results")
    elif law.thin[i]:
        flags.append("thin_history")
    if shaped is None and np.any(np.abs(law.b_raw[i] - law.b[i]) > 1e-9):
        flags.append("elasticity_clipped")
    if spread.flat and not law.pooled[i] and not baseline:
        flags.append("flat_spend")
    return flags


def _bands(law, spreads: list, cal, default_phi: float, top, frac, shaped, own):  # noqa: PLR0913
    """Return spends, results, low and high of every curve point (line × period × point).

    Low/high are each point's 10th/90th percentile (:mod:`forecasting.ranges`), at least
    0, around the curve, and made concave below.
    """
    bb = law.b[:, :, None]
    spends = top[:, None, None] * frac[None, None, :] ** (1.0 / bb)
    res = np.exp(law.loga)[:, :, None] * top[:, None, None] ** bb * frac[None, None, :]
    for i, (S, R, _lifted) in shaped.items():  # Hill curves: their concave envelopes
        spends[i], res[i] = S, R
    v0 = np.array([s.v0 for s in spreads])[:, None, None]
    c = np.array([s.centre for s in spreads])[:, None, None]
    se = np.array([s.se for s in spreads])[:, None, None]
    v = np.where(~own[:, None, None], POOLED_V, v0 + (np.log(spends) - c) ** 2 * se**2)
    mu = np.maximum(res, 1e-12)
    lo, hi = bounds(mu.ravel(), cal.phi(mu.ravel(), default_phi), v.ravel())
    lo = np.clip(lo.reshape(res.shape), 0.0, res)
    hi = np.maximum(hi.reshape(res.shape), res)
    zero = np.zeros(res.shape[:2] + (1,))
    cat = lambda a: np.concatenate([zero, a], axis=2)  # noqa: E731
    return cat(spends), cat(res), cat(lo), cat(hi)


def _curve_lines(
    law, fitted, cal, future, period, stats, points, cap_multiple, resp, priored, shaped
):  # noqa: PLR0913
    """Return the curve lines and the per-line summaries.

    ``priored``: (spreads, level shares, elasticity shares, own) from ``apply_priors``;
    ``shaped``: the Hill lines' curves (``respond.hill_curves``).
    """
    spreads, level_share, b_share, own = priored
    lines: list[CurveLine] = []
    summaries: list[LineForecast] = []
    frac = np.arange(1, points + 1) / points
    default_phi = float(fitted.phi_)
    if cal is None:
        cal = Calibration(None, None, PERIOD_DAYS[period])
    tops = cap_multiple * law.s_max
    S, R, LO, HI = _bands(law, spreads, cal, default_phi, tops, frac, shaped, own)
    labels = [period_label(f, period) for f in future]
    for i, (net, seg) in enumerate(law.keys):
        spread = spreads[i]
        flags = tuple(_line_flags(law, i, spread, fitted.baseline, shaped.get(i)))
        lift = resp.lift[i]
        R[i], LO[i], HI[i] = (scale(a, lift, resp.basis) for a in (R[i], LO[i], HI[i]))
        top = float(tops[i])
        b0, A0 = float(law.b[i, 0]), math.exp(float(law.loga[i, 0]))
        r_typ = A0 * law.typical[i] ** b0
        if i in shaped:  # a Hill line: its CPR and local elasticity read from its curve
            b0, r_typ = curve_at(S[i, 0], R[i, 0], float(law.typical[i]))
        carried = _carried_spread(spread, not own[i], cal.phi(r_typ, default_phi))
        for j in range(len(future)):
            s = S[i, j].tolist()
            lines.append(
                CurveLine(
                    network=net,
                    segment=seg,
                    period=labels[j],
                    points=list(zip(s, R[i, j].tolist(), strict=True)),
                    low=list(zip(s, concave_band(S[i, j], LO[i, j]).tolist(), strict=True)),
                    high=list(zip(s, concave_band(S[i, j], HI[i, j]).tolist(), strict=True)),
                    flags=flags,
                    spread=carried,
                    inside=None if resp.inside is None else float(resp.inside[i, j]),
                    lift=lift,
                )
            )
        summaries.append(
            LineForecast(
                network=net,
                segment=seg,
                history_periods=int(stats["n"].iloc[i]) if i < len(stats) else 0,
                history_max_spend=float(law.s_max[i]),
                typical_spend=float(law.typical[i]),
                cost_per_result=float(law.typical[i] / r_typ) if r_typ > 0 else None,
                elasticity=b0,
                elasticity_se=None if fitted.baseline else float(spread.se),
                cap_spend=float(top),
                flags=flags,
                carryover=float(resp.decay[i]),
                shape="hill" if i in shaped else "power",
                lift=None if lift is None else float(lift["ratio"]),
                prior_share=level_share[i],
                prior_elasticity_share=b_share[i],
            )
        )
    return lines, summaries


def _carried_spread(spread, pooled: bool, phi) -> Spread:
    """Return what the curves carry of a line's uncertainty, for the plan's ranges.

    The spread of its bands (:func:`_bands`): a pooled line's log-scale error is
    :data:`POOLED_V` at any spend; the level's variance is capped like ``v`` (``MAX_V``);
    the dispersion is its size class's at its typical spend.
    """
    phi = float(np.asarray(phi).ravel()[0])
    if pooled:
        return Spread(POOLED_V, 0.0, 0.0, phi)
    return Spread(min(spread.v0, MAX_V), spread.centre, spread.se, phi)


def _flat_words(flat: list[LineForecast]) -> str:
    names = ", ".join(f"{s.network}/{s.segment}" for s in flat[:8])
    more = f" and {len(flat) - 8} more" if len(flat) > 8 else ""
    return (
        f"{len(flat)} line(s) spent about the same every period ({names}{more}): their spend "
        "history is too flat to measure how results respond to spend, so their elasticity is "
        "their network's (see elasticity_se). Vary their spend for a few periods to measure it"
    )


def capped_lines(law: PowerLaws, summaries: list[LineForecast], cap_multiple: float) -> dict:
    """Return the lines a plan at the history's usual budget would spend up to their cap.

    The usual budget is the sum of the lines' typical (median) spend per period; the plan
    spreads it where the next result is cheapest (equal marginal cost, on the first period's
    curves), each line at most at its cap.
    """
    budget = float(law.typical.sum())
    caps = cap_multiple * law.s_max
    spend = _water_fill(np.exp(law.loga[:, 0]), law.b[:, 0], caps, budget)
    hit = spend >= caps * (1 - 1e-6)
    return {
        "budget_per_period": round(budget, 2),
        "cap_multiple": cap_multiple,
        "lines": [
            {"network": s.network, "segment": s.segment, "cap_spend": round(float(c), 2)}
            for s, c, h in zip(summaries, caps, hit, strict=True)
            if h
        ],
    }


def _water_fill(a: np.ndarray, b: np.ndarray, caps: np.ndarray, budget: float) -> np.ndarray:
    """Return the spend per line maximising sum a·s^b under the budget and the caps.

    Equal marginal results ``a·b·s^(b-1) = lam`` (bisection on log lam); lines with b = 1
    take their cap while their constant rate beats lam.
    """
    if budget >= caps.sum():
        return caps.copy()
    lin = b >= 1 - 1e-9

    def spend_at(lam: float) -> np.ndarray:
        with np.errstate(over="ignore", divide="ignore"):
            s = np.where(
                lin,
                np.where(a > lam, caps, 0.0),
                (a * b / lam) ** (1.0 / np.where(lin, 2.0, 1.0 - b)),
            )
        return np.minimum(s, caps)

    lo, hi = -60.0, 60.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if spend_at(math.exp(mid)).sum() > budget:
            lo = mid
        else:
            hi = mid
    return spend_at(math.exp(hi))
