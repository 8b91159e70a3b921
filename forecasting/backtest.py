"""Backtests: whether the models forecast results better than the naive CPR an SMM would use.

Rolling origin (:func:`run_backtest`): the history is summed per line × period; the last
``folds × horizon`` periods are cut into ``folds`` consecutive test blocks of ``horizon``
periods. For each block every candidate (the models and the naive baselines) is fitted on
all the periods before it and predicts the **results** of each line × period of the block
**at the amount actually spent** there.

The choice is **nested** (see :mod:`forecasting.scoring`): for each block the candidate is
chosen on the blocks before it and scored on the block itself, so the reported "outer"
WAPE is that of a choice made without seeing the data that scores it, next to the best
baseline's and the bootstrap interval of their difference. The final choice looks at every
block; a model is used only if it beats the best baseline both there and out of sample,
otherwise the best baseline is (``chosen`` names it, ``chosen_is_baseline``). Scores: WAPE,
bias, slope WAPE (how results change with spend, on periods whose spend moved), and the
coverage of the 10-90% ranges, for small and large lines apart.

The horizon is the planning period (13 weeks, 3 months, 14 days) unless the history is too
short: then it is cut so that every fold still trains on at least half of the periods, and
the result says so in ``notes``.

Cross-sectional data (one period, many ads: the KAG audience data) is scored by K-fold
cross-validation over ads instead (:func:`run_cross_validation`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.parallel import Executor, map_ordered

from . import scoring
from .baselines import cross_section_baselines, time_baselines
from .errors import ForecastingError, InsufficientDataError
from .features import (
    PERIOD_DAYS,
    PLANNING_HORIZON,
    aggregate_panel,
    check_period,
    select_result_type,
    unseen_lines,
)
from .models import MODELS
from .progress import Progress
from .ranges import INTERVAL, Calibration
from .scoring import Candidate, Coverage


class HistoryTooShortError(InsufficientDataError):
    """Too few periods to backtest.

    ``reason`` says why without advice, for callers (the curves' model 'auto') whose user
    cannot change the folds.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, nd)


@dataclass(slots=True)
class ModelScore:
    """One candidate's scores: over every block, and out of sample (the outer blocks)."""

    name: str
    baseline: bool
    wape: float
    bias: float
    slope_wape: float = math.nan
    outer_wape: float | None = None
    coverage: Coverage = field(default_factory=lambda: Coverage(None, None, None))
    fold_wape: list[float] = field(default_factory=list)

    @property
    def score(self) -> float:
        """The score a choice looks at (:func:`forecasting.scoring.choice_score`)."""
        return scoring.choice_score(self.wape, self.slope_wape)

    def to_dict(self) -> dict:
        """Return the scores as JSON-ready values, rounded."""
        return {
            "name": self.name,
            "baseline": self.baseline,
            "wape": _r(self.wape),
            "bias": _r(self.bias),
            "slope_wape": _r(self.slope_wape),
            "score": _r(self.score),
            "outer_wape": _r(self.outer_wape),
            "coverage": self.coverage.to_dict(),
            "fold_wape": [_r(x) for x in self.fold_wape],
        }


@dataclass(frozen=True, slots=True)
class Outer:
    """The nested choice scored out of sample, against the best baseline there."""

    picks: dict[int, str]
    wape: float
    baseline: str
    baseline_wape: float
    interval: tuple[float, float] | None

    @property
    def difference(self) -> float:
        """Outer WAPE of the choices minus the best baseline's (< 0: the choices win)."""
        return self.wape - self.baseline_wape

    @property
    def beats_baseline(self) -> bool:
        """Whether the choices beat the best baseline out of sample."""
        return self.wape < self.baseline_wape

    def to_dict(self) -> dict:
        """Return the outer scores as JSON-ready values."""
        return {
            "folds": [k + 1 for k in sorted(self.picks)],
            "picks": [self.picks[k] for k in sorted(self.picks)],
            "wape": _r(self.wape),
            "baseline": self.baseline,
            "baseline_wape": _r(self.baseline_wape),
            "difference": _r(self.difference),
            "interval": None if self.interval is None else [_r(x) for x in self.interval],
            "interval_level": round(BOOTSTRAP_LEVEL, 4),
            "beats_baseline": self.beats_baseline,
        }


BOOTSTRAP_LEVEL = scoring.BOOTSTRAP_INTERVAL[1] - scoring.BOOTSTRAP_INTERVAL[0]


