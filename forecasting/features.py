"""From canonical history to a panel of line × period totals, and from a panel to features.

A *panel* is a DataFrame with one row per network × segment × period (× campaign for
cross-sectional data) and the columns ``network``, ``segment``, ``period`` (the label:
``2027-W01``, ``2027-01`` or ``2027-01-04``), ``start`` (the period's first day), ``spend``
and ``results`` (one result type only: results of different types are never added).

:class:`FeatureBuilder` turns a panel into the numeric matrix the estimators of
:mod:`forecasting.models` fit. Its columns, and the ridge penalty factor each one gets:

=====================  =======  ==========================================================
column                 penalty  why
=====================  =======  ==========================================================
log spend (centred)    1        diminishing returns: results ∝ spend^b, CPR ∝ spend^(1-b);
                                the GLM uses it as an offset too, so the penalty pulls b to 1
network one-hot        ~0       each network's cost level
network × log spend    1        an elasticity per network, pooled toward the common one
line one-hot           1        segment effect: thin segments shrink to their network
trend (years)          0.1      slow drift of costs (at least 540 days of history; held
                                flat from half a year past the history's end)
network × trend        1        per-network drift, pooled toward the common one
yearly Fourier (K=2)   0.1      seasonality (only with at least a year of history)
day of week            0.1      weekday effects (daily periods only)
=====================  =======  ==========================================================
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.periods import FIRST_DAY, LAST_DAY
from optimizer.periods import period_label as _period_label

from .errors import ForecastingError, InsufficientDataError
from .shapes import hill_offset

PERIODS = ("day", "week", "month")
#: days in one period (a month counts as 28 for the "data already aggregated" test)
PERIOD_DAYS = {"day": 1, "week": 7, "month": 28}
#: the trend is extrapolated at most this far past the end of the history
TREND_HORIZON_YEARS = 0.5
#: default horizon of a plan, in periods (a quarter)
PLANNING_HORIZON = {"day": 14, "week": 13, "month": 3}


def check_period(period: str) -> str:
    """Return ``period`` if it is ``day``, ``week`` or ``month``; else a ForecastingError."""
    if period not in PERIODS:
        raise ForecastingError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    return period


def period_start(dates: pd.Series | pd.DatetimeIndex, period: str) -> pd.DatetimeIndex:
    """Return the first day of the period holding each date (weeks start on Monday, ISO)."""
    d = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    if period == "day":
        return d
    if period == "week":
        return d - pd.to_timedelta(d.day_of_week, unit="D")
    return d - pd.to_timedelta(d.day - 1, unit="D")


def period_label(start: pd.Timestamp, period: str) -> str:
    """Return the label of the period holding ``start``.

    ``2027-W03`` (ISO week), ``2027-01`` (month) or ``2027-01-04`` (day), from
    :func:`optimizer.periods.period_label` (the one place that knows the labels).
    """
    check_period(period)
    return _period_label(pd.Timestamp(start).date(), period)


def period_end(start: pd.Timestamp, period: str) -> pd.Timestamp:
    """Return the last day of the period that starts on ``start``."""
    ts = pd.Timestamp(start)
    if period == "day":
        return ts
    if period == "week":
        return ts + pd.Timedelta(days=6)
    return ts + pd.offsets.MonthEnd(0)


def period_range(start, end, period: str) -> pd.DatetimeIndex:
    """Return the starts of every period that overlaps [start, end] (whole periods)."""
    check_period(period)
    b, e = plan_window(start, end)
    s = period_start(pd.DatetimeIndex([b]), period)[0]
    freq = {"day": "D", "week": "W-MON", "month": "MS"}[period]
    return pd.date_range(s, e, freq=freq)


#: the days a plan may name: the range history dates are held to (:mod:`forecasting.history`)
DATE_RANGE = (FIRST_DAY, LAST_DAY)  # the one range of days adplan reads (optimizer.periods)


def plan_window(start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first and last day to plan, checked.

    They must be real dates within :data:`DATE_RANGE`, the end not before the start.
    Anything else is a :class:`ForecastingError` naming the date.
    """
    b, e = plan_date(start, "start"), plan_date(end, "end")
    if e < b:
        raise ForecastingError(
            f"the end date {e.date()} is before the start date {b.date()}: give the first "
            "day to plan, then the last (e.g. --from 2027-01-01 --to 2027-03-31)"
        )
    return b, e


