"""Known truth: history drawn from a known cost-per-result law; the curves must recover the
true expected results of next quarter's weeks, and the naive baselines must not.

The law (see test_known_truth_law.py): per-network elasticity (CPR ∝ spend^0.2..0.45),
segment factors, a yearly season of ±25% on CPR, a 5%/year trend and Poisson noise; two
years of weekly history for 12 lines, spend varying ±45% (log scale) week to week.

What is scored: for every line and every week of Q1 2027, expected results at 0.5×, 1× and
1.4× the line's usual spend: the levels a plan moves between. Error = sum |forecast - truth|
/ sum truth (WAPE against the *expected* results, so there is no noise in the target).

Tolerance 5%: with ~50-500 results per line-week over 104 weeks, parameter noise is about
1%; reading an 8-point piecewise-linear curve between its points costs at most ~1% on
these power laws (measured: glm 1.2-1.4%, glm_eb 0.6-1.2% overall, seeds 0-2); 5% leaves room for seeds. The
baselines hold last period's or a trailing mean CPR flat, so they miss both the season
(Q1 is cheaper than the quarter before it) and the rise of CPR with spend: measured 19-35%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.baselines import CPRBaseline
from forecasting.curves import forecast_curves
from forecasting.features import aggregate_panel

from . import test_known_truth_law as law

LEVELS = (0.5, 1.0, 1.4)
TOLERANCE = 0.05


def _week_start(label: str) -> pd.Timestamp:
    return pd.Timestamp.fromisocalendar(int(label[:4]), int(label[6:]), 1)


def _scores(seed: int, model: str):
    h = law.history(seed=seed)
    r = forecast_curves(h, "2027-01-04", "2027-03-31", period="week", model=model)
    panel = aggregate_panel(h, "week")
    baselines = [
        CPRBaseline(last=True).fit(panel),
        CPRBaseline(4).fit(panel),
        CPRBaseline(13).fit(panel),
    ]
    rows, truths, curve = [], [], []
    for ln in r.curves.lines:
        start = _week_start(ln.period)
        for m in LEVELS:
            s = m * law.ref_spend(ln.network, ln.segment)
            truths.append(float(law.expected_results(ln.network, ln.segment, start, s)))
            curve.append(ln.results_at(s))
            rows.append({"network": ln.network, "segment": ln.segment, "spend": s, "start": start})
    grid, truth = pd.DataFrame(rows), np.array(truths)
    total = truth.sum()
    err = {"curves": float(np.abs(np.array(curve) - truth).sum())}
    for b in baselines:  # all rows at once: a baseline's prediction is row by row anyway
        err[b.name] = float(np.abs(b.predict(grid) - truth).sum())
    return r, {k: v / total for k, v in err.items()}


@pytest.mark.parametrize("model", ["glm", "glm_eb"])
@pytest.mark.parametrize("seed", [0, 1])
def test_glm_curves_recover_the_true_expected_results(seed, model):
    r, wape = _scores(seed, model)
    assert len(r.curves.periods) == 13 and r.curves.periods[0] == "2027-W01"
    assert wape["curves"] < TOLERANCE, wape
    for name in ("last_cpr", "mean_cpr_4", "mean_cpr_13"):
        assert wape[name] > 3 * TOLERANCE, (name, wape)
        assert wape[name] > 4 * wape["curves"], (name, wape)
    # each network's elasticity is recovered (glm_eb fits one per line: each must land on it)
    for ln in r.lines:
        true_b = 1 - law.NETWORKS[ln.network][1]
        assert ln.elasticity == pytest.approx(true_b, abs=0.05), (ln.network, ln.segment)


def test_gbm_curves_are_closer_to_the_truth_than_every_baseline():
    _, wape = _scores(0, "gbm")
    assert (
        wape["curves"] < 2.5 * TOLERANCE
    )  # the boosted model has no smooth spend law: 7% measured
    assert all(wape["curves"] < wape[b] for b in ("last_cpr", "mean_cpr_4", "mean_cpr_13"))
