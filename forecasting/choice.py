"""Which response options a history gets: carry-over, shape and season, chosen by backtest.

After the model is chosen (``forecasting.backtest``), its variants are backtested on the
same rolling-origin blocks, one option at a time, each step keeping what the previous ones
chose:

1. **carry-over**: the model with each decay of ``CARRYOVER_GRID`` for every network; each
   network keeps the decay that scores best on its own lines (0 allowed);
2. **shape**: a Hill curve where it fits a network's history better than the power law
   (``forecasting.shapes``); each network keeps the shape that scores best on its lines;
3. **season**: a season per network (pooled toward the common one) against the common season,
   for all networks at once; only with a year of history and two networks or more.

Each step is first **screened** on one fit of the model to the whole history (the fit the
forecast needs anyway), so that a history without the effect costs no backtest: carry-over
is tried only where a period's results follow the spend of the period before beyond what
its own spend explains (a t-statistic of :data:`LAG_T` or more, per network); a Hill curve
only in the networks where it fits the history better than the power law; a season per
network only when the networks' own seasons, fitted, move results by
:data:`SEASON_AMPLITUDE` or more somewhere.

A score is the mean of WAPE and slope WAPE (``forecasting.scoring``) on a network's rows; an
option replaces the simpler one only when it lowers the score by ``MIN_GAIN`` (relative).
The choice looks at every block (as the final model choice does); the scores are reported.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import scoring
from .backtest import _run_blocks, time_blocks
from .errors import InsufficientDataError
from .models import MODELS
from .options import CARRYOVER_GRID, MAX_CARRYOVER, ResponseOptions

if TYPE_CHECKING:
    from optimizer.parallel import Executor

#: an option replaces the simpler one only when it lowers the score by this share
MIN_GAIN = 0.01
#: carry-over is backtested only when results follow the previous period's spend this clearly
LAG_T = 2.5
#: halvings of the decay grid's step around each network's pick (± 0.125)
REFINE_STEPS = 1
#: the option backtests of panels with this many rows spread their fits over two threads (each
#: variant's EM fits many times; numpy and LAPACK release the GIL)
OPTION_PARALLEL_ROWS = 5_000
#: EM rounds of the variants a backtest ranks (the forecast's own fit takes EM_ROUNDS)
BACKTEST_EM_ROUNDS = 5
#: a season per network is backtested only when some network's own season moves this much
SEASON_AMPLITUDE = 0.08


@dataclass(frozen=True, slots=True)
class ResponseChoice:
    """What a history gets: decays and shapes per network, the season, and the evidence."""

    carryover: dict = field(default_factory=dict)
    hill: tuple = ()
    season_by_network: bool = False
    scores: dict = field(default_factory=dict)
    notes: tuple = ()
    #: the model fitted to the whole history with these options, when the choice made it
    fitted: object = field(default=None, compare=False, repr=False)

    def respond(self, events=None) -> dict:
        """Return ``PanelForecaster.respond``'s keywords for this choice."""
        return {
            "carryover": self.carryover,
            "hill": self.hill,
            "season_by_network": self.season_by_network,
            "events": events,
        }

    def to_dict(self) -> dict:
        """Return the choice as JSON-ready values."""
        return {
            "carryover": {k: round(v, 4) for k, v in sorted(self.carryover.items())},
            "hill": sorted(self.hill),
            "season": "network" if self.season_by_network else "common",
            "scores": self.scores,
            "notes": list(self.notes),
        }


def _network_scores(preds: pd.DataFrame, name: str) -> dict:
    """Return {network: score} of candidate ``name`` on each network's rows."""
    out = {}
    for net, g in preds.groupby("network", sort=True, observed=True):
        y = g["results"].to_numpy(float)
        w = scoring.wape_bias(y, g[f"pred:{name}"].to_numpy(float))[0]
        sl = scoring.slope_wape(g, name)
        out[str(net)] = scoring.choice_score(w, sl) if not math.isnan(sl) else w
    return out


def _backtest(  # noqa: PLR0913
    blocks, model: str, period: str, variants: dict, n_jobs: int, executor: Executor | None = None
) -> dict:
    """Return {variant: {network: score}} of the model's variants on the blocks.

    Their carry-over is fitted in :data:`BACKTEST_EM_ROUNDS` EM rounds (a ranking, not the
    forecast: the forecast's fit takes ``carryover.EM_ROUNDS``). ``executor``: where the
    fits run (None: here, on ``n_jobs`` threads).
    """
    cands = [
        MODELS[model](period=period).respond(name=name, em_rounds=BACKTEST_EM_ROUNDS, **kw)
        for name, kw in variants.items()
    ]
    parts = _run_blocks(blocks, cands, None, n_jobs, executor)
    preds = pd.concat(parts, ignore_index=True)
    return {name: _network_scores(preds, name) for name in variants}


