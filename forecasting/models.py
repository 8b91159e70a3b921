"""Cost-per-result models: three scikit-learn estimators and the panel forecasters built on them.

The estimators model **results** (a count) with a log link, so that

    log E[results] = b0 + b·log(spend) + (network, segment, trend, season effects)
    CPR = spend / E[results] ∝ spend^(1 - b)

``b < 1`` is diminishing returns: the cost per result rises with spend. Predicting results
at a given spend, rather than CPR, keeps zero-result periods in the fit and makes the
backtest score what the optimizer uses.

- :class:`PoissonRidgeRegressor` is a Poisson GLM (log link) fitted by Newton's method with a
  ridge penalty whose strength can differ per column (``penalty``): the features of
  :class:`forecasting.features.FeatureBuilder` leave network levels nearly free and shrink
  segment effects toward their network (partial pooling).
- :class:`EmpiricalBayesPoissonRegressor` is the same GLM with the penalty of each group of
  columns learnt from the data (type-II maximum likelihood), for :class:`EBGLMForecaster`.
- :class:`PoissonGBMRegressor` is scikit-learn's ``HistGradientBoostingRegressor`` with the
  Poisson loss and results constrained to rise with the spend column.

:class:`GLMForecaster`, :class:`EBGLMForecaster` and :class:`GBMForecaster` fit them on a panel (see
:mod:`forecasting.features`) and also estimate the spread of results around the forecast
(negative-binomial variance ``mu + phi·mu²``, ``phi`` from a time hold-out) for the
low/high (10th/90th percentile) intervals.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from .carryover import EM_ROUNDS, EM_STEP, grid_of, lifetime_targets, observed
from .errors import InsufficientDataError
from .features import (
    PERIOD_DAYS,
    PLANNING_HORIZON,
    FeatureBuilder,
    line_keys,
    per_line,
    unseen_lines,
)
from .ranges import estimate_dispersion, fit_spread, row_variance
from .shapes import fit_hill

#: shape penalties (elasticity, trend, season, weekday) and level half-lives tried by the GLM
SHAPE_GRID = (1.0, 30.0, 1000.0)
LEVEL_GRID = (4.0, 13.0)
#: a line gets a recent-level correction only with at least this many periods of history
LEVEL_MIN_PERIODS = 8
_ETA_MAX = 100.0


def _weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim == 0:
        return np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n},)")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    if w.sum() <= 0:
        raise ValueError(
            "the sample weights are all zero: at least one sample needs a positive weight"
        )
    return w


class PoissonRidgeRegressor(RegressorMixin, BaseEstimator):
    """Poisson regression with a log link and a per-column ridge penalty.

    Minimises ``sum_i w_i (mu_i - y_i log mu_i) + alpha/2 * sum_j penalty_j coef_j**2``
    with ``log mu = intercept_ + X @ coef_`` by damped Newton steps. ``alpha`` is in units
    of results: a segment effect backed by much fewer than ``alpha`` results stays close to
    its network's level. The intercept is not penalised.

    Parameters
    ----------
    alpha : float, default=1.0
        Overall penalty strength (>= 0).
    penalty : array-like of shape (n_features,) or None
        Relative penalty of each column (>= 0); None means 1 for every column.
    max_iter : int, default=100
        Newton iterations.
    tol : float, default=1e-8
        Stop when the Newton decrement falls below ``tol`` times the objective's size.
    offset_feature : int or None, default=None
        A column that enters ``log mu`` with its coefficient fixed at 1 (an offset; its
        ``coef_`` entry stays 0). With log spend there, every other coefficient describes
        cost per result, and zero coefficients mean "results proportional to spend".
    """

    def __init__(self, alpha=1.0, penalty=None, max_iter=100, tol=1e-8, offset_feature=None):
        self.alpha = alpha
        self.penalty = penalty
        self.max_iter = max_iter
        self.tol = tol
        self.offset_feature = offset_feature

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.input_tags.sparse = True  # CSR designs (see ``glm_design``)
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit ``intercept_`` and ``coef_`` to counts ``y`` by damped Newton steps."""
        # one BLAS thread: on small dense systems thread start-up costs more than it saves
        # (measured here: a 600-column Newton step 4x slower with 2 threads)
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        X, y, w, pen, off, Xa = self._prepare(X, y, sample_weight)
        beta = self._newton(Xa, y, w, off, float(self.alpha) * pen)
        self.intercept_ = float(beta[0])
        self.coef_ = beta[1:].copy()
        return self

    def _prepare(self, X, y, sample_weight):
        """Return validated X, y, weights, relative penalties, offset and design with intercept."""
        X, y = validate_data(self, X, y, accept_sparse="csr", y_numeric=True, dtype=np.float64)
        if not (np.isscalar(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a number >= 0, got {self.alpha!r}")
        if not (isinstance(self.max_iter, int | np.integer) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        if np.any(y < 0):
            raise ValueError(f"{type(self).__name__} needs y >= 0 (results are counts)")
        n, p = X.shape
        w = _weights(sample_weight, n)
        pen = np.ones(p) if self.penalty is None else np.asarray(self.penalty, dtype=float)
        if pen.shape != (p,) or np.any(pen < 0) or not np.all(np.isfinite(pen)):
            raise ValueError(f"penalty must hold {p} finite numbers >= 0, got shape {pen.shape}")
        off = self._offset(X)
        if sparse.issparse(X):
            # already sparse (see ``glm_design``): no dense copy at all
            Xa = sparse.hstack([np.ones((n, 1)), X], format="csr")
            if self.offset_feature is not None:  # the offset is not also a feature
                Xa.data[Xa.indices == 1 + int(self.offset_feature)] = 0.0
                Xa.eliminate_zeros()
            return X, y, w, pen, off, Xa
        Xa = np.hstack([np.ones((n, 1)), X])
        if self.offset_feature is not None:
            Xa[:, 1 + int(self.offset_feature)] = 0.0  # the offset is not also a feature
        if p > 50 and np.count_nonzero(Xa) < 0.25 * Xa.size:
            # one-hot network/segment columns: a sparse Hessian costs n·nnz² instead of n·p²
            Xa = sparse.csr_matrix(Xa)
        return X, y, w, pen, off, Xa

    @staticmethod
    def _hessian(Xa, w, mu, P) -> np.ndarray:
        """Return the penalised Hessian of the objective (intercept first)."""
        if sparse.issparse(Xa):
            # scale the rows of a CSR copy: no COO intermediate (25% faster per Newton step)
            Xw = Xa.tocsr(copy=True)
            Xw.data *= np.repeat(w * mu, np.diff(Xw.indptr))
            H = (Xw.T @ Xa).toarray()
        else:
            H = (Xa * (w * mu)[:, None]).T @ Xa
        H[np.diag_indices_from(H)] += np.concatenate([[0.0], P]) + 1e-10 * (
            1.0 + np.trace(H) / H.shape[0]
        )
        return H

    def _newton(self, Xa, y, w, off, pen_abs, beta=None) -> np.ndarray:
        """Minimise by damped Newton steps; ``pen_abs`` holds the absolute penalty per column."""
        p = Xa.shape[1] - 1
        P = np.concatenate([[0.0], pen_abs])
        if beta is None:
            beta = np.zeros(p + 1)
            ratio = float(w @ y) / max(float(w @ np.exp(np.clip(off, -_ETA_MAX, _ETA_MAX))), 1e-300)
            beta[0] = np.log(max(ratio, 1e-10))

        def objective(b):
            eta = np.clip(Xa @ b + off, -_ETA_MAX, _ETA_MAX)
            return float(w @ (np.exp(eta) - y * eta) + 0.5 * P @ (b * b))

        f = objective(beta)
        self.n_iter_ = 0
        for it in range(1, self.max_iter + 1):
            eta = np.clip(Xa @ beta + off, -_ETA_MAX, _ETA_MAX)
            mu = np.exp(eta)
            grad = Xa.T @ (w * (mu - y)) + P * beta
            H = self._hessian(Xa, w, mu, pen_abs)
            try:
                step = np.linalg.solve(H, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(H, grad, rcond=None)[0]
            decrement = float(grad @ step)
            t = 1.0
            while True:
                cand = beta - t * step
                fc = objective(cand)
                if fc <= f - 1e-4 * t * decrement or t < 1e-10:
                    break
                t *= 0.5
            beta, f_old, f = cand, f, fc
            self.n_iter_ = it
            if (
                decrement / 2 <= self.tol * (1.0 + abs(f))
                or abs(f_old - f) <= self.tol * (1.0 + abs(f)) * 1e-3
            ):
                break
        return beta

    def _offset(self, X) -> np.ndarray:
        if self.offset_feature is None:
            return np.zeros(X.shape[0])
        j = int(self.offset_feature)
        if not 0 <= j < X.shape[1]:
            raise ValueError(f"offset_feature={self.offset_feature} but X has {X.shape[1]} columns")
        if sparse.issparse(X):
            return X[:, [j]].toarray().ravel()
        return X[:, j]

    def predict(self, X):
        """Return the expected counts ``exp(intercept_ + X @ coef_ + offset)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float64)
        eta = self.intercept_ + np.asarray(X @ self.coef_).ravel() + self._offset(X)
        return np.exp(np.clip(eta, -_ETA_MAX, _ETA_MAX))


class EmpiricalBayesPoissonRegressor(PoissonRidgeRegressor):
    """:class:`PoissonRidgeRegressor` whose ridge penalty per group of columns is learnt.

    Each group ``g`` of columns gets a Gaussian prior ``coef_j ~ N(0, 1/lambda_g)``, and
    ``lambda_g`` maximises the Laplace approximation of the marginal likelihood (empirical
    Bayes, "type-II maximum likelihood") by MacKay's fixed point::

        gamma_g  = sum_{j in g} (1 - lambda_g [H^-1]_jj)     # parameters the data determine
        lambda_g = gamma_g / sum_{j in g} coef_j**2

    with ``H`` the penalised Hessian at the fit, refitting (warm-started) until the penalties
    settle or stop changing the fitted log means by more than 0.001. A group whose effects the data cannot tell apart from noise gets a large penalty
    (its columns are pooled to 0); a group with real, well-measured spread keeps it.

    Parameters
    ----------
    alpha, penalty, max_iter, tol, offset_feature
        As in :class:`PoissonRidgeRegressor`; ``alpha * penalty`` is the starting penalty
        of every column and stays the penalty of the columns outside any group.
    groups : array-like of int, shape (n_features,), or None
        Group of each column (``-1``: fixed penalty). None: every column but the offset in
        one group (a single learnt ridge penalty).
    evidence_iter : int, default=20
        At most this many penalty updates.
    penalty_bounds : (float, float), default=(1e-3, 1e6)
        Learnt penalties are kept within these bounds.
    """

    def __init__(
        self,
        alpha=1.0,
        penalty=None,
        groups=None,
        max_iter=100,
        tol=1e-8,
        offset_feature=None,
        evidence_iter=20,
        penalty_bounds=(1e-3, 1e6),
    ):
        super().__init__(
            alpha=alpha, penalty=penalty, max_iter=max_iter, tol=tol, offset_feature=offset_feature
        )
        self.groups = groups
        self.evidence_iter = evidence_iter
        self.penalty_bounds = penalty_bounds

    def _fit(self, X, y, sample_weight):  # noqa: C901 (long: not split yet)
        X, y, w, pen, off, Xa = self._prepare(X, y, sample_weight)
        p = X.shape[1]
        if self.groups is None:
            groups = np.zeros(p, dtype=int)
            if self.offset_feature is not None:
                groups[int(self.offset_feature)] = -1
        else:
            groups = np.asarray(self.groups)
            if groups.shape != (p,) or not np.issubdtype(groups.dtype, np.integer):
                raise ValueError(f"groups must hold {p} integers (-1: fixed), got {self.groups!r}")
        if not (isinstance(self.evidence_iter, int | np.integer) and self.evidence_iter >= 0):
            raise ValueError(f"evidence_iter must be an int >= 0, got {self.evidence_iter!r}")
        lo, hi = (float(b) for b in self.penalty_bounds)
        members = [np.flatnonzero(groups == g) for g in np.unique(groups[groups >= 0])]
        pen_abs = float(self.alpha) * pen
        for m in members:  # a group starts from one penalty: its members' mean
            pen_abs[m] = np.clip(pen_abs[m].mean(), lo, hi) if pen_abs[m].mean() > 0 else 1.0
        beta = self._newton(Xa, y, w, off, pen_abs)
        self.n_evidence_iter_ = 0
        for it in range(1, self.evidence_iter + 1):
            if not members:
                break
            mu = np.exp(np.clip(Xa @ beta + off, -_ETA_MAX, _ETA_MAX))
            H = self._hessian(Xa, w, mu, pen_abs)
            try:
                h_inv = np.diag(np.linalg.inv(H))[1:]
            except np.linalg.LinAlgError:
                h_inv = np.diag(np.linalg.pinv(H))[1:]
            coef = beta[1:]
            new = pen_abs.copy()
            for m in members:
                lam = pen_abs[m[0]]
                gamma = float(np.sum(1.0 - lam * h_inv[m]))
                ss = float(coef[m] @ coef[m])
                new[m] = np.clip(max(gamma, 1e-9) / max(ss, 1e-12), lo, hi)
            idx = np.concatenate(members)
            settled = np.allclose(np.log(new[idx]), np.log(pen_abs[idx]), atol=1e-2)
            pen_abs, eta_old = new, Xa @ beta
            beta = self._newton(Xa, y, w, off, pen_abs, beta)
            self.n_evidence_iter_ = it
            # done when the penalties settle, or when they no longer move the fit (a group
            # pooled toward 0 sees its penalty grow slowly without end: MacKay's fixed point)
            if settled or np.max(np.abs(Xa @ beta - eta_old)) < 1e-3:
                break
        self.penalty_ = pen_abs
        self.intercept_ = float(beta[0])
        self.coef_ = beta[1:].copy()
        return self


def glm_design(builder: FeatureBuilder, rows: pd.DataFrame):
    """Return the GLM's design for ``rows``: CSR when it is mostly zeros, else dense.

    Mostly zeros: the one-hot columns of many lines.

    Built sparse directly (never a dense copy) and shared by the GLM's two passes (Poisson,
    then negative-binomial weights): on the 1M-row benchmark this took a glm_eb fit from
    4.0 to 2.0 s.
    """
    n, p = len(rows), len(builder.feature_names_)
    if p > 50:
        X = builder.transform(rows, as_sparse=True)
        if X.nnz < 0.25 * n * p:
            return X
        return X.toarray()
    return builder.transform(rows)


def _threads(n_rows: int):
    """Limit OpenMP to one thread for small fits (under 200,000 rows).

    Thread start-up costs more than it saves there (measured: 200 boosting rounds on 240
    rows took 4.3 s with 2 threads, 0.18 s with 1).
    """
    return threadpool_limits(limits=1 if n_rows < 200_000 else None, user_api="openmp")


class PoissonGBMRegressor(RegressorMixin, BaseEstimator):
    """Gradient boosting of results (Poisson loss, log link), rising with the spend column.

    A thin layer over ``HistGradientBoostingRegressor``: column ``spend_feature`` gets a
    monotonic increasing constraint (more spend never buys fewer results).

    Parameters
    ----------
    spend_feature : int or None, default=0
        Column holding log spend; None for no monotonic constraint.
    categorical_features : list of int or None
        Columns holding category codes.
    learning_rate, max_iter, max_leaf_nodes, min_samples_leaf, l2_regularization
        As in ``HistGradientBoostingRegressor``.
    random_state : int, RandomState or None
    """

    def __init__(
        self,
        spend_feature=0,
        categorical_features=None,
        learning_rate=0.05,
        max_iter=200,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        random_state=None,
    ):
        self.spend_feature = spend_feature
        self.categorical_features = categorical_features
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the boosted trees to counts ``y`` (a constant 0 when every ``y`` is 0)."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        if np.any(y < 0):
            raise ValueError("PoissonGBMRegressor needs y >= 0 (results are counts)")
        p = X.shape[1]
        mono = None
        if self.spend_feature is not None:
            if not (0 <= int(self.spend_feature) < p):
                raise ValueError(f"spend_feature={self.spend_feature} but X has {p} columns")
            mono = [0] * p
            mono[int(self.spend_feature)] = 1
        self.model_ = HistGradientBoostingRegressor(
            loss="poisson",
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            monotonic_cst=mono,
            categorical_features=self.categorical_features,
            early_stopping=False,
            random_state=self.random_state,
        )
        if np.all(y == 0):  # the Poisson loss needs some positive results
            _weights(sample_weight, X.shape[0])
            self.constant_ = 0.0
            self.n_iter_ = 0
        else:
            self.constant_ = None
            with _threads(X.shape[0]):
                self.model_.fit(X, y, sample_weight=sample_weight)
            self.n_iter_ = self.model_.n_iter_
        return self

    def predict(self, X):
        """Return the expected counts for the rows of ``X``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.constant_ is not None:
            return np.full(X.shape[0], self.constant_)
        with _threads(X.shape[0]):
            return self.model_.predict(X)


# ---------------------------------------------------------------------------------------
# panel forecasters
# ---------------------------------------------------------------------------------------


class PanelForecaster:
    """Shared fit/predict over a panel; subclasses build the estimator and its features.

    Parameters
    ----------
    period : "day", "week" or "month" (the panel's period)
    half_life : periods, optional
        Weight the training periods so that weight halves every ``half_life`` periods back
        (None: all periods count the same; the default, best on the shared datasets).
    level_half_life : periods, optional
        Recent-level correction of each line with >= ``LEVEL_MIN_PERIODS`` periods (see
        ``_levels``); None turns it off.
    level_prior : results
        Prior pulling a line's level correction toward 1.
    random_state : int
        Seeds the estimators and the random hold-out of cross-sectional data.
    """

    name = "model"
    baseline = False

    def __init__(
        self,
        period: str = "week",
        half_life: float | None = None,
        level_half_life: float | None = 4.0,
        level_prior: float = 10.0,
        random_state: int | None = 0,
    ):
        self.period = period
        self.half_life = half_life
        self.level_half_life = level_half_life
        self.level_prior = level_prior
        self.random_state = random_state

    # subclasses: return (builder, estimator) fitted on rows
    def _fit_core(self, rows: pd.DataFrame):  # pragma: no cover - abstract
        raise NotImplementedError

    def _recency(self, rows: pd.DataFrame) -> np.ndarray | None:
        """Return sample weights halving every ``half_life`` periods back from the last one."""
        if not self.half_life:
            return None
        starts = pd.DatetimeIndex(rows["start"])
        age = (starts.max() - starts).days.to_numpy(dtype=float) / PERIOD_DAYS[self.period]
        return 0.5 ** (age / float(self.half_life))

    def respond(
        self,
        carryover: dict | None = None,
        hill: tuple | None = None,
        season_by_network: bool = False,
        events=None,
        name: str | None = None,
        em_rounds: int = EM_ROUNDS,
    ) -> PanelForecaster:
        """Set how the response is modelled (before ``fit``); return self.

        ``carryover``: {network: decay} (:mod:`forecasting.carryover`); ``hill``: the networks
        whose curve may be a Hill curve (:mod:`forecasting.shapes`; kept where it fits
        better); ``season_by_network``: a season per network pooled toward the common one;
        ``events``: a ``forecasting.events.Events`` (a column per event name, one for
        promotions); ``name``: the candidate's name in a backtest; ``em_rounds``: the EM
        rounds of the carry-over's fit.
        """
        self.em_rounds = int(em_rounds)
        self.carryover = {k: float(v) for k, v in (carryover or {}).items() if v > 0}
        self.hill_networks = tuple(hill or ())
        self.season_by_network = bool(season_by_network)
        self.events = events
        if name:
            self.name = name
        return self

    def fit(self, panel: pd.DataFrame) -> PanelForecaster:
        """Fit on the rows with spend: tuning, the model, recent levels, the spread (one fit).

        With carry-over the model is fitted to each period's lifetime results by EM
        (:mod:`forecasting.carryover`), from every row of ``panel`` (results seen in periods
        without spend come from earlier spend).
        """
        rows = panel[panel["spend"] > 0].reset_index(drop=True)
        if rows.empty:
            raise InsufficientDataError("no period with spend > 0 to fit a model on")
        self.level_half_life_ = self.level_half_life
        self._tune(rows)
        self.grid_ = None
        if getattr(self, "carryover", None):
            mu = self._fit_carryover(panel, rows)
        else:
            self.builder_, self.estimator_ = self._fit_shaped(rows)
            mu = self.estimator_.predict(self.builder_.transform(rows))
        self.level_ = self._levels(rows, mu)
        factors = self._level_factors(rows, np.zeros(len(rows), bool), self.level_)
        mu = mu * factors
        self.context_ = None
        if self.grid_ is not None:  # what the history's spend still brings after it
            self.context_ = pd.DataFrame(
                {
                    "network": rows["network"].astype(str).to_numpy(),
                    "segment": rows["segment"].astype(str).to_numpy(),
                    "start": pd.DatetimeIndex(rows["start"]),
                    "life": self.grid_life_[self.grid_ri_] * factors,
                }
            )
        p = len(getattr(self.builder_, "feature_names_", ())) + 1
        self.phi_, spreads = fit_spread(rows, mu, n_params=p)
        self.spreads_ = self._with_level_error(rows, mu, spreads)
        return self

    def _fit_shaped(self, rows: pd.DataFrame, hill: bool = True):
        """Return (builder, estimator) fitted on rows: the power law, then Hill where it fits."""
        self.hill_ = {}
        b, e = self._fit_core(rows)
        nets = getattr(self, "hill_networks", ())
        if not (hill and nets and getattr(b, "encoding", None) == "onehot"):
            return b, e
        found = self._find_hill(b, e, rows, nets)
        if not found:
            return b, e
        self.hill_ = found
        return self._fit_core(rows)

    def _find_hill(self, b, e, rows: pd.DataFrame, nets) -> dict:
        """Return {network: (κ, c)} where a Hill curve fits ``rows`` better than the power law."""
        X = b.transform(rows)
        coef = np.asarray(e.coef_)
        cols = b.spend_columns()
        x0 = np.asarray(X[:, [0]].toarray() if sparse.issparse(X) else X[:, 0]).ravel()
        full = e.intercept_ + np.asarray(X @ coef).ravel() + x0
        spend_part = np.asarray(X[:, cols] @ coef[cols]).ravel() + x0
        keep = rows["network"].isin(nets).to_numpy()
        if not keep.any():
            return {}
        log_s = np.log(rows["spend"].to_numpy(float)) - b.log_spend_mean_
        li = pd.MultiIndex.from_tuples(b.lines_).get_indexer(line_keys(rows))
        centre = b.line_log_spend_[np.maximum(li, 0)]
        w = rows.get("_weight")
        y = rows["results"].to_numpy(float) * (1.0 if w is None else w.to_numpy(float))
        other = full - spend_part + (0.0 if w is None else np.log(w.to_numpy(float)))
        return fit_hill(
            y[keep],
            other[keep],
            spend_part[keep],
            log_s[keep],
            centre[keep],
            rows["network"].to_numpy(object)[keep],
            li[keep],
        )

    def _fit_carryover(self, panel: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
        """Fit lifetime results by EM; return the results each row is expected to see."""
        grid = grid_of(panel, self.period, self.carryover)
        pos = panel["spend"].to_numpy(float) > 0
        ri = (grid.line_of[pos], grid.period_of[pos])
        seen = grid.put(panel["results"].to_numpy(float))
        spend = grid.put(panel["spend"].to_numpy(float))
        rate = seen.sum(axis=1) / np.maximum(spend.sum(axis=1), 1e-300)
        life = spend * rate[:, None]  # a flat cost per result to start from
        rounds = getattr(self, "em_rounds", EM_ROUNDS)
        for r in range(rounds):
            att, expo = lifetime_targets(grid, seen, life)
            fit_rows = rows.assign(results=att[ri] / expo[ri], _weight=expo[ri])
            b, e = self._fit_shaped(fit_rows, hill=r == rounds - 1)
            new = np.zeros(grid.shape)
            new[ri] = e.predict(b.transform(rows))
            if r < rounds - 1:  # over-relaxed on the log scale: EM alone crawls
                new[ri] = life[ri] * (new[ri] / np.maximum(life[ri], 1e-300)) ** EM_STEP
            life = new
        self.builder_, self.estimator_ = b, e
        self.grid_, self.grid_life_, self.grid_ri_ = grid, life, ri
        return observed(grid, life)[ri]

    def _with_level_error(self, rows: pd.DataFrame, mu: np.ndarray, spreads: dict) -> dict:
        """Add the recent level's own error to each corrected line's level variance ``v0``.

        A recent level is read on the last few periods (weights halving every
        ``level_half_life``), not on the whole history the fit's ``v0`` counts: its
        log-scale variance is about ``sum(w²·Var y) / (sum(w·y) + prior)²`` with the
        negative-binomial ``Var y = mu + phi·mu²``. It lasts over every planned period, so a
        plan's total carries it (``optimizer/risk.py``).
        """
        w = self._level_weights(rows)
        if not self.level_ or w is None:
            return spreads
        t = (
            pd.DataFrame(
                {
                    "network": rows["network"],
                    "segment": rows["segment"],
                    "num": w * w * mu * (1.0 + self.phi_ * mu),
                    "y": w * rows["results"].to_numpy(float),
                }
            )
            .groupby(["network", "segment"], observed=True)[["num", "y"]]
            .sum()
        )
        out = dict(spreads)
        for key in self.level_:
            if key in out and key in t.index:
                extra = float(t.at[key, "num"]) / (float(t.at[key, "y"]) + self.level_prior) ** 2
                out[key] = replace(out[key], v0=out[key].v0 + extra)
        return out

    def _levels(self, rows: pd.DataFrame, mu: np.ndarray) -> dict:
        """Return the recent level of each line: results over fitted results in its latest periods.

        ``mu`` holds the fitted results of ``rows``. Weights halve every ``level_half_life``
        periods back; ``level_prior`` results of prior pull a line with little recent data
        back to 1 (no correction).
        """
        w = self._level_weights(rows)
        if w is None or rows["start"].nunique() < 2:
            return {}
        t = (
            pd.DataFrame(
                {
                    "network": rows["network"],
                    "segment": rows["segment"],
                    "y": w * rows["results"],
                    "mu": w * mu,
                    "n": 1,
                }
            )
            .groupby(["network", "segment"], observed=True)[["y", "mu", "n"]]
            .sum()
        )
        t = t[t["n"] >= LEVEL_MIN_PERIODS]  # a short line's level is its (pooled) segment effect
        k = self.level_prior
        return ((t["y"] + k) / (t["mu"] + k)).to_dict()

    def _level_weights(self, rows: pd.DataFrame) -> np.ndarray | None:
        """Return each row's weight in the recent level (halving every ``level_half_life``).

        None when the model makes no recent-level correction.
        """
        hl = getattr(self, "level_half_life_", self.level_half_life)
        if not hl:
            return None
        starts = pd.DatetimeIndex(rows["start"])
        age = (starts.max() - starts).days.to_numpy(dtype=float) / PERIOD_DAYS[self.period]
        return 0.5 ** (age / float(hl))

    @staticmethod
    def _level_factors(panel: pd.DataFrame, pooled: np.ndarray, levels: dict) -> np.ndarray:
        """Return each row's recent-level factor (1 for pooled rows and lines without one)."""
        return np.where(np.asarray(pooled, bool), 1.0, per_line(panel, levels, 1.0))

    def _response_features(self) -> dict:
        """Return the FeatureBuilder's response options (season per network, events, Hill)."""
        return {
            "season_by_network": getattr(self, "season_by_network", False),
            "events": getattr(self, "events", None),
            "hill": getattr(self, "hill_", None),
        }

    def _weights(self, rows: pd.DataFrame) -> np.ndarray | None:
        """Return the fit's sample weights: recency times the EM's exposure (``_weight``)."""
        w = self._recency(rows)
        if "_weight" in rows:
            e = rows["_weight"].to_numpy(float)
            w = e if w is None else w * e
        return w

    def _tune(self, rows: pd.DataFrame) -> None:
        """Choose hyperparameters on a hold-out (subclasses); the default keeps them."""

    def _split(self, rows: pd.DataFrame):
        """Return (train, test) for tuning and for the spread, or None if too short.

        The test part is the last quarter of the periods (at most a planning horizon), or a
        random quarter of the rows of cross-sectional data.
        """
        starts = np.sort(rows["start"].unique())
        if len(starts) >= 6:
            h = int(np.clip(round(0.25 * len(starts)), 1, PLANNING_HORIZON.get(self.period, 13)))
            cut = starts[-h]
            train, test = rows[rows["start"] < cut], rows[rows["start"] >= cut]
        elif len(starts) == 1 and len(rows) >= 20:
            rng = np.random.default_rng(self.random_state)
            mask = rng.random(len(rows)) < 0.25
            train, test = rows[~mask], rows[mask]
        else:
            return None
        if train.empty or test.empty:
            return None
        return train, test

    def _holdout_predict(self, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
        b, e = self._fit_core(train)
        lv = self._levels(train, e.predict(b.transform(train)))
        return self._predict_with(b, e, test, unseen_lines(train, test), lv)

    def _predict_with(self, builder, estimator, panel, pooled=None, levels=None) -> np.ndarray:
        out = np.zeros(len(panel))
        pos = panel["spend"].to_numpy(dtype=float) > 0
        if pos.any():
            pm = np.zeros(len(panel), bool) if pooled is None else np.asarray(pooled, bool)
            out[pos] = estimator.predict(builder.transform(panel[pos], pooled=pm[pos]))
            out *= self._level_factors(panel, pm, levels or {})
        return out

    def predict_lifetime(self, panel: pd.DataFrame, pooled=None) -> np.ndarray:
        """Return the results each row's spend brings over its lifetime (0 where spend is 0).

        Without carry-over, the results of its own period. ``pooled`` marks rows that take
        their network's estimate (lines unseen in training).
        """
        return self._predict_with(self.builder_, self.estimator_, panel, pooled, self.level_)

    def predict(self, panel: pd.DataFrame, pooled=None) -> np.ndarray:
        """Return the results each row's period is expected to see at its spend.

        With carry-over: its own spend's share plus what the spend of earlier periods (the
        history fitted, then the rows of ``panel`` before it) still brings.
        """
        life = self.predict_lifetime(panel, pooled)
        if getattr(self, "context_", None) is None:
            return life
        new = pd.DataFrame(
            {
                "network": panel["network"].astype(str).to_numpy(),
                "segment": panel["segment"].astype(str).to_numpy(),
                "start": pd.DatetimeIndex(panel["start"]),
                "life": life,
            }
        )
        both = pd.concat([self.context_, new], ignore_index=True)
        both = both[~both.duplicated(["network", "segment", "start"], keep="last")]
        full = grid_of(both, self.period, self.carryover)
        mu = observed(full, full.put(both["life"].to_numpy(float)))
        return full.take(mu)[len(both) - len(new) :]

    def spread(self, panel: pd.DataFrame, pooled=None) -> np.ndarray:
        """Return the log-scale forecast error ``v`` of each row (see :mod:`forecasting.ranges`)."""
        return row_variance(panel, self.spreads_, pooled)

    def elasticity(self, network: str) -> float | None:  # noqa: ARG002 (interface; the GLMs read it)
        """Return the slope of log results on log spend for ``network`` (None if not a GLM)."""
        return None


class GLMForecaster(PanelForecaster):
    """Poisson ridge GLM on the one-hot features (partial pooling of segments).

    ``alpha`` (results) scales every penalty; ``segment_penalty`` the segment effects'
    (pooling toward the network); ``shape_penalty`` the elasticities, trend, season and
    weekday effects (large: flat CPR, no season). ``shape_penalty="auto"`` picks it, and the
    level half-life, from ``SHAPE_GRID`` x ``LEVEL_GRID`` on the time hold-out (histories of
    at most ``tune_max_rows`` rows); on the shared datasets this did not beat the fixed
    defaults, so it is off by default. ``overdispersion`` refits with negative-binomial
    weights; ``line_elasticity`` adds an elasticity per line (pooled toward its network's).
    """

    name = "glm"

    def __init__(
        self,
        period="week",
        alpha=5.0,
        segment_penalty=1.0,
        shape_penalty=1.0,
        half_life=None,
        level_half_life=4.0,
        overdispersion=True,
        line_elasticity=False,
        tune_max_rows=20_000,
        random_state=0,
    ):
        self.tune_max_rows = tune_max_rows
        super().__init__(period, half_life, level_half_life, random_state=random_state)
        self.overdispersion = overdispersion
        self.line_elasticity = line_elasticity
        self.alpha = alpha
        self.segment_penalty = segment_penalty
        self.shape_penalty = shape_penalty

    def _tune(self, rows):
        if self.shape_penalty != "auto":
            self.shape_penalty_ = float(self.shape_penalty)
            return
        self.shape_penalty_ = SHAPE_GRID[0]
        split = self._split(rows) if len(rows) <= self.tune_max_rows else None
        if split is None:
            return
        train, test = split
        y = test["results"].to_numpy(dtype=float)
        best = None
        for sp in SHAPE_GRID:
            for hl in LEVEL_GRID:
                self.shape_penalty_, self.level_half_life_ = sp, hl
                wape = float(
                    np.abs(self._holdout_predict(train, test) - y).sum() / max(y.sum(), 1e-9)
                )
                if best is None or wape < best[0] - 1e-12:
                    best = (wape, sp, hl)
        self.tuning_wape_, self.shape_penalty_, self.level_half_life_ = best

    def _fit_core(self, rows):
        fb, X, y, w = self._design(rows)
        est = PoissonRidgeRegressor(alpha=self.alpha, penalty=fb.penalty_, offset_feature=0)
        est.fit(X, y, sample_weight=w)
        if self.overdispersion:
            # negative-binomial weights: a period with mu results carries the information of
            # mu / (1 + phi·mu), not mu, so big lines do not drown the penalties and the
            # elasticity is not set by the few largest periods alone
            mu = est.predict(X)
            phi = estimate_dispersion(y, mu)
            nb = 1.0 / (1.0 + phi * mu)
            est.fit(X, y, sample_weight=nb if w is None else w * nb)
        return fb, est

    def _design(self, rows):
        """Return (feature builder, design matrix, results, recency weights) for ``rows``."""
        fb = FeatureBuilder(
            self.period,
            "onehot",
            segment_penalty=self.segment_penalty,
            shape_penalty=self.shape_penalty_,
            line_elasticity=self.line_elasticity,
            **self._response_features(),
        ).fit(rows)
        return fb, glm_design(fb, rows), rows["results"].to_numpy(dtype=float), self._weights(rows)

    def elasticity(self, network: str) -> float | None:
        """Return the slope of log results on log spend for ``network``."""
        idx = self.builder_.elasticity_columns(network)
        return 1.0 + float(self.estimator_.coef_[idx].sum())


class EBGLMForecaster(GLMForecaster):
    """Poisson GLM with an elasticity per line, whose pooling is learnt from the data.

    The pooling is learnt by empirical Bayes.

    Same features as :class:`GLMForecaster` plus an elasticity per line, but the penalty of
    each group of effects (segment levels, network and line elasticities, network trends,
    season, weekday) is not set by hand: :class:`EmpiricalBayesPoissonRegressor` chooses it
    by maximising the marginal likelihood, on negative-binomial weights (so a period counts
    for the information it really holds). Effects the history cannot tell from noise (a
    weekday pattern in three weeks of data) are pooled away; a line whose response to spend
    really differs from its network's keeps its own elasticity. No recent-level correction:
    the model assumes a line's cost level is stable, and takes it from the whole history.
    """

    name = "glm_eb"

    def __init__(
        self,
        period="week",
        alpha=5.0,
        half_life=None,
        level_half_life=None,
        line_elasticity=True,
        tune_max_rows=20_000,
        random_state=0,
    ):
        super().__init__(
            period,
            alpha=alpha,
            half_life=half_life,
            level_half_life=level_half_life,
            line_elasticity=line_elasticity,
            tune_max_rows=tune_max_rows,
            random_state=random_state,
        )

    def _fit_core(self, rows):
        fb, X, y, w = self._design(rows)
        # a first fit with the fixed penalties measures the overdispersion ...
        first = PoissonRidgeRegressor(alpha=self.alpha, penalty=fb.penalty_, offset_feature=0)
        mu = first.fit(X, y, sample_weight=w).predict(X)
        nb = 1.0 / (1.0 + estimate_dispersion(y, mu) * mu)
        # ... then the penalties are learnt on negative-binomial weights
        est = EmpiricalBayesPoissonRegressor(
            alpha=self.alpha, penalty=fb.penalty_, groups=fb.penalty_groups(), offset_feature=0
        )
        est.fit(X, y, sample_weight=nb if w is None else w * nb)
        return fb, est


class GBMForecaster(PanelForecaster):
    """Poisson gradient boosting on compact features (network code, line rate, time)."""

    name = "gbm"

    def __init__(
        self,
        period="week",
        max_iter=200,
        learning_rate=0.05,
        half_life=None,
        level_half_life=4.0,
        random_state=0,
    ):
        super().__init__(period, half_life, level_half_life, random_state=random_state)
        self.max_iter = max_iter
        self.learning_rate = learning_rate

    def _fit_core(self, rows):
        fb = FeatureBuilder(self.period, "target", **self._response_features()).fit(rows)
        leaf = int(np.clip(len(rows) // 50, 5, 20))
        est = PoissonGBMRegressor(
            spend_feature=0,
            categorical_features=fb.categorical_,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            min_samples_leaf=leaf,
            random_state=self.random_state,
        )
        est.fit(
            fb.transform(rows),
            rows["results"].to_numpy(dtype=float),
            sample_weight=self._weights(rows),
        )
        return fb, est


MODELS = {"glm": GLMForecaster, "gbm": GBMForecaster, "glm_eb": EBGLMForecaster}
