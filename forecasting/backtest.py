"""Backtests: whether the models forecast results better than the naive CPR an SMM would use.

Rolling origin (:func:`run_backtest`): the history is summed per line × period; the last
``folds × horizon`` periods are cut into ``folds`` consecutive test blocks of ``horizon``
periods. For each block every model is fitted on all the periods before it and predicts
the **results** of each line × period of the block **at the amount actually spent** there.
Scores, over all blocks together (rows with spend > 0):

- WAPE = sum |predicted - actual| / sum actual (lower is better);
- bias = (sum predicted - sum actual) / sum actual (0 is unbiased, > 0 over-forecasts);
- coverage = share of rows whose actual results lie within the model's low/high (10th/90th
  percentile) bounds, rounded outward to whole results; 0.8 is the target.

The horizon is the planning period (13 weeks, 3 months, 14 days) unless the history is too
short: then it is cut so that every fold still trains on at least half of the periods, and
the result says so in ``notes``. ``chosen`` is the model with the best WAPE that is not a
baseline (by default ``glm``, ``gbm`` and ``glm_eb`` compete).

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

from .baselines import cross_section_baselines, time_baselines
from .errors import ForecastingError, InsufficientDataError
from .features import PLANNING_HORIZON, aggregate_panel, check_period, select_result_type
from .models import INTERVAL, MODELS, covered
from .progress import Progress


class HistoryTooShortError(InsufficientDataError):
    """Too few periods to backtest.

    ``reason`` says why without advice, for callers (the curves' model 'auto') whose user
    cannot change the folds.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class ModelScore:
    """One model's WAPE, bias and interval coverage over all test blocks, and WAPE per fold."""

    name: str
    baseline: bool
    wape: float
    bias: float
    coverage: float | None = None
    fold_wape: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the scores as JSON-ready values, rounded."""
        return {
            "name": self.name,
            "wape": round(self.wape, 6),
            "bias": round(self.bias, 6),
            "baseline": self.baseline,
            "coverage": None if self.coverage is None else round(self.coverage, 4),
            "fold_wape": [round(x, 6) for x in self.fold_wape],
        }


@dataclass(slots=True)
class BacktestResult:
    """Scores per model; ``chosen`` is the best non-baseline model by WAPE."""

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
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    predictions: pd.DataFrame | None = None

    def score(self, name: str) -> ModelScore:
        """Return the score of model ``name`` (KeyError if it was not run)."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def beats_baselines(self) -> bool:
        """Whether the chosen model's WAPE is below every baseline's."""
        best = self.score(self.chosen).wape
        return all(best < m.wape for m in self.models if m.baseline)

    def to_dict(self) -> dict:
        """Return the result as JSON-ready values (without the predictions)."""
        return {
            "models": [m.to_dict() for m in self.models],
            "chosen": self.chosen,
            "beats_baselines": self.beats_baselines,
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


def _wape_bias(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    tot = float(y.sum())
    if tot <= 0:
        return math.nan, math.nan
    return float(np.abs(p - y).sum() / tot), float((p - y).sum() / tot)


def _score(preds: pd.DataFrame, names: Sequence[tuple[str, bool]]) -> list[ModelScore]:
    y = preds["results"].to_numpy(float)
    out = []
    for name, is_base in names:
        p = preds[f"pred:{name}"].to_numpy(float)
        wape, bias = _wape_bias(y, p)
        cov = None
        if f"low:{name}" in preds:
            lo, hi = preds[f"low:{name}"].to_numpy(float), preds[f"high:{name}"].to_numpy(float)
            cov = float(np.mean(covered(y, lo, hi)))
        folds = [
            _wape_bias(g["results"].to_numpy(float), g[f"pred:{name}"].to_numpy(float))[0]
            for _, g in preds.groupby("fold", sort=True)
        ]
        out.append(ModelScore(name, is_base, wape, bias, cov, folds))
    return out


def _candidates(period: str, models: Sequence[str], baselines) -> list:
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ForecastingError(
            f"unknown model(s) {', '.join(map(str, unknown))}; choose from {', '.join(sorted(MODELS))}"
        )
    return [MODELS[m](period=period) for m in models] + list(baselines)


def _fit_predict(model, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    model.fit(train)
    known = set(
        zip(
            train.loc[train["spend"] > 0, "network"],
            train.loc[train["spend"] > 0, "segment"],
            strict=True,
        )
    )
    pooled = np.array(
        [(n, s) not in known for n, s in zip(test["network"], test["segment"], strict=True)]
    )
    mu = model.predict(test, pooled=pooled)
    out = {f"pred:{model.name}": mu}
    if not model.baseline:
        lo, hi = model.interval(mu)
        out[f"low:{model.name}"], out[f"high:{model.name}"] = lo, hi
    return out


def _run_blocks(blocks, cands, on_progress: Progress | None, n_jobs: int) -> list[pd.DataFrame]:
    """Fit every candidate on every fold's training block and predict its test block.

    ``n_jobs > 1`` spreads the fold × model fits over processes (joblib).
    """
    tasks = [(k, c, train, test) for k, train, test in blocks for c in cands]
    if n_jobs == 1:
        outs = []
        for i, (k, c, train, test) in enumerate(tasks, 1):
            outs.append(_fit_predict(copy.deepcopy(c), train, test))
            if on_progress:
                on_progress(f"fold {k + 1}/{len(blocks)}: {c.name}", i, len(tasks))
    else:
        from joblib import Parallel, delayed

        outs = Parallel(n_jobs=n_jobs)(
            delayed(_fit_predict)(copy.deepcopy(c), tr, te) for _, c, tr, te in tasks
        )
        if on_progress:
            on_progress("backtest done", len(tasks), len(tasks))
    parts = []
    for k, _train, test in blocks:
        cols = {"fold": np.full(len(test), k)}
        for (kk, _c, _tr, _te), out in zip(tasks, outs, strict=True):
            if kk == k:
                cols.update(out)
        parts.append(pd.concat([test, pd.DataFrame(cols)], axis=1))
    return parts


def _result(preds, cands, **kw) -> BacktestResult:
    scores = _score(preds, [(c.name, c.baseline) for c in cands])
    models = [s for s in scores if not s.baseline and not math.isnan(s.wape)]
    if not models:
        raise InsufficientDataError("no model could be scored: the test periods hold no results")
    chosen = min(models, key=lambda s: s.wape).name
    return BacktestResult(models=scores, chosen=chosen, predictions=preds, **kw)


def run_backtest(
    history: pd.DataFrame,
    period: str = "week",
    horizon: int | None = None,
    folds: int = 3,
    result_type: str | None = None,
    on_progress: Progress | None = None,
    models: Sequence[str] = ("glm", "gbm", "glm_eb"),
    n_jobs: int = 1,
) -> BacktestResult:
    """Backtest the models and the baselines by rolling origin (see the module docstring).

    ``on_progress(message, done, total)`` is called after each model × fold.
    """
    check_period(period)
    if not isinstance(folds, int) or folds < 1:
        raise ForecastingError(f"folds must be an integer >= 1, got {folds!r}")
    df, rtype, warnings = select_result_type(history, result_type)
    panel = aggregate_panel(df, period)
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
    cands = _candidates(period, models, time_baselines())
    blocks = []
    for k in range(folds):
        lo = T - (folds - k) * h
        test_starts = starts[lo : lo + h]
        train = panel[panel["start"] < test_starts[0]]
        test = panel[panel["start"].isin(test_starts) & (panel["spend"] > 0)].reset_index(drop=True)
        if not test.empty:
            blocks.append((k, train, test))
    parts = _run_blocks(blocks, cands, on_progress, n_jobs)
    if not parts:
        raise InsufficientDataError("the test periods of the backtest hold no spend")
    preds = pd.concat(parts, ignore_index=True)
    return _result(
        preds,
        cands,
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
) -> BacktestResult:
    """Score the models by K-fold cross-validation over rows (ads) of cross-sectional history.

    Each row of the history (one ad, or one campaign) is one observation; folds are random.
    Baselines: the line's CPR and its network's CPR over the training folds.
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
    parts = _run_blocks(blocks, cands, on_progress, n_jobs)
    preds = pd.concat(parts, ignore_index=True)
    return _result(
        preds,
        cands,
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