def _better(new: float, old: float) -> bool:
    return np.isfinite(new) and (not np.isfinite(old) or new < old * (1 - MIN_GAIN))


def choose_response(  # noqa: C901, PLR0913 (one step per option, each screened)
    panel: pd.DataFrame,
    period: str,
    model: str,
    options: ResponseOptions,
    *,
    folds: int = 3,
    n_jobs: int = 1,
    can_season: bool = True,
    additive: bool = True,
    base_preds: pd.DataFrame | None = None,
    executor: Executor | None = None,
) -> ResponseChoice:
    """Return the options' values for ``model`` on ``panel`` ("auto" ones by backtest).

    ``base_preds``: the model choice's backtest predictions (``BacktestResult.predictions``,
    the same blocks), whose scores of the plain model are reused. Options given a value keep
    it. Raises InsufficientDataError when the history is too
    short to backtest (the caller then uses the plain defaults). Results that cannot be
    added across periods (``additive`` False: reach) get no carry-over: it would add a
    period's results to the next ones'. A network without scored rows in the backtest's
    blocks keeps the simpler option. ``executor`` (``optimizer.parallel``): where the
    option backtests' fits run (None: here); the choice is the same.
    """
    nets = sorted(panel.loc[panel["spend"] > 0, "network"].astype(str).unique())
    fixed = options.carryover != "auto"
    carry = {n: float(options.carryover) for n in nets} if fixed else {n: 0.0 for n in nets}
    hill: tuple = tuple(nets) if options.shape == "hill" else ()
    season = options.season == "network"
    auto = {
        "carryover": options.carryover == "auto" and additive,
        "shape": options.shape == "auto",
        "season": options.season == "auto" and can_season and len(nets) > 1,
    }
    if not any(auto.values()):
        return ResponseChoice(carry, hill, season)
    ev = options.events
    notes: list[str] = []
    scores: dict = {}

    def kw(c=None, h=None, s=None) -> dict:
        return {
            "carryover": carry if c is None else c,
            "hill": hill if h is None else h,
            "season_by_network": season if s is None else s,
            "events": ev,
        }

    base = MODELS[model](period=period).respond(**kw(h=())).fit(panel)
    base_scores = None
    if base_preds is not None and f"pred:{model}" in base_preds:
        base_scores = _network_scores(base_preds, model)
    blocks = None

    threads = max(
        n_jobs, 2 if len(panel) >= OPTION_PARALLEL_ROWS and (os.cpu_count() or 1) > 1 else 1
    )

    def run(variants: dict) -> dict:
        nonlocal blocks
        if blocks is None:
            blocks = time_blocks(panel, period, folds)[0]
            if not blocks:
                raise InsufficientDataError("the test periods of the backtest hold no spend")
        return _backtest(blocks, model, period, variants, threads, executor)

    if auto["carryover"]:
        signal = lag_signal(base, panel) if not any(carry.values()) else {}
        tried = sorted(n for n, t in signal.items() if t >= LAG_T)
        scores["carryover_signal"] = {n: round(t, 2) for n, t in sorted(signal.items())}
        if tried:
            grid = {f"carry{d:g}": kw(c={n: d for n in nets}) for d in CARRYOVER_GRID}
            plain = base_scores is not None and not hill and not season
            if plain:  # the model choice's backtest already scored the plain model
                del grid["carry0"]
            got = run(grid)
            if plain:
                got["carry0"] = base_scores
            scores["carryover"] = got
            score = {}
            for n in tried:
                best = 0.0
                for d in CARRYOVER_GRID[1:]:
                    new, old = (
                        got[f"carry{d:g}"].get(n, math.nan),
                        got[f"carry{best:g}"].get(n, math.nan),
                    )
                    if _better(new, old):
                        best = d
                carry[n], score[n] = best, got[f"carry{best:g}"].get(n, math.nan)
            _refine(carry, score, [n for n in tried if carry[n] > 0], run, kw, scores)
        else:
            notes.append("carry-over: no network's results followed the previous period's spend")
    glm = getattr(base.builder_, "encoding", None) == "onehot"
    if auto["shape"] and glm:
        found = base._find_hill(
            base.builder_, base.estimator_, panel[panel["spend"] > 0].reset_index(drop=True), nets
        )
        if found:
            got = run({"power": kw(h=()), "hill": kw(h=tuple(found))})
            scores["shape"] = got
            hill = tuple(
                n
                for n in found
                if _better(got["hill"].get(n, math.nan), got["power"].get(n, math.nan))
            )
        else:
            notes.append("shape: no network's history shows a ceiling the power law misses")
    if auto["season"] and glm:
        amp = season_amplitude(MODELS[model](period=period).respond(**kw(s=True)).fit(panel))
        scores["season_amplitude"] = round(amp, 4)
        if amp >= SEASON_AMPLITUDE:
            got = run({"common": kw(s=False), "network": kw(s=True)})
            scores["season"] = got
            total = {k: float(np.nanmean(list(v.values()))) for k, v in got.items()}
            season = _better(total["network"], total["common"])
        else:
            notes.append("season: the networks' own seasons did not differ from the common one")
    plain = not any(carry.values()) and not hill and not season
    return ResponseChoice(
        carry, hill, season, _rounded(scores), tuple(notes), base if plain else None
    )