@dataclass(slots=True)
class BacktestResult:
    """Scores per candidate, the nested choice's outer scores and the final choice."""

    models: list[ModelScore]
    chosen: str
    method: str
    result_type: str
    period: str | None
    horizon: int | None
    folds: int
    n_lines: int
    n_periods: int
    n_rows: int
    outer: Outer | None = None
    calibration: Calibration | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    predictions: pd.DataFrame | None = None

    def score(self, name: str) -> ModelScore:
        """Return the score of candidate ``name`` (KeyError if it was not run)."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def chosen_is_baseline(self) -> bool:
        """Whether no model earned its place: the forecast uses the best baseline."""
        return self.score(self.chosen).baseline

    @property
    def beats_baselines(self) -> bool:
        """Whether a model is chosen and, where measured, beats the best baseline out of sample."""
        return not self.chosen_is_baseline and (self.outer is None or self.outer.beats_baseline)

    def to_dict(self) -> dict:
        """Return the result as JSON-ready values (without the predictions)."""
        return {
            "models": [m.to_dict() for m in self.models],
            "chosen": self.chosen,
            "chosen_is_baseline": self.chosen_is_baseline,
            "beats_baselines": self.beats_baselines,
            "outer": None if self.outer is None else self.outer.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "method": self.method,
            "result_type": self.result_type,
            "period": self.period,
            "horizon": self.horizon,
            "folds": self.folds,
            "interval": list(INTERVAL),
            "n_lines": self.n_lines,
            "n_periods": self.n_periods,
            "n_rows": self.n_rows,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def _candidates(period: str, models: Sequence[str], baselines) -> list:
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ForecastingError(
            f"unknown model(s) {', '.join(map(str, unknown))}; choose from {', '.join(sorted(MODELS))}"
        )
    return [MODELS[m](period=period) for m in models] + list(baselines)


def _fit_predict(model, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Fit ``model`` on ``train``; return its predictions, their error and its dispersion."""
    model.fit(train)
    pooled = unseen_lines(train, test)
    return {
        f"pred:{model.name}": model.predict(test, pooled=pooled),
        f"v:{model.name}": model.spread(test, pooled=pooled),
        f"phi:{model.name}": np.full(len(test), float(model.phi_)),
    }


def _fit_task(task: tuple) -> dict[str, np.ndarray]:
    """Fit one ``(candidate, train, test)`` task: what an executor's worker runs."""
    model, train, test = task
    return _fit_predict(model, train, test)


def _run_blocks(
    blocks, cands, on_progress: Progress | None, n_jobs: int, executor: Executor | None = None
) -> list[pd.DataFrame]:
    """Fit every candidate on every fold's training block and predict its test block.

    ``executor`` (``optimizer.parallel``): the fold × model fits run there, each on its own
    copy of the candidate, in batches; the predictions are those of the serial path.
    Otherwise ``n_jobs > 1`` spreads the fits over threads (joblib): the fits spend their
    time in numpy, scipy and LAPACK, which release the GIL, and threads share the panels
    (processes doubled the peak memory of a million-row forecast to 1.26 GB).
    """
    tasks = [(k, c, train, test) for k, train, test in blocks for c in cands]
    if executor is not None:
        outs = _run_on(executor, tasks, on_progress)
    elif n_jobs == 1:
        outs = []
        for i, (k, c, train, test) in enumerate(tasks, 1):
            outs.append(_fit_predict(copy.deepcopy(c), train, test))
            if on_progress:
                on_progress(f"fold {k + 1}/{len(blocks)}: {c.name}", i, len(tasks))
    else:
        from joblib import Parallel, delayed

        outs = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(_fit_predict)(copy.deepcopy(c), tr, te) for _, c, tr, te in tasks
        )
        if on_progress:
            on_progress("backtest done", len(tasks), len(tasks))
    parts = []
    for k, train, test in blocks:
        cols = {"fold": np.full(len(test), k), "usual": _usual(train, test)}
        for (kk, _c, _tr, _te), out in zip(tasks, outs, strict=True):
            if kk == k:
                cols.update(out)
        parts.append(pd.concat([test, pd.DataFrame(cols)], axis=1))
    return parts


def _run_on(executor: Executor, tasks: list, on_progress: Progress | None) -> list[dict]:
    """Run the fold × model fits on ``executor`` (in order; the first failure is raised)."""
    if on_progress:
        on_progress(f"backtest: {len(tasks)} fits on {executor!r}", 0, len(tasks))
    items = [(copy.deepcopy(c), train, test) for _k, c, train, test in tasks]
    outs = map_ordered(executor, _fit_task, items)
    if on_progress:
        on_progress("backtest done", len(tasks), len(tasks))
    return outs


