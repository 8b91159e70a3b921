"""A known cost-per-result law for the known-truth tests (and a check of the law itself).

Expected results of line (network n, segment g) in the week starting ``d`` at spend ``s``:

    CPR(s)  = c_n · f_g · (s / s_ref)^e_n · exp(A·sin(2π·doy(d + 3.5 days)/365.25)) · exp(k·t)
    E[results] = s / CPR(s)          (so results ∝ s^(1 - e_n): diminishing returns)

with one elasticity e_n per network, a segment factor f_g, a yearly season of amplitude A
(log scale), a trend k per year, and Poisson noise on the results of each week.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

NETWORKS = {"meta": (8.0, 0.45), "tiktok": (5.0, 0.3), "google": (12.0, 0.2)}  # c_n, e_n
SEGMENTS = {"f-18-24": 0.8, "f-25-34": 1.0, "m-25-34": 1.25, "retargeting": 0.6}
SEASON_AMPLITUDE = 0.25
TREND_PER_YEAR = 0.05
START = pd.Timestamp("2025-01-06")  # a Monday
WEEKS = 104


def ref_spend(network: str, segment: str) -> float:
    return 2000.0 * (1 + list(NETWORKS).index(network)) * SEGMENTS[segment]


def expected_results(network: str, segment: str, week_start, spend) -> np.ndarray:
    c, e = NETWORKS[network]
    s = np.asarray(spend, dtype=float)
    d = pd.Timestamp(week_start)
    doy = (d + pd.Timedelta(days=3.5)).day_of_year / 365.25
    t = (d - START).days / 365.25
    season = math.exp(SEASON_AMPLITUDE * math.sin(2 * math.pi * doy))
    cpr = (
        c
        * SEGMENTS[segment]
        * (s / ref_spend(network, segment)) ** e
        * season
        * math.exp(TREND_PER_YEAR * t)
    )
    return np.where(s > 0, s / cpr, 0.0)


def history(seed: int = 0, weeks: int = WEEKS, spend_sigma: float = 0.45) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(weeks):
        d = START + pd.Timedelta(weeks=w)
        for n in NETWORKS:
            for g in SEGMENTS:
                s = ref_spend(n, g) * math.exp(rng.normal(0, spend_sigma))
                mu = float(expected_results(n, g, d, s))
                rows.append((d, n, g, "purchases", round(s, 2), float(rng.poisson(mu)), "EUR"))
    return pd.DataFrame(
        rows, columns=["date", "network", "segment", "result_type", "spend", "results", "currency"]
    )


def test_the_law_has_diminishing_returns_and_a_season():
    d = START + pd.Timedelta(weeks=10)
    r = expected_results("meta", "f-25-34", d, [1000.0, 2000.0])
    assert 1.0 < r[1] / r[0] < 2.0  # doubling spend buys less than double the results
    summer = expected_results("meta", "f-25-34", pd.Timestamp("2025-06-16"), 1000.0)
    winter = expected_results("meta", "f-25-34", pd.Timestamp("2025-12-15"), 1000.0)
    assert summer < winter  # the season makes spring/summer results dearer
