"""Known truth: the 80% range of a plan's total holds 75-85% of the quarters the truth deals.

The law of test_known_truth_ranges.py (three networks, big and small lines, season, trend,
Poisson results) without its ``flat`` line (a line whose spend never moved gets its
elasticity's prior spread, TAU, while this law gives every line of a network the same
elasticity: its range is wider than the truth needs, on purpose). For each of ``SEEDS``
histories: forecast (GLM), plan the quarter at the history's usual budget, read the plan's
P10-P90 of total results (``optimizer/risk.py``), then draw ``QUARTERS`` quarters from the
truth at the planned spend (Poisson around the true means) and count those inside.

Over the seeds, the share must be 75-85% (it is 0.796): what a plan promises as 80% sure is 80% sure, its
parameter errors (the recent level, the slope) included. Summing the lines' own ranges would
give about ±6% where the plan's range is ±1.2%.
"""

from __future__ import annotations

import numpy as np

from forecasting.curves import forecast_curves
from optimizer import allocate

from . import test_known_truth_ranges as law
from .known_truth_tools import week_start

SEEDS = range(30)
QUARTERS = 2000
COVERAGE = (0.75, 0.85)


def _lines():
    return tuple(ln for ln in law.LINES if (ln[0], ln[1]) != law.FLAT)


def _quarter(seed: int, monkeypatch) -> tuple[float, float, np.ndarray, float]:
    monkeypatch.setattr(law, "LINES", _lines())
    r = forecast_curves(law.history(seed), "2027-01-04", "2027-04-04", period="week", model="glm")
    budget = 13 * sum(s.typical_spend for s in r.lines)
    plan = allocate(r.curves, {"budget": budget})
    funded = [p for p in plan.lines if p.spend > 0]
    mu = np.array(
        [law.true_mean(p.network, p.segment, week_start(p.period), p.spend) for p in funded]
    )
    rng = np.random.default_rng(10_000 + seed)
    totals = rng.poisson(np.broadcast_to(mu, (QUARTERS, len(mu)))).sum(axis=1)
    summed = sum(p.results_p90 - p.results_p10 for p in funded) / 2 / plan.expected_results
    return plan.ranges["total"]["p10"], plan.ranges["total"]["p90"], totals, summed


def test_a_plans_80pct_range_holds_75_to_85pct_of_true_quarters(monkeypatch):
    shares, widths, summed = [], [], []
    for seed in SEEDS:
        lo, hi, totals, lines = _quarter(seed, monkeypatch)
        shares.append(float(((totals >= lo) & (totals <= hi)).mean()))
        widths.append((hi - lo) / 2 / totals.mean())
        summed.append(lines)
    got = float(np.mean(shares))
    print(
        f"coverage {got:.3f} over {len(shares)} seeds; half-width {np.mean(widths):.2%}, the "
        f"lines' ranges summed {np.mean(summed):.1%}"
    )
    assert COVERAGE[0] <= got <= COVERAGE[1], got
    assert 0.002 < np.mean(widths) < 0.03  # about ±1% ...
    assert np.mean(summed) > 3 * np.mean(widths)  # ... where the lines' ranges summed say ±6%