def _usual(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Return each test row's line's median spend in the training periods (NaN if none)."""
    seen = train[train["spend"] > 0]
    med = seen.groupby(["network", "segment"], observed=True)["spend"].median()
    idx = pd.MultiIndex.from_arrays([test["network"], test["segment"]])
    return med.reindex(idx).to_numpy(float)


def _model_scores(preds, cands, time_ordered: bool, period_days: float) -> list[ModelScore]:
    y = preds["results"].to_numpy(float)
    folds = sorted(preds["fold"].unique())
    outer = [k for k in folds if not inner_empty(preds, k, time_ordered)]
    out = []
    for c in cands:
        p = preds[f"pred:{c.name}"].to_numpy(float)
        wape, bias = scoring.wape_bias(y, p)
        in_outer = np.isin(preds["fold"].to_numpy(), outer)
        out.append(
            ModelScore(
                name=c.name,
                baseline=c.baseline,
                wape=wape,
                bias=bias,
                slope_wape=scoring.slope_wape(preds, c.name),
                outer_wape=scoring.wape_bias(y[in_outer], p[in_outer])[0] if outer else None,
                coverage=scoring.coverage(preds, c.name, outer or folds, period_days, time_ordered),
                fold_wape=[
                    scoring.wape_bias(
                        g["results"].to_numpy(float), g[f"pred:{c.name}"].to_numpy(float)
                    )[0]
                    for _, g in preds.groupby("fold", sort=True)
                ],
            )
        )
    return out


def inner_empty(preds: pd.DataFrame, k: int, time_ordered: bool) -> bool:
    """Whether fold ``k`` has no inner fold to be chosen on (the first fold of a time series)."""
    return scoring.inner_of(preds, k, time_ordered).empty


def _outer(preds, cands, time_ordered: bool) -> Outer | None:
    picks = scoring.nested_picks(preds, cands, time_ordered)
    if not picks:
        return None
    mask, p = scoring.outer_predictions(preds, picks)
    sub = preds[mask]
    y = sub["results"].to_numpy(float)
    bases = [c.name for c in cands if c.baseline]
    base_w = {b: scoring.wape_bias(y, sub[f"pred:{b}"].to_numpy(float))[0] for b in bases}
    best = min(bases, key=lambda b: (math.isnan(base_w[b]), base_w[b]))
    wape = scoring.wape_bias(y, p)[0]
    ci = scoring.bootstrap_difference(sub, p, sub[f"pred:{best}"].to_numpy(float))
    return Outer(picks, wape, best, base_w[best], ci)


def _result(preds, cands, time_ordered: bool, period_days: float, **kw) -> BacktestResult:
    """Score the candidates, make the nested and the final choice (see the module docstring)."""
    cs = [Candidate(c.name, c.baseline) for c in cands]
    scores = _model_scores(preds, cs, time_ordered, period_days)
    if all(math.isnan(s.wape) for s in scores):
        raise InsufficientDataError("no model could be scored: the test periods hold no results")
    outer = _outer(preds, cs, time_ordered)
    final = scoring.choose(preds, cs)
    warnings = kw.pop("warnings")
    if final is None:
        final = min((s for s in scores if s.baseline), key=lambda s: s.wape).name
        warnings.append(
            "every model and baseline forecast worse than predicting no results at all (WAPE "
            f">= 1); using the baseline '{final}'. Check that spend and results match in the history"
        )
    if outer is not None and not outer.beats_baseline and not scores_of(scores, final).baseline:
        final = _best_baseline(preds, cs)
    return BacktestResult(
        models=scores,
        chosen=final,
        outer=outer,
        calibration=scoring.calibrate_on(preds, final, period_days),
        predictions=preds,
        warnings=warnings,
        **kw,
    )


def scores_of(scores: list[ModelScore], name: str) -> ModelScore:
    """Return ``name``'s score in ``scores``."""
    return next(s for s in scores if s.name == name)


def _best_baseline(preds, cs: list[Candidate]) -> str:
    return scoring.choose(preds, [c for c in cs if c.baseline]) or next(
        c.name for c in cs if c.baseline
    )


def time_blocks(panel: pd.DataFrame, period: str, folds: int, horizon: int | None = None):
    """Return the rolling-origin blocks ``[(k, train, test)]``, the horizon, notes, periods.

    The last ``folds × horizon`` periods form ``folds`` consecutive test blocks; the horizon
    is cut (with a note) so that every fold trains on at least half the periods (at least 4).
    """
    starts = np.sort(panel["start"].unique())
    T = len(starts)
    notes: list[str] = []
    wanted = PLANNING_HORIZON[period] if horizon is None else int(horizon)
    if wanted < 1:
        raise ForecastingError(f"horizon must be >= 1 period, got {horizon!r}")
    min_train = max(4, math.ceil(T / 2))
    h = wanted
    if T - folds * h < min_train:
        h = (T - min_train) // folds
        if h < 1:
            reason = (
                f"{T} {period}s of history are too few for a {folds}-fold backtest (each fold "
                f"trains on at least {min_train} {period}s)"
            )
            raise HistoryTooShortError(reason, f"{reason}; use fewer folds or more history")
        notes.append(
            f"horizon shortened from {wanted} to {h} {period}s: {T} {period}s of history and "
            f"{folds} folds, each training on at least {min_train} {period}s"
        )
    blocks = []
    for k in range(folds):
        lo = T - (folds - k) * h
        test_starts = starts[lo : lo + h]
        train = panel[panel["start"] < test_starts[0]]
        test = panel[panel["start"].isin(test_starts) & (panel["spend"] > 0)].reset_index(drop=True)
        if not test.empty:
            blocks.append((k, train, test))
    return blocks, h, notes, T


def run_backtest(
    history: pd.DataFrame,
    period: str = "week",
    horizon: int | None = None,
    folds: int = 3,
    result_type: str | None = None,
    on_progress: Progress | None = None,
    models: Sequence[str] = ("glm", "gbm", "glm_eb"),
    n_jobs: int = 1,
    panel: pd.DataFrame | None = None,
    respond: dict | None = None,
    *,
    executor: Executor | None = None,
) -> BacktestResult:
    """Backtest the models and the baselines by rolling origin (see the module docstring).

    ``on_progress(message, done, total)`` is called after each model × fold. ``panel``:
    the history already summed per period (``aggregate_panel``), to skip doing it again.
    ``respond``: how the models model the response (``PanelForecaster.respond``'s keywords,
    e.g. the events), the same for every model. ``executor`` (``optimizer.parallel``): where
    the fold × model fits run (None: here; ``n_jobs`` threads); the results are the same.
    """
    check_period(period)
    if not isinstance(folds, int) or folds < 1:
        raise ForecastingError(f"folds must be an integer >= 1, got {folds!r}")
    df, rtype, warnings = select_result_type(history, result_type)
    if panel is None:
        panel = aggregate_panel(df, period)
    blocks, h, notes, T = time_blocks(panel, period, folds, horizon)
    cands = _candidates(period, models, time_baselines())
    if respond:
        cands = [c if c.baseline else c.respond(**respond) for c in cands]
    parts = _run_blocks(blocks, cands, on_progress, n_jobs, executor)
    if not parts:
        raise InsufficientDataError("the test periods of the backtest hold no spend")
    preds = pd.concat(parts, ignore_index=True)
    if folds == 1:
        notes.append(
            "one fold: the model is chosen and scored on the same periods; use 2 or more folds "
            "for an out-of-sample score"
        )
    return _result(
        preds,
        cands,
        time_ordered=True,
        period_days=PERIOD_DAYS[period],
        method="rolling-origin",
        result_type=rtype,
        period=period,
        horizon=h,
        folds=folds,
        n_lines=int(panel.groupby(["network", "segment"]).ngroups),
        n_periods=T,
        n_rows=len(preds),
        notes=notes,
        warnings=warnings,
    )


def run_cross_validation(
    history: pd.DataFrame,
    folds: int = 5,
    result_type: str | None = None,
    random_state: int = 0,
    on_progress: Progress | None = None,
    models: Sequence[str] = ("glm", "gbm", "glm_eb"),
    n_jobs: int = 1,
    *,
    executor: Executor | None = None,
) -> BacktestResult:
    """Score the models by K-fold cross-validation over rows (ads) of cross-sectional history.

    Each row of the history (one ad, or one campaign) is one observation; folds are random.
    Baselines: the line's CPR and its network's CPR over the training folds. ``executor``:
    where the fits run, as in :func:`run_backtest`.
    """
    df, rtype, warnings = select_result_type(history, result_type)
    if "campaign" not in df:
        df = df.assign(campaign=np.arange(len(df)).astype(str))
    panel = aggregate_panel(df, "day", by_campaign=True)
    panel["start"] = panel["start"].min()  # one period: no trend, no season
    panel = panel[panel["spend"] > 0].reset_index(drop=True)
    if len(panel) < 2 * folds:
        raise InsufficientDataError(
            f"{len(panel)} rows with spend are too few for {folds}-fold cross-validation"
        )
    rng = np.random.default_rng(random_state)
    fold_of = rng.permutation(np.arange(len(panel)) % folds)
    cands = _candidates("day", models, cross_section_baselines())
    blocks = [
        (k, panel[fold_of != k], panel[fold_of == k].reset_index(drop=True)) for k in range(folds)
    ]
    parts = _run_blocks(blocks, cands, on_progress, n_jobs, executor)
    preds = pd.concat(parts, ignore_index=True)
    return _result(
        preds,
        cands,
        time_ordered=False,
        period_days=7.0,
        method="cross-validation",
        result_type=rtype,
        period=None,
        horizon=None,
        folds=folds,
        n_lines=int(panel.groupby(["network", "segment"]).ngroups),
        n_periods=1,
        n_rows=len(preds),
        notes=["cross-sectional: random folds over ads; scores are at each ad's actual spend"],
        warnings=warnings,
    )
