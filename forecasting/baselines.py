"""Naive forecasts an SMM would otherwise use: a line's recent cost per result, held flat.

Each baseline predicts ``results = spend / CPR`` with a CPR taken from the training panel:

- ``last_cpr``: the line's CPR in its last period with spend and at least one result;
- ``mean_cpr_4`` / ``mean_cpr_13``: total spend / total results of the line over the last
  4 / 13 periods of the training panel (a spend-weighted mean, so zero-result periods count);
- ``mean_cpr_all`` (cross-sectional data): the line's CPR over the whole training set;
  ``network_cpr``: its network's.

A line with no result in its window falls back to its network's CPR over the same window,
then to the CPR of all lines. CPR is held flat: it ignores spend level, season and trend,
which is what the models are there to beat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import per_line
from .ranges import fit_spread, row_variance


def _cpr_table(rows: pd.DataFrame, keys: list[str]) -> dict:
    t = rows.groupby(keys)[["spend", "results"]].sum()
    t = t[t["results"] > 0]
    return (t["spend"] / t["results"]).to_dict()


class CPRBaseline:
    """Flat CPR per line from a trailing window of ``window`` periods (None: all)."""

    baseline = True

    def __init__(self, window: int | None = 4, last: bool = False, level: str = "line"):
        self.window = window
        self.last = last
        self.level = level
        if last:
            self.name = "last_cpr"
        elif level == "network":
            self.name = "network_cpr"
        else:
            self.name = f"mean_cpr_{window}" if window else "mean_cpr_all"

    def fit(self, panel: pd.DataFrame) -> CPRBaseline:
        """Learn the CPRs of the lines, networks and all lines from the training panel."""
        rows = panel[panel["spend"] > 0]
        if self.window:
            starts = np.sort(rows["start"].unique())
            rows = rows[rows["start"] >= starts[-min(self.window, len(starts))]]
        total = rows[["spend", "results"]].sum()
        self.global_cpr_ = (
            float(total["spend"] / total["results"]) if total["results"] > 0 else np.inf
        )
        self.network_cpr_ = _cpr_table(rows, ["network"])
        if self.last:
            got = panel[(panel["spend"] > 0) & (panel["results"] > 0)].sort_values("start")
            last = got.groupby(["network", "segment"]).tail(1)
            self.line_cpr_ = {
                (n, s): sp / r
                for n, s, sp, r in zip(
                    last["network"], last["segment"], last["spend"], last["results"], strict=True
                )
            }
        elif self.level == "line":
            self.line_cpr_ = _cpr_table(rows, ["network", "segment"])
        else:
            self.line_cpr_ = {}
        seen = panel[panel["spend"] > 0]
        self.phi_, self.spreads_ = fit_spread(
            seen, self.predict(seen), n_params=len(self.line_cpr_)
        )
        return self

    def spread(self, panel: pd.DataFrame, pooled=None) -> np.ndarray:
        """Return the log-scale forecast error ``v`` of each row (see :mod:`forecasting.ranges`)."""
        return row_variance(panel, self.spreads_, pooled)

    def predict(self, panel: pd.DataFrame, pooled=None) -> np.ndarray:  # noqa: ARG002 (models' interface; a flat CPR ignores it)
        """Return ``spend / CPR`` for each row (0 where spend is 0 or no CPR is known)."""
        nets = pd.Series(self.network_cpr_, dtype=float)
        by_net = nets.reindex(panel["network"]).fillna(self.global_cpr_).to_numpy(float)
        by_line = per_line(panel, self.line_cpr_, np.nan)
        cpr = np.where(np.isnan(by_line), by_net, by_line)
        spend = panel["spend"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(np.isfinite(cpr) & (cpr > 0), spend / cpr, 0.0)
        return np.where(spend > 0, out, 0.0)


def time_baselines() -> list[CPRBaseline]:
    """Return the baselines of a time backtest: last period's CPR, trailing 4 and 13 periods."""
    return [CPRBaseline(last=True), CPRBaseline(window=4), CPRBaseline(window=13)]


def cross_section_baselines() -> list[CPRBaseline]:
    """Return the baselines of a cross-sectional fit: the line's CPR, the network's CPR."""
    return [CPRBaseline(window=None), CPRBaseline(window=None, level="network")]
