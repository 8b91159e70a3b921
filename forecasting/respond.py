"""The response options applied to a forecast: the choice, Hill curves, carry-over, lift.

``forecasting.curves`` calls these between fitting the model and writing the curve lines:

- :func:`resolve` gives the options' values: with model ``auto`` the "auto" ones are chosen by
  backtest (``forecasting.choice``); with a named model "auto" means none (no carry-over,
  the power law, the common season); values given are kept;
- :func:`hill_curves` reads a Hill network's fitted curve at many spends and makes it
  concave (``forecasting.shapes.concave_envelope``), saying where it lifted it;
- :func:`per_line` gives each line its decay, the share of each period's lifetime results
  that lands inside the plan (``forecasting.carryover.inside_shares``) and its lift test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .carryover import inside_shares
from .choice import ResponseChoice, choose_response
from .errors import ForecastingError, InsufficientDataError
from .options import ResponseOptions
from .shapes import concave_envelope

if TYPE_CHECKING:
    from optimizer.parallel import Executor

#: spends (from 0 to the cap) where a Hill curve is read before its envelope is taken
HILL_SAMPLES = 96
#: a season per network needs at least this many days of history
SEASON_DAYS = 350


def resolve(  # noqa: PLR0913
    panel: pd.DataFrame,
    period: str,
    name: str,
    baseline: bool,
    model: str,
    opts: ResponseOptions,
    warnings: list[str],
    n_jobs: int = 1,
    additive: bool = True,
    base_preds: pd.DataFrame | None = None,
    *,
    executor: Executor | None = None,
) -> ResponseChoice:
    """Return the options' values for the candidate ``name`` fitted on ``panel``.

    ``base_preds``: the model choice's backtest predictions (their plain model is reused).
    ``executor`` (``optimizer.parallel``): where the options' backtests run (None: here).

    An option that cannot apply is refused (carry-over on results that cannot be added
    across periods) or dropped with a warning (the naive baselines; a season per network
    without a year of history or a second network; a Hill curve with the GBM).
    """
    if not additive and opts.carryover not in ("auto", 0.0):
        raise ForecastingError(
            f"carry-over {opts.carryover:g} adds a period's results to the next periods', which "
            "results that cannot be added across periods (reach, unique users) do not allow: "
            "leave --carryover out (or 0) for them"
        )
    if baseline:
        _baseline_words(name, opts, warnings)
        return ResponseChoice()
    if model != "auto":  # a named model: "auto" options mean none
        opts = _named(opts)
    starts = pd.DatetimeIndex(panel["start"])
    nets = panel.loc[panel["spend"] > 0, "network"].nunique()
    can_season = (starts.max() - starts.min()).days >= SEASON_DAYS and nets > 1
    if opts.season == "network" and not can_season:
        warnings.append(
            "--season network needs a year of history and two networks or more: the common "
            "season is used"
        )
        opts = replace(opts, season="common")
    if opts.shape == "hill" and name == "gbm":
        warnings.append("the GBM answers spend in steps, not a Hill curve: --shape hill is unused")
        opts = replace(opts, shape="power")
    kw = {"n_jobs": n_jobs, "can_season": can_season, "additive": additive}
    kw["base_preds"] = base_preds
    kw["executor"] = executor
    try:
        return choose_response(panel, period, name, opts, **kw)
    except InsufficientDataError as e:
        warnings.append(
            f"the response options could not be backtested ({e}); using no carry-over, the "
            "power law and the common season. Name them (--carryover, --shape, --season) to "
            "use them anyway"
        )
        return choose_response(panel, period, name, _named(opts), **kw)  # nothing to backtest


def _named(opts: ResponseOptions) -> ResponseOptions:
    """Return the options with "auto" read as none (a named model, or no backtest)."""
    return replace(
        opts,
        carryover=0.0 if opts.carryover == "auto" else opts.carryover,
        shape="power" if opts.shape == "auto" else opts.shape,
        season="common" if opts.season == "auto" else opts.season,
    )


def _baseline_words(name: str, opts: ResponseOptions, warnings: list[str]) -> None:
    """Warn of the options a naive baseline (a flat cost per result) cannot use."""
    asked = [
        k
        for k, v in (("carryover", opts.carryover), ("shape", opts.shape), ("season", opts.season))
        if v not in ("auto", 0.0, "power", "common")
    ] + (["events"] if opts.events is not None else [])
    if asked:
        warnings.append(
            f"the naive baseline '{name}' is used: its cost per result is flat, so "
            f"{', '.join(asked)} do not apply to it"
        )


def hill_curves(fitted, keys, future, tops: np.ndarray, points: int, pooled: np.ndarray) -> dict:
    """Return {line index: (spends, results, lifted below)} of the lines on a Hill curve.

    ``spends`` and ``results`` are (periods × points) arrays: the concave envelope of the
    fitted curve read at :data:`HILL_SAMPLES` spends from 0 to the line's cap, then placed at
    equal steps of results; ``lifted below`` is the largest spend below which the envelope
    replaced the curve (0: it was concave).
    """
    hill = getattr(fitted, "hill_", {}) or {}
    idx = [i for i, (n, _s) in enumerate(keys) if n in hill]
    if not idx:
        return {}
    P, J = len(future), HILL_SAMPLES
    frac = np.linspace(0.0, 1.0, J + 1)[1:]
    li = np.repeat(idx, P * J)
    pi = np.tile(np.repeat(np.arange(P), J), len(idx))
    gi = np.tile(np.arange(J), len(idx) * P)
    grid = pd.DataFrame(
        {
            "network": [keys[i][0] for i in li],
            "segment": [keys[i][1] for i in li],
            "start": future[pi],
            "spend": tops[li] * frac[gi],
        }
    )
    res = fitted.predict_lifetime(grid, pooled=pooled[li]).reshape(len(idx), P, J)
    steps = np.arange(1, points + 1) / points
    out = {}
    for a, i in enumerate(idx):
        S = np.empty((P, points))
        R = np.empty((P, points))
        lifted = 0.0
        for j in range(P):
            x = np.concatenate([[0.0], tops[i] * frac])
            env, below = concave_envelope(x, np.concatenate([[0.0], res[a, j]]))
            lifted = max(lifted, below)
            target = steps * env[-1]
            S[j] = np.interp(target, env, x)  # equal steps of results on the envelope
            R[j] = target
        out[i] = (S, R, lifted)
    return out


def curve_at(spends: np.ndarray, results: np.ndarray, spend: float) -> tuple[float, float]:
    """Return (local elasticity, results) of a curve (points from (0, 0)) at ``spend``.

    The elasticity is d log results / d log spend over ±10% around ``spend``.
    """
    r = float(np.interp(spend, spends, results))
    up = float(np.interp(spend * 1.1, spends, results))
    down = float(np.interp(spend / 1.1, spends, results))
    b = math.log(up / down) / (2 * math.log(1.1)) if up > 0 and down > 0 else 1.0
    return b, r


@dataclass(frozen=True, slots=True)
class LineResponse:
    """Per curve line: its decay, inside shares (periods), lift and the results basis."""

    decay: np.ndarray  # per line
    inside: np.ndarray | None  # lines × periods, None without carry-over
    lift: list  # per line: a dict {ratio, low, high, level} or None
    basis: str
    unused: tuple = ()  # warnings: the lift tests no line takes


def per_line(choice: ResponseChoice, opts: ResponseOptions, keys, n_periods: int, rtype: str):
    """Return the :class:`LineResponse` of the curve lines ``keys`` (network, segment)."""
    decay = np.array([choice.carryover.get(n, 0.0) for n, _s in keys])
    inside = None
    if np.any(decay > 0):
        inside = np.vstack([inside_shares(d, n_periods) for d in decay])
    lift: list = [None] * len(keys)
    used: set = set()
    if opts.lift is not None:
        for i, (n, s) in enumerate(keys):
            r = opts.lift.for_line(n, s, rtype)
            if r is not None:
                used.add(r.where)
                lift[i] = {"ratio": r.ratio, "low": r.low, "high": r.high, "level": r.level}
    if opts.basis == "incremental":
        missing = [f"{n}/{s}" for (n, s), lf in zip(keys, lift, strict=True) if lf is None]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise ForecastingError(
                f"incremental results need a lift test for every line planned: none in "
                f"{opts.lift.source} covers {', '.join(missing[:5])}{more}. Add lift results "
                "for their networks, or plan attributed results"
            )
    unused = [] if opts.lift is None else [e for e in opts.lift.entries if e.where not in used]
    return LineResponse(decay, inside, lift, opts.basis, tuple(_unused_words(unused, rtype)))


def _unused_words(entries, rtype: str) -> list[str]:
    """Say which lift tests no line planned takes (another line, type, or a more exact row)."""
    return [
        f"{e.where}: the lift test of {e.network}"
        + (f"/{e.segment}" if e.segment else "")
        + (f" ({e.result_type})" if e.result_type else "")
        + f" calibrates no line planned (result type '{rtype}'): unused"
        for e in entries
        if e.result_type in (None, rtype)  # another result type's tests are for other plans
    ]


def scale(values: np.ndarray, lift: dict | None, basis: str) -> np.ndarray:
    """Return results in the curves' basis: attributed ones times the lift's ratio if incremental."""
    if basis != "incremental" or lift is None:
        return values
    return values * float(lift["ratio"])


def event_warnings(events, fitted, first, last, history_days, networks) -> list[str]:  # noqa: PLR0913
    """Warn of events the forecast cannot use.

    Those in the plan whose effect the history could not teach, those of a network the
    history does not have, and those neither in the history (``history_days``: its first
    and last day) nor in the plan (``first`` to ``last``).
    """
    if events is None or getattr(fitted, "baseline", False):
        return []
    learnt = set(getattr(getattr(fitted, "builder_", None), "event_names_", []) or [])
    unseen = [c for c in events.occurring(first.date(), last.date()) if c not in learnt]
    out = [
        f"{c} falls in the plan but never in the history: no effect could be learnt, so the "
        "forecast treats its periods as usual ones"
        for c in unseen
    ]
    h0, h1 = (d.date() for d in history_days)
    for e in events.events:
        if e.network is not None and e.network not in networks:
            out.append(f"event {e.name!r} is for network {e.network}, which the history lacks")
        elif e.end < h0 or (h1 < e.start and e.end < first.date()) or e.start > last.date():
            out.append(
                f"event {e.name!r} ({e.start} to {e.end}) falls neither in the history "
                f"({h0} to {h1}) nor in the plan: unused"
            )
    return out


def describe(choice: ResponseChoice, opts: ResponseOptions, fitted) -> dict:
    """Return what the forecast's response is made of (``ForecastResult.response``)."""
    d = choice.to_dict()
    hill = getattr(fitted, "hill_", {}) or {}
    d["hill"] = {n: {"kappa": k, "half_saturation": c} for n, (k, c) in sorted(hill.items())}
    d["events"] = list(getattr(getattr(fitted, "builder_", None), "event_names_", []) or [])
    d["priors"] = None if opts.priors is None else opts.priors.source
    d["lift"] = None if opts.lift is None else opts.lift.source
    d["basis"] = opts.basis
    return d