def _refine(carry: dict, score: dict, nets: list, run, kw, scores: dict) -> None:
    """Halve the grid's step around each network's decay (``REFINE_STEPS`` times).

    On known truth a decay of 0.4 read as 0.5 (the grid's) promised 7.5% more than arrived
    and lost 0.95% of the results; refined to 0.375, -0.4% and 0.18%. Each step backtests every chosen decay ± the step at once; a network moves when its own
    score improves by ``MIN_GAIN``.
    """
    step = (CARRYOVER_GRID[-1] - CARRYOVER_GRID[-2]) / 2
    for _ in range(REFINE_STEPS):
        if not nets:
            return
        lo = {n: (max(carry[n] - step, step) if n in nets else carry[n]) for n in carry}
        hi = {n: (min(carry[n] + step, MAX_CARRYOVER) if n in nets else carry[n]) for n in carry}
        got = run({"lower": kw(c=lo), "higher": kw(c=hi)})
        scores[f"carryover_{step:g}"] = got
        for n in nets:
            for side, d in (("lower", lo[n]), ("higher", hi[n])):
                new = got[side].get(n, math.nan)
                if d != carry[n] and _better(new, score[n]):
                    carry[n], score[n] = d, new
        step /= 2


def _rounded(scores: dict) -> dict:
    out: dict = {}
    for opt, got in scores.items():
        if isinstance(got, dict) and got and isinstance(next(iter(got.values())), dict):
            out[opt] = {v: {n: round(x, 4) for n, x in by.items()} for v, by in got.items()}
        else:
            out[opt] = got
    return out


def lag_signal(fitted, panel: pd.DataFrame) -> dict:
    """Return {network: t-statistic} of results following the previous period's spend.

    On a fit without carry-over: each row's log residual against the log ratio of the
    previous period's spend to its own (same line, consecutive periods). Carry-over makes
    it positive: spend that was higher a period ago still brings results.
    """
    rows = panel[panel["spend"] > 0].reset_index(drop=True)
    mu = fitted.predict(rows)
    r = np.log((rows["results"].to_numpy(float) + 0.5) / (mu + 0.5))
    order = rows.sort_values(["network", "segment", "start"]).index.to_numpy()
    o = rows.loc[order]
    same = (o["network"].to_numpy()[1:] == o["network"].to_numpy()[:-1]) & (
        o["segment"].to_numpy()[1:] == o["segment"].to_numpy()[:-1]
    )
    ls = np.log(o["spend"].to_numpy(float))
    x = np.where(same, ls[:-1] - ls[1:], np.nan)
    y = r[order][1:]
    nets = o["network"].astype(str).to_numpy()[1:]
    out = {}
    for net in np.unique(nets):
        m = (nets == net) & np.isfinite(x)
        if m.sum() < 8:
            continue
        xx, yy = x[m] - x[m].mean(), y[m] - y[m].mean()
        sxx = float(xx @ xx)
        if sxx <= 0:
            continue
        b = float(xx @ yy) / sxx
        resid = yy - b * xx
        se = math.sqrt(float(resid @ resid) / max(m.sum() - 2, 1) / sxx)
        out[str(net)] = b / se if se > 0 else 0.0
    return out


def season_amplitude(fitted) -> float:
    """Return the largest log-scale amplitude of a network's own season in a fit."""
    names = fitted.builder_.feature_names_
    coef = np.asarray(fitted.estimator_.coef_)
    by: dict = {}
    for j, nm in enumerate(names):
        if nm.startswith("net[") and nm.rsplit(":", 1)[-1][:3] in ("sin", "cos"):
            by.setdefault(nm.split("]")[0], []).append(coef[j])
    return max((float(np.sqrt(np.sum(np.square(v)))) for v in by.values()), default=0.0)