def plan_date(value, what: str = "start") -> pd.Timestamp:
    """Return ``value`` (YYYY-MM-DD text, a date, a Timestamp) as a day in :data:`DATE_RANGE`.

    Read by ``optimizer.periods.plan_day``, the one parser of the dates users type: other
    text (``01/02/2027``, ``20270102``, a time of day) and days outside the range are a
    :class:`ForecastingError` naming ``what`` and the value. Dates are compared as
    :class:`datetime.date`, so years pandas cannot hold (9999, 2262) get that message too.
    """
    from optimizer.periods import PlanDateError, plan_day

    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    try:
        return pd.Timestamp(plan_day(value, what))
    except PlanDateError as e:
        raise ForecastingError(str(e)) from None


#: a history whose rows are this many days apart (median per line) is weekly / monthly
_GRAIN_DAYS = (("month", 28), ("week", 7), ("day", 1))


def history_granularity(history: pd.DataFrame) -> tuple[str, float] | None:
    """Return how far apart a line's dates usually are, or None when no line has two dates.

    The answer is (``"day"``, ``"week"`` or ``"month"``, the median gap in days) over the
    gaps between consecutive dates of every network × segment.
    """
    if len(history) < 2:
        return None
    code = history.groupby(["network", "segment"], sort=False, observed=True).ngroup()
    code = code.to_numpy(dtype=np.int64)
    days = pd.DatetimeIndex(history["date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    order = np.lexsort((days, code))
    c, d = code[order], days[order]
    gap = np.diff(d)
    gap = gap[(np.diff(c) == 0) & (gap > 0)]
    if gap.size == 0:
        return None
    med = float(np.median(gap))
    kind = next(k for k, n in _GRAIN_DAYS if med >= n)
    return kind, med


def check_granularity(history: pd.DataFrame, period: str) -> None:
    """Refuse a period finer than the history (monthly rows cannot be cut into weeks)."""
    grain = history_granularity(history)
    if grain is None:
        return
    kind, gap = grain
    if PERIOD_DAYS[period] < PERIOD_DAYS[kind]:
        raise ForecastingError(
            f"the history is {kind}ly (its dates are {gap:g} days apart, the median over the "
            f"lines): it cannot be forecast per {period}, each row would count as one {period} "
            f"and the curves would be ~{PERIOD_DAYS[kind] // PERIOD_DAYS[period]}x too large. "
            f"Use --period {kind}" + (" (or month)" if kind == "week" else "")
        )


def line_keys(frame: pd.DataFrame) -> pd.MultiIndex:
    """Return the (network, segment) of each row as an index (vectorised lookups)."""
    return pd.MultiIndex.from_arrays([frame["network"], frame["segment"]])


def per_line(frame: pd.DataFrame, values: dict, default: float) -> np.ndarray:
    """Return ``values[(network, segment)]`` for each row of ``frame``, ``default`` if absent."""
    if not values:
        return np.full(len(frame), float(default))
    table = pd.Series(list(values.values()), index=pd.MultiIndex.from_tuples(list(values)))
    return table.reindex(line_keys(frame)).fillna(default).to_numpy(float)


def unseen_lines(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Return which rows of ``test`` belong to lines without spend in ``train`` (pooled)."""
    seen = train[train["spend"] > 0]
    return ~np.asarray(line_keys(test).isin(line_keys(seen)))


def aggregate_panel(
    history: pd.DataFrame, period: str, *, by_campaign: bool = False
) -> pd.DataFrame:
    """Sum spend and results per network × segment × period (one result type only).

    When the history is finer than the period (daily rows, weekly periods), a first or
    last period that the history covers only in part is dropped: its totals would look
    like a cut in spend. Rows already one per period (weekly exports) are kept whole.
    """
    check_period(period)
    if history["result_type"].nunique() > 1:
        raise ForecastingError("aggregate_panel: the history mixes result types; select one first")
    df = history
    if df.empty:
        raise InsufficientDataError("the history has no rows for this result type")
    if not by_campaign:
        check_granularity(df, period)
    start = period_start(df["date"], period)
    keys = ["network", "segment"] + (["campaign"] if by_campaign else [])
    g = (
        pd.DataFrame(
            {
                **{k: df[k].astype(str).to_numpy() for k in keys},
                "start": start,
                "spend": df["spend"].to_numpy(dtype=float),
                "results": df["results"].to_numpy(dtype=float),
            }
        )
        .groupby(keys + ["start"], sort=True, observed=True)[["spend", "results"]]
        .sum()
        .reset_index()
    )
    if period != "day":
        dates = pd.DatetimeIndex(df["date"].drop_duplicates()).sort_values()
        step = (
            float(np.diff(dates.values).min() / np.timedelta64(1, "D"))
            if len(dates) > 1
            else PERIOD_DAYS[period]
        )
        if step < PERIOD_DAYS[period]:  # finer than the period: drop partial edge periods
            first, last = dates[0], dates[-1]
            starts = np.sort(g["start"].unique())
            drop = []
            if len(starts) > 2 and pd.Timestamp(starts[0]) < first:
                drop.append(starts[0])
            covered_to = last + pd.Timedelta(
                days=float(step) - 1
            )  # the last row covers `step` days
            if len(starts) > 2 and period_end(pd.Timestamp(starts[-1]), period) > covered_to:
                drop.append(starts[-1])
            if drop:
                g = g[~g["start"].isin(drop)].reset_index(drop=True)
    g["period"] = _labels(g["start"], period)
    return g


def _labels(starts: pd.Series, period: str) -> list[str]:
    # a DatetimeIndex yields Timestamps, as iterating the Series does (pd.unique gives
    # numpy datetime64 on pandas 2, whose hashes differ)
    lab = {s: period_label(s, period) for s in pd.DatetimeIndex(starts.unique())}
    return [lab[s] for s in starts]


class _Design:
    """A design matrix being filled, dense or sparse.

    Dense (``X[rows, cols] = values``) or, with ``as_sparse``, collected as (row, column,
    value) triplets for one CSR matrix. Every entry is set at most once, so both give the
    same matrix.
    """

    def __init__(self, n: int, p: int, as_sparse: bool):
        self.shape, self.as_sparse = (n, p), as_sparse
        self.dense = None if as_sparse else np.zeros((n, p))
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __setitem__(self, key, values) -> None:
        if not self.as_sparse:
            self.dense[key] = values
            return
        rows, cols = key
        n = self.shape[0]
        rows = np.arange(n) if isinstance(rows, slice) else np.asarray(rows)
        cols = np.broadcast_to(np.asarray(cols), rows.shape)
        vals = np.broadcast_to(np.asarray(values, dtype=float), rows.shape)
        self.parts.append((rows, cols, vals))

    def result(self):
        """Return the filled matrix: the dense array, or the CSR matrix of the triplets."""
        if not self.as_sparse:
            return self.dense
        from scipy import sparse

        if not self.parts:
            return sparse.csr_matrix(self.shape)
        r, c, v = (np.concatenate(x) for x in zip(*self.parts, strict=True))
        return sparse.csr_matrix((v, (r, c)), shape=self.shape)


class FeatureBuilder:
    """Numeric design matrix for a panel (see the module docstring for the columns).

    ``encoding="onehot"`` gives the GLM's columns; ``encoding="target"`` gives the
    gradient-boosting model's compact ones: log spend, the network code (categorical),
    the line's shrunk log results-per-spend from the training panel, trend, season, weekday.
    """

    def __init__(
        self,
        period: str = "week",
        encoding: str = "onehot",
        fourier_order: int = 2,
        segment_penalty: float = 1.0,
        shape_penalty: float = 1.0,
        prior_results: float = 10.0,
        min_trend_days: int = 540,
        line_elasticity: bool = False,
        season_by_network: bool = False,
        events=None,
        hill: dict | None = None,
    ):
        self.period = period
        self.encoding = encoding
        self.fourier_order = fourier_order
        self.segment_penalty = segment_penalty
        self.shape_penalty = shape_penalty
        self.prior_results = prior_results
        self.min_trend_days = min_trend_days
        self.line_elasticity = line_elasticity
        self.season_by_network = season_by_network
        self.events = events
        self.hill = hill

    # -- fit -------------------------------------------------------------------------
    def fit(self, panel: pd.DataFrame) -> FeatureBuilder:
        """Learn the networks, lines, spend centring, trend/season/weekday use and rates.

        Only rows with spend > 0 count; the column names and penalties follow from them.
        """
        fit = panel[panel["spend"] > 0]
        if fit.empty:
            raise InsufficientDataError("no period with spend > 0 to fit a model on")
        self.networks_ = sorted(fit["network"].unique())
        self.net_index_ = {n: i for i, n in enumerate(self.networks_)}
        pairs = fit[["network", "segment"]].drop_duplicates()
        lines = sorted(zip(pairs["network"].tolist(), pairs["segment"].tolist(), strict=True))
        self.lines_ = lines
        self.line_index_ = {ln: i for i, ln in enumerate(lines)}
        ls = np.log(fit["spend"].to_numpy(dtype=float))
        self.log_spend_mean_ = float(ls.mean())
        dev = pd.Series(ls - self.log_spend_mean_, index=fit.index)
        by_line = dev.groupby([fit["network"], fit["segment"]]).mean()
        self.line_log_spend_ = np.array([by_line[ln] for ln in lines])
        self.net_log_spend_ = dev.groupby(fit["network"]).mean().to_dict()
        starts = pd.DatetimeIndex(fit["start"])
        self.origin_ = starts.min()
        span_days = (starts.max() - starts.min()).days
        self.span_years_ = span_days / 365.25
        self.use_trend_ = starts.nunique() >= 3 and span_days >= self.min_trend_days
        self.trend_center_ = self.span_years_ / 2
        self.use_fourier_ = span_days >= 350 and self.fourier_order > 0
        self.use_dow_ = self.period == "day" and starts.nunique() >= 14
        self.season_net_ = self.use_fourier_ and self.season_by_network and len(self.networks_) > 1
        self.event_names_: list[str] = []
        if self.events is not None:
            names, m = self.events.columns(fit["network"].to_numpy(), fit["start"], self.period)
            self.event_names_ = [
                nm for nm, used in zip(names, m.sum(axis=0) > 0, strict=True) if used
            ]
        self.hill_ = dict(self.hill or {}) if self.encoding == "onehot" else {}
        # shrunk results per unit of spend, per network and per line (target encoding)
        tot = fit.groupby("network")[["spend", "results"]].sum()
        glob = max(fit["results"].sum(), 0.5) / fit["spend"].sum()
        k = self.prior_results
        self.net_rate_ = {
            n: (r.results + k * 0.1) / (r.spend + k * 0.1 / glob) for n, r in tot.iterrows()
        }
        lt = fit.groupby(["network", "segment"])[["spend", "results"]].sum()
        self.line_rate_ = {
            key: (r.results + k) / (r.spend + k / self.net_rate_[key[0]])
            for key, r in lt.iterrows()
        }
        self.global_rate_ = glob
        self._build_names()
        return self

    def _build_names(self) -> None:
        names, pen = ["log_spend"], [0.0]
        if self.encoding == "onehot":
            names.append("log_spend_within")
            pen.append(self.shape_penalty)
            names += [f"net[{n}]" for n in self.networks_]
            pen += [1e-3] * len(self.networks_)
            names += [f"net[{n}]:log_spend_within" for n in self.networks_]
            pen += [self.shape_penalty] * len(self.networks_)
            names += [f"line[{n}/{s}]" for n, s in self.lines_]
            pen += [self.segment_penalty] * len(self.lines_)
            if self.line_elasticity:
                names += [f"line[{n}/{s}]:log_spend_within" for n, s in self.lines_]
                pen += [self.shape_penalty * self.segment_penalty] * len(self.lines_)
        else:
            names += ["network_code", "line_log_rate"]
            pen += [0.0, 0.0]
        if self.use_trend_:
            names.append("trend")
            pen.append(0.1 * self.shape_penalty)
            if self.encoding == "onehot":
                names += [f"net[{n}]:trend" for n in self.networks_]
                pen += [self.shape_penalty] * len(self.networks_)
        names, pen = self._time_names(names, pen)
        self.feature_names_ = names
        self.penalty_ = np.asarray(pen, dtype=float)
        self.categorical_ = [1] if self.encoding == "target" else []

    def _time_names(self, names: list, pen: list) -> tuple[list, list]:
        """Append the season (common, per network), weekday and event columns."""
        if self.use_fourier_:
            for k in range(1, self.fourier_order + 1):
                names += [f"sin{k}", f"cos{k}"]
                pen += [0.1 * self.shape_penalty] * 2
        if self.season_net_:
            for n in self.networks_:
                for k in range(1, self.fourier_order + 1):
                    names += [f"net[{n}]:sin{k}", f"net[{n}]:cos{k}"]
                    pen += [self.shape_penalty] * 2
        if self.use_dow_:
            names += [f"dow{d}" for d in range(7)]
            pen += [0.1 * self.shape_penalty] * 7
        names += self.event_names_
        pen += [0.1 * self.shape_penalty] * len(self.event_names_)
        return names, pen

    # -- transform -------------------------------------------------------------------
    def transform(self, panel: pd.DataFrame, pooled=None, *, as_sparse: bool = False):
        """Return the rows of features for ``panel`` (spend must be > 0).

        ``pooled``: boolean mask of rows that must use their network's estimate (no
        line effect), e.g. lines with too little history of their own.

        The matrix is filled entry by entry (one-hot entries set by index), never assembled
        from dense blocks: on 47,000 rows × 640 columns that took 0.8 s a call, now 0.2 s.
        ``as_sparse=True`` gives the same matrix as ``scipy.sparse`` CSR without ever
        building it dense (what the GLM fits; 0.05 s there).
        """
        n = len(panel)
        spend = panel["spend"].to_numpy(dtype=float)
        if n and np.any(spend <= 0):
            raise ValueError("features need spend > 0 on every row")
        p = len(self.feature_names_)
        X = _Design(n, p, as_sparse)
        if not n:
            return X.result()
        log_s = np.log(spend) - self.log_spend_mean_
        X[:, 0] = log_s
        net = panel["network"].astype(str).to_numpy(dtype=object)
        seg = panel["segment"].astype(str).to_numpy(dtype=object)
        pooled = np.zeros(n, bool) if pooled is None else np.asarray(pooled, bool)
        net_idx = pd.Index(self.networks_, dtype=object).get_indexer(net)
        line_idx = pd.MultiIndex.from_tuples(self.lines_).get_indexer(
            pd.MultiIndex.from_arrays([net, seg])
        )
        N = len(self.networks_)
        known = net_idx >= 0
        kr, kc = np.flatnonzero(known), net_idx[known]  # rows of a known network, its column
        col = 1
        if self.encoding == "onehot":
            L = len(self.lines_)
            # spend relative to the line's usual level: the elasticity is learnt within lines,
            # not from big segments being dearer than small ones
            net_centre = np.array([self.net_log_spend_.get(a, 0.0) for a in self.networks_] + [0.0])
            centre = np.where(
                line_idx >= 0, self.line_log_spend_[np.maximum(line_idx, 0)], net_centre[net_idx]
            )
            within = log_s - centre
            hill = self._hill_rows(net)
            if hill is not None:
                kappa, log_c = hill
                on = ~np.isnan(kappa)
                h = hill_offset(log_s[on], centre[on] + log_c[on], kappa[on])
                X[np.flatnonzero(on), 0] = h  # the Hill curve in place of log spend ...
                within = np.where(on, 0.0, within)  # ... and of the power law's elasticities
            X[:, col] = within
            col += 1
            X[kr, col + kc] = 1.0  # network one-hot
            col += N
            X[kr, col + kc] = within[kr]  # network × within
            col += N
            line_idx = np.where(pooled, -1, line_idx)
            ok = line_idx >= 0
            lr, lc = np.flatnonzero(ok), line_idx[ok]
            X[lr, col + lc] = 1.0  # line one-hot
            col += L
            if self.line_elasticity:
                X[lr, col + lc] = within[lr]  # line × within
                col += L
        else:
            net_rate = np.array([self.net_rate_[a] for a in self.networks_] + [self.global_rate_])
            line_rate = np.array([self.line_rate_[ln] for ln in self.lines_] + [np.nan])
            rates = np.where(
                pooled | (line_idx < 0),
                net_rate[net_idx],
                line_rate[np.where(line_idx < 0, -1, line_idx)],
            )
            X[:, col] = np.where(known, net_idx, N)
            X[:, col + 1] = np.log(rates)
            col += 2
        starts = pd.DatetimeIndex(panel["start"])
        if self.use_trend_:
            t = (starts - self.origin_).days.to_numpy(dtype=float) / 365.25 - self.trend_center_
            # the trend is held flat beyond half a year past the history: never extrapolated wildly
            t = np.minimum(t, self.span_years_ - self.trend_center_ + TREND_HORIZON_YEARS)
            X[:, col] = t
            col += 1
            if self.encoding == "onehot":
                X[kr, col + kc] = t[kr]  # network × trend
                col += N
        col = self._fill_time(X, col, starts, net, kr, kc)
        assert col == p, (col, p)
        return X.result()

    def _fill_time(self, X, col: int, starts, net, kr, kc) -> int:
        """Fill the season, weekday and event columns from ``col``; return the next column."""
        n, N, K = len(starts), len(self.networks_), self.fourier_order
        mid = starts + pd.Timedelta(days=PERIOD_DAYS[self.period] / 2)
        doy = mid.day_of_year.to_numpy(dtype=float) / 365.25
        if self.use_fourier_:
            for k in range(1, K + 1):
                X[:, col] = np.sin(2 * math.pi * k * doy)
                X[:, col + 1] = np.cos(2 * math.pi * k * doy)
                col += 2
        if self.season_net_:
            for k in range(1, K + 1):
                base = col + 2 * (k - 1)
                X[kr, base + 2 * K * kc] = np.sin(2 * math.pi * k * doy)[kr]
                X[kr, base + 1 + 2 * K * kc] = np.cos(2 * math.pi * k * doy)[kr]
            col += 2 * K * N
        if self.use_dow_:
            X[np.arange(n), col + starts.day_of_week.to_numpy()] = 1.0  # weekday one-hot
            col += 7
        if self.event_names_:
            names, m = self.events.columns(net, starts, self.period, only=self.event_names_)
            for j, nm in enumerate(self.event_names_):
                X[:, col + j] = m[:, names.index(nm)]
            col += len(self.event_names_)
        return col

    def _hill_rows(self, net: np.ndarray):
        """Return (κ, log c) per row (NaN for rows of power-law networks), or None."""
        if not self.hill_:
            return None
        kappa = np.array([self.hill_.get(a, (np.nan, 1.0))[0] for a in net], dtype=float)
        log_c = np.log([self.hill_.get(a, (np.nan, 1.0))[1] for a in net])
        return kappa, log_c

    def spend_columns(self) -> np.ndarray:
        """Return the columns of the spend response (the log-spend offset and elasticities)."""
        return np.array(
            [
                j
                for j, nm in enumerate(self.feature_names_)
                if j == 0 or nm == "log_spend_within" or nm.endswith(":log_spend_within")
            ]
        )

    # -- what curves need -------------------------------------------------------------
    def elasticity_columns(self, network: str) -> list[int]:
        """Return the columns whose coefficients add up to ``network``'s log-spend slope."""
        idx = [self.feature_names_.index("log_spend_within")]
        name = f"net[{network}]:log_spend_within"
        if name in self.feature_names_:
            idx.append(self.feature_names_.index(name))
        return idx

    #: groups of columns sharing one learnt penalty (see ``penalty_groups``)
    GROUPS = (
        "line",
        "network_elasticity",
        "line_elasticity",
        "network_trend",
        "season",
        "weekday",
        "network_season",
        "event",
    )

    def penalty_groups(self) -> np.ndarray:
        """Return the group of each column for empirical-Bayes pooling.

        Each is an index into ``GROUPS``; -1 for log spend, the network levels, the common
        elasticity and the common trend, which keep their fixed penalties.
        """
        out = []
        for name in self.feature_names_:
            if name.endswith(":log_spend_within"):
                g = "line_elasticity" if name.startswith("line[") else "network_elasticity"
            elif name.startswith("line["):
                g = "line"
            elif name.endswith(":trend"):
                g = "network_trend"
            elif name[:3] in ("sin", "cos"):
                g = "season"
            elif name.startswith("net[") and name.rsplit(":", 1)[-1][:3] in ("sin", "cos"):
                g = "network_season"
            elif name.startswith("event[") or name == "promotion":
                g = "event"
            elif name.startswith("dow"):
                g = "weekday"
            else:
                g = None
            out.append(-1 if g is None else self.GROUPS.index(g))
        return np.asarray(out, dtype=int)


def select_result_type(
    history: pd.DataFrame, result_type: str | None
) -> tuple[pd.DataFrame, str, list[str]]:
    """Keep the rows of one result type (results of different types are never added).

    With ``result_type=None`` and several types in the history, the one with the most spend
    is chosen and a warning says so.
    """
    warnings: list[str] = []
    missing = [
        c
        for c in ("date", "network", "segment", "result_type", "spend", "results")
        if c not in history
    ]
    if missing:
        raise ForecastingError(
            f"history lacks the column(s) {', '.join(missing)}; see docs/formats.md"
        )
    types = history["result_type"].astype(str)
    spend_by = history.groupby(types)["spend"].sum().sort_values(ascending=False, kind="stable")
    if result_type is None:
        if spend_by.empty:
            raise InsufficientDataError("the history is empty: there is nothing to forecast")
        result_type = str(spend_by.index[0])
        if len(spend_by) > 1:
            listing = ", ".join(f"{t} (spend {v:,.0f})" for t, v in spend_by.items())
            warnings.append(
                f"the history mixes result types: {listing}; forecasting '{result_type}' (most "
                "spend). Results of different types are never added; pass result_type to choose."
            )
    elif result_type not in spend_by.index:
        have = ", ".join(map(str, spend_by.index)) or "none"
        raise InsufficientDataError(
            f"the history has no rows of result type '{result_type}' (it has: {have})"
        )
    return history[types == result_type], str(result_type), warnings
