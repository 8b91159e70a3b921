"""adplan's own sample history: two years of weekly paid social results drawn from a known law.

:func:`generate_sample_history` returns a canonical history (see :mod:`forecasting.history`)
for 6 networks x 8 segments x 104 weeks (dates are Mondays, 2025-01-06 to 2026-12-28),
result_type ``purchases``, currency ``EUR``. It is what ``adplan demo`` plans from, and since
the law behind it is known (:func:`sample_truth` returns it as a frozen :class:`SampleTruth`),
forecasts can be scored against the truth.

The law, for network n, segment s and the week starting on day d with spend x > 0::

    CPR(n, s, d, x) = base_cpr[n] * segment_factor[s] * season(n, d) * (x / ref_spend[n, s]) ** elasticity[n]
    expected results = x / CPR                      (concave in x: diminishing returns)
    season(n, d)     = 1 + amplitude[n] * cos(2 pi (day_of_year(d) - peak_day) / 365.25)

with ``elasticity`` between 0.2 and 0.5 (results grow as x ** (1 - elasticity)) and costs
peaking in late November. Observed results are ``Poisson(expected * lognormal(0, noise))``.
Weekly spend follows the line's typical spend times a seasonal budget swing and a lognormal
week-to-week factor (sigma 0.35: most weeks within about +-40%, so that the elasticity can be
identified), rounded to cents. A few weeks per line (2 to 4) are dark: spend 0, results 0,
impressions 0. Impressions and clicks follow a CPM and a click-through rate per network.
The same seed gives the same frame on every machine (NumPy's ``default_rng``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEFAULT_NETWORKS: tuple[str, ...] = (
    "meta",
    "instagram",
    "tiktok",
    "linkedin",
    "pinterest",
    "snapchat",
)
DEFAULT_SEGMENTS: tuple[str, ...] = (
    "f-18-24",
    "f-25-34",
    "f-35-54",
    "m-18-24",
    "m-25-34",
    "m-35-54",
    "retargeting",
    "lookalike",
)
#: typical cost per purchase (EUR) at the reference spend, per network
_BASE_CPR = {
    "meta": 22.0,
    "instagram": 26.0,
    "tiktok": 30.0,
    "linkedin": 85.0,
    "pinterest": 34.0,
    "snapchat": 38.0,
}
#: typical weekly spend (EUR) of one segment, per network
_TYPICAL_SPEND = {
    "meta": 2400.0,
    "instagram": 1800.0,
    "tiktok": 1500.0,
    "linkedin": 1200.0,
    "pinterest": 700.0,
    "snapchat": 600.0,
}
_SEGMENT_FACTOR = {
    "f-18-24": 1.10,
    "f-25-34": 0.85,
    "f-35-54": 0.95,
    "m-18-24": 1.25,
    "m-25-34": 1.00,
    "m-35-54": 1.15,
    "retargeting": 0.55,
    "lookalike": 0.80,
}
_CPM = {
    "meta": 8.0,
    "instagram": 9.5,
    "tiktok": 6.0,
    "linkedin": 32.0,
    "pinterest": 5.5,
    "snapchat": 4.5,
}
_CTR = {
    "meta": 0.011,
    "instagram": 0.008,
    "tiktok": 0.009,
    "linkedin": 0.006,
    "pinterest": 0.004,
    "snapchat": 0.005,
}
PEAK_DAY = 330  # late November: Black Friday auctions


@dataclass(frozen=True, slots=True)
class SampleTruth:
    """The law the sample history is drawn from (see the module docstring)."""

    networks: tuple[str, ...]
    segments: tuple[str, ...]
    base_cpr: dict[str, float] = field(hash=False)
    elasticity: dict[str, float] = field(hash=False)
    segment_factor: dict[str, float] = field(hash=False)
    ref_spend: dict[tuple[str, str], float] = field(hash=False)
    season_amplitude: dict[str, float] = field(hash=False)
    peak_day: int = PEAK_DAY
    noise: float = 0.12
    result_type: str = "purchases"
    currency: str = "EUR"

    def __post_init__(self) -> None:
        for n in self.networks:
            if not 0.0 < self.elasticity[n] < 1.0:
                raise ValueError(f"elasticity of {n} must be in (0, 1)")
            if self.base_cpr[n] <= 0:
                raise ValueError(f"base cost per result of {n} must be > 0")

    def season(self, network: str, date) -> float:
        """Return the multiplier of the cost per result in the week starting on ``date``."""
        doy = pd.Timestamp(date).day_of_year
        amp = self.season_amplitude[network]
        return 1.0 + amp * math.cos(2.0 * math.pi * (doy - self.peak_day) / 365.25)

    def cost_per_result(self, network: str, segment: str, date, spend: float) -> float:
        """Return the true expected cost per result at weekly ``spend`` (> 0)."""
        if spend <= 0:
            raise ValueError("the cost per result is defined for spend > 0")
        ref = self.ref_spend[(network, segment)]
        return (
            self.base_cpr[network]
            * self.segment_factor[segment]
            * self.season(network, date)
            * (spend / ref) ** self.elasticity[network]
        )

    def expected_results(self, network: str, segment: str, date, spend: float) -> float:
        """Return the true expected results of the week from ``date`` at ``spend`` (0 at 0)."""
        if spend <= 0:
            return 0.0
        return spend / self.cost_per_result(network, segment, date, spend)


def sample_truth(
    seed: int = 7,
    networks: Sequence[str] = DEFAULT_NETWORKS,
    segments: Sequence[str] = DEFAULT_SEGMENTS,
) -> SampleTruth:
    """Return the law behind ``generate_sample_history(seed, networks=..., segments=...)``."""
    networks, segments = tuple(networks), tuple(segments)
    if not networks or not segments:
        raise ValueError("give at least one network and one segment")
    rng = np.random.default_rng([seed, 1])
    base, elast, amp, seg_f, ref = {}, {}, {}, {}, {}
    for i, n in enumerate(networks):
        base[n] = _BASE_CPR.get(n, 20.0 + 5.0 * i) * float(rng.uniform(0.9, 1.1))
        elast[n] = round(float(rng.uniform(0.2, 0.5)), 3)
        amp[n] = round(float(rng.uniform(0.10, 0.25)), 3)
    for j, s in enumerate(segments):
        seg_f[s] = _SEGMENT_FACTOR.get(s, 0.8 + 0.1 * (j % 5)) * float(rng.uniform(0.95, 1.05))
    for n in networks:
        for s in segments:
            ref[(n, s)] = round(_TYPICAL_SPEND.get(n, 1000.0) * float(rng.uniform(0.6, 1.4)), 2)
    return SampleTruth(
        networks=networks,
        segments=segments,
        base_cpr=base,
        elasticity=elast,
        segment_factor=seg_f,
        ref_spend=ref,
        season_amplitude=amp,
    )


def generate_sample_history(
    seed: int = 7,
    *,
    networks: Sequence[str] = DEFAULT_NETWORKS,
    segments: Sequence[str] = DEFAULT_SEGMENTS,
    start: str | dt.date = "2025-01-06",
    weeks: int = 104,
    spend_sigma: float = 0.35,
    dark_weeks: tuple[int, int] = (2, 4),
) -> pd.DataFrame:
    """Draw seeded canonical weekly history from :func:`sample_truth` (module docstring).

    ``start`` must be a Monday; with the defaults the last week starts on 2026-12-28, so a
    plan for Q1 2027 follows on. Rows are sorted by date, network, segment.
    """
    start_ts = pd.Timestamp(start)
    if start_ts.day_of_week != 0:
        raise ValueError(f"start {start_ts.date()} is not a Monday")
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    truth = sample_truth(seed, networks, segments)
    rng = np.random.default_rng([seed, 2])
    dates = pd.date_range(start_ts, periods=weeks, freq="7D")
    doy = dates.day_of_year.to_numpy()
    # budgets swing with the season too (more in Q4), less than the costs do
    budget_season = 1.0 + 0.15 * np.cos(2.0 * np.pi * (doy - PEAK_DAY) / 365.25)
    frames = []
    for n in truth.networks:
        amp = truth.season_amplitude[n]
        season = 1.0 + amp * np.cos(2.0 * np.pi * (doy - truth.peak_day) / 365.25)
        for s in truth.segments:
            ref = truth.ref_spend[(n, s)]
            wiggle = rng.lognormal(0.0, spend_sigma, weeks)
            spend = np.round(ref * budget_season * wiggle, 2)
            n_dark = int(rng.integers(dark_weeks[0], dark_weeks[1] + 1))
            dark = rng.choice(weeks, size=min(n_dark, weeks), replace=False)
            spend[dark] = 0.0
            on = spend > 0
            cpr = np.full(weeks, np.inf)
            cpr[on] = (
                truth.base_cpr[n]
                * truth.segment_factor[s]
                * season[on]
                * (spend[on] / ref) ** truth.elasticity[n]
            )
            expected = np.where(on, spend / cpr, 0.0)
            noisy = expected * rng.lognormal(0.0, truth.noise, weeks)
            results = rng.poisson(noisy).astype("float64")
            cpm = _CPM.get(n, 7.0) * rng.lognormal(0.0, 0.1, weeks)
            impressions = np.where(on, np.round(spend / cpm * 1000.0), 0.0)
            ctr = _CTR.get(n, 0.008) * rng.lognormal(0.0, 0.15, weeks)
            clicks = np.round(rng.binomial(impressions.astype("int64"), np.clip(ctr, 0, 1)) * 1.0)
            clicks = np.maximum(clicks, results)  # a purchase needs a click in this world
            frames.append(
                pd.DataFrame(
                    {
                        "date": dates,
                        "network": n,
                        "segment": s,
                        "result_type": truth.result_type,
                        "spend": spend,
                        "results": results,
                        "impressions": impressions,
                        "clicks": clicks.astype("float64"),
                        "currency": truth.currency,
                        "campaign": [f"{n}-{s}-always-on-{d.year}" for d in dates],
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["date", "network", "segment"], kind="stable").reset_index(drop=True)
    from forecasting.history import validate_history

    return validate_history(df, source="sample history")
