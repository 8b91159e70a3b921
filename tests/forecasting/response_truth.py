"""Known laws with the effects a plain power-law forecast leaves out (for the response tests).

Each law starts from the law of ``test_known_truth_law`` (12 lines, a power law per network,
segment factors, a ±25% yearly season, a 5%/year trend, spend ±45% week to week, Poisson
results) and adds one effect:

- ``carryover``: geometric adstock on the response. The spend of week τ brings its law's
  results ``L_τ`` over its lifetime, ``(1 - λ)·λ^k`` of them k weeks later (λ = 0.5); the
  weeks before the history saw the first week's spend.
- ``seasons``: a different season per network: amplitude and peak week of the yearly sine
  per network (meta ±35% peaking in late November, tiktok ±30% in mid-July, google ±5%).
- ``hill``: S-shaped saturation. Results of line (n, g) at spend s are
  ``A·(s/K)^κ / (1 + (s/K)^κ)`` with ``K = c_n·ref_spend``, κ and c per network
  (meta κ=2, c=1.2; tiktok κ=1.5, c=0.8; google κ=1, c=1.5), ``A`` set so that the line
  gets the power law's results at its reference spend; the same season and trend.
- ``promotions``: one week in six is a promotion: spend ×1.6 and results per unit of spend
  ×1.4 in that week (a better offer converts more), the rest of the law unchanged.

``truth(kind)`` returns (history, expected(network, segment, week start, spend) -> lifetime
results). Everything here is numpy and pandas only: nothing from adplan.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import test_known_truth_law as law

DECAY = 0.5
NET_SEASON = {"meta": (0.35, 47), "tiktok": (0.30, 28), "google": (0.05, 10)}  # amp, peak week
HILL = {"meta": (2.0, 1.2), "tiktok": (1.5, 0.8), "google": (1.0, 1.5)}  # κ, c
PROMO_EVERY = 6
PROMO_SPEND, PROMO_LIFT = 1.6, 1.4


def _season(network: str, d: pd.Timestamp) -> float:
    amp, peak = NET_SEASON[network]
    doy = (d + pd.Timedelta(days=3.5)).day_of_year
    return math.exp(amp * math.cos(2 * math.pi * (doy - 7 * peak) / 365.25))


def expected(kind: str, network: str, segment: str, d, spend) -> np.ndarray:
    """Return the true expected (lifetime) results of spend in the week starting ``d``."""
    d = pd.Timestamp(d)
    s = np.asarray(spend, dtype=float)
    if kind == "seasons":
        flat = law.expected_results(network, segment, d, s)
        # undo the common season, apply the network's own
        doy = (d + pd.Timedelta(days=3.5)).day_of_year / 365.25
        common = math.exp(law.SEASON_AMPLITUDE * math.sin(2 * math.pi * doy))
        return flat * common * _season(network, d)
    if kind == "hill":
        kappa, c = HILL[network]
        ref = law.ref_spend(network, segment)
        K = c * ref
        at_ref = float(law.expected_results(network, segment, d, ref))
        shape = lambda x: (x / K) ** kappa / (1 + (x / K) ** kappa)  # noqa: E731
        return np.where(s > 0, at_ref / shape(ref) * shape(np.maximum(s, 1e-12)), 0.0)
    return law.expected_results(network, segment, d, s)


def truth(kind: str, seed: int = 0) -> pd.DataFrame:
    """Return two years of weekly history drawn from law ``kind``."""
    rng = np.random.default_rng(seed)
    rows = []
    state: dict = {}
    for w in range(law.WEEKS):
        d = law.START + pd.Timedelta(weeks=w)
        promo = kind == "promotions" and w % PROMO_EVERY == 3
        for n in law.NETWORKS:
            for g in law.SEGMENTS:
                s = law.ref_spend(n, g) * math.exp(rng.normal(0, 0.45))
                s *= PROMO_SPEND if promo else 1.0
                L = float(expected(kind, n, g, d, s)) * (PROMO_LIFT if promo else 1.0)
                if kind == "carryover":
                    prev = state.get((n, g), L)
                    L = (1 - DECAY) * L + DECAY * prev
                    state[(n, g)] = L
                rows.append((d, n, g, "purchases", round(s, 2), float(rng.poisson(L)), "EUR"))
    return pd.DataFrame(
        rows, columns=["date", "network", "segment", "result_type", "spend", "results", "currency"]
    )


def promotion_weeks() -> list[pd.Timestamp]:
    """Return the Mondays of the promotion weeks of law ``promotions``."""
    return [law.START + pd.Timedelta(weeks=w) for w in range(law.WEEKS) if w % PROMO_EVERY == 3]


def greedy_optimum(curves: list, budget: float, step: int = 400) -> float:
    """Return the best total of concave piecewise-linear curves under a budget, by hand.

    ``curves``: a list of (spends, results) arrays from (0, 0), concave. Each curve is cut
    into ``step`` equal spend increments; since marginal results never rise along a concave
    curve, taking the increments with the most results per unit of spend first until the
    budget is spent is optimal (a fractional knapsack).
    """
    gains, costs = [], []
    for x, y in curves:
        grid = np.linspace(0.0, x[-1], step + 1)
        v = np.interp(grid, x, y)
        gains.append(np.diff(v))
        costs.append(np.diff(grid))
    g, c = np.concatenate(gains), np.concatenate(costs)
    order = np.argsort(-g / c, kind="stable")
    cum = np.cumsum(c[order])
    full = cum <= budget
    total = g[order][full].sum()
    k = int(full.sum())
    if k < len(order):
        left = budget - (cum[k - 1] if k else 0.0)
        total += g[order][k] * left / c[order][k]
    return float(total)


def envelope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the least concave majorant of (x, y) at x (an independent upper hull)."""
    out = np.empty_like(y)
    for i in range(len(x)):
        # the majorant at x_i: the best chord between a point left of it and one right of it
        best = y[i]
        for a in range(i + 1):
            for b in range(i, len(x)):
                if x[b] > x[a]:
                    t = (x[i] - x[a]) / (x[b] - x[a])
                    best = max(best, y[a] + t * (y[b] - y[a]))
        out[i] = best
    return out
