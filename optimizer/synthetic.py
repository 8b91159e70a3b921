"""Synthetic response curves for benchmarks, tests and examples (seeded, numpy only).

Each line follows a saturation curve ``results = a * (1 - exp(-spend / k))``; tiers are placed
at equal steps of results (better than equal steps of spend).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .curves import CurveLine, Curves, Spread


def saturation_points(a: float, k: float, tiers: int, reach: float = 0.95) -> list[list[float]]:
    """Return ``tiers + 1`` points of ``a * (1 - exp(-s / k))`` up to ``reach`` of saturation.

    The points are at equal steps of results, starting at (0, 0).
    """
    frac = np.linspace(0.0, reach, tiers + 1)
    spend = -k * np.log1p(-frac)
    return [[float(s), float(a * f)] for s, f in zip(spend, frac, strict=True)]


def synthetic_curves(
    networks: int = 8,
    segments: int = 25,
    periods: int = 13,
    tiers: int = 8,
    *,
    seed: int = 0,
    currency: str = "EUR",
    result_type: str = "purchases",
    value: bool = False,
    spread: bool = False,
) -> Curves:
    """Build ``networks x segments x periods`` seeded lines of ``tiers`` tiers each.

    Periods are ISO weeks of 2027; with ``value`` every line gets a ``value_per_result``; with
    ``spread`` a forecast's uncertainty (:class:`~optimizer.curves.Spread`: each network x
    segment's level and slope known to a few percent, its history's spend somewhere in the
    curve's first half).
    """
    rng = np.random.default_rng(seed)
    spread_rng = np.random.default_rng([seed, 1])  # its own stream: the same curves either way
    lines = []
    net_cpr = rng.uniform(8, 40, networks)
    for n in range(networks):
        seg_mult = rng.uniform(0.6, 1.6, segments)
        for s in range(segments):
            sp = _spread(spread_rng) if spread else None
            for p in range(periods):
                cpr0 = net_cpr[n] * seg_mult[s] * rng.uniform(0.85, 1.15)
                k = float(rng.uniform(500, 4000))
                a = k / cpr0  # initial slope a/k = 1/cpr0
                lines.append(
                    CurveLine(
                        network=f"net{n:02d}",
                        segment=f"seg{s:03d}",
                        period=f"2027-W{p + 1:02d}",
                        points=tuple((x, y) for x, y in saturation_points(a, k, tiers)),
                        value_per_result=float(rng.uniform(20, 80)) if value else None,
                        spread=None
                        if sp is None
                        else replace(sp, log_spend_centre=math.log(k) + sp.log_spend_centre),
                    )
                )
    return Curves(lines=tuple(lines), currency=currency, result_type=result_type)


def _spread(rng) -> Spread:
    """Return a seeded line's uncertainty; its centre is relative to the curve's scale k."""
    return Spread(
        level_var=float(rng.uniform(0.0005, 0.02)),
        log_spend_centre=float(rng.uniform(-2.0, 0.0)),
        elasticity_se=float(rng.uniform(0.02, 0.2)),
        dispersion=float(rng.uniform(0.0, 0.03)),
    )


def benchmark_spec_dict(curves: Curves, budget_share: float = 0.5) -> dict:
    """Build a rule set like an SMM's (~65 rules): budget, shares, segment floors, period caps.

    The budget is ``budget_share`` of what all the lines can absorb, rounded to cents.
    """
    cap = sum(ln.max_spend for ln in curves.lines)
    budget = round(cap * budget_share, 2)
    nets = curves.networks
    segs = curves.segments
    pers = curves.periods
    spec: dict = {"budget": budget, "networks": {}, "segments": {}, "periods": {}}
    for i, n in enumerate(nets):
        rule: dict = {"max_share": 0.35}
        if i % 2 == 0:
            rule["min_share"] = 0.03
        spec["networks"][n] = rule
    for s in segs[: min(len(segs), 25)]:
        spec["segments"][s] = {"min": round(budget * 0.002, 2)}
    for p in pers:
        spec["periods"][p] = {"max": round(budget / len(pers) * 1.3, 2)}
    return spec
