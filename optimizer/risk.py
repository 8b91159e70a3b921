"""What a plan's results could be: scenarios drawn from the curves' uncertainty, and ranges.

Ranges cannot be added up line by line (a quarter's total is far surer than each of its
lines), so they are simulated. A **world** is one draw of everything the forecast is unsure
of, shared by every plan made on the same curves:

- lines with a ``spread`` (forecast by adplan, see :class:`~optimizer.curves.Spread`): per
  network × segment two standard normals (the error of its fitted level and of its slope,
  the same in every period), per line a gamma factor of mean 1 and variance ``dispersion``
  (noise from period to period); results are then Poisson counts around that mean, each a
  fixed quantile of its world (:func:`counts`), so each line's results follow the negative
  binomial of its ``low`` / ``high`` bands;
- lines with only ``low`` / ``high`` (curves from another tool): the band at the planned spend
  read as a log-normal spread around the curve (its 10th to 90th percentile), one normal per
  network × segment shared by its periods and independent between them, no count noise on
  top (the band holds it);
- lines with neither: taken as certain (the plan's ranges say how many);
- on curves of incremental results (``results_basis: incremental``), each world also draws
  one lift factor per network (a standard normal seeded by the network's name) that
  multiplies the results of its lines: log-normal of mean 1 with the sigma each line's
  ``lift`` interval says (:func:`lift_sigma`), so the ranges hold the lift tests'
  uncertainty too.

Draws are seeded by the names (a network × segment's normals by its network and segment, a
line's noise and counts by its key), so two plans on the same curves (a base and its variant,
the mean plan and the risk-aware one) meet the same worlds whatever lines they fund: the
probability that one beats the other is read world by world.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from .curves import MAX_LOG_VAR, CurveLine, Lift
from .lazy import mapped, triples

#: the percentiles a range gives (P10, P50, P90)
QUANTILES = (0.1, 0.5, 0.9)
#: worlds drawn for a plan's ranges (P10 and P90 of a total to about 1% of their width)
RANGE_SCENARIOS = 2000
#: the seed of every draw (plans reproduce exactly)
SEED = 2027
#: the standard normal's 90th percentile: a 10-90% band is 2 x this many standard deviations
Z90 = 1.2815515655446004


def _name_seed(*parts: str) -> list[int]:
    return [zlib.crc32(p.encode("utf-8")) for p in parts]


@dataclass(frozen=True, slots=True)
class World:
    """``scenarios`` draws of the curves' uncertainty for ``lines`` (see the module text)."""

    lines: tuple[CurveLine, ...]
    scenarios: int
    seed: int
    group: np.ndarray  # (lines,): the index of each line's network × segment
    z: np.ndarray  # (2, scenarios, groups): each network × segment's level and slope normals
    noise: np.ndarray | None  # (scenarios, lines): gamma factors of mean 1; None: no noise
    spreads: np.ndarray  # (lines, 4): each line's spread (NaN: none)
    #: (scenarios, lines): a uniform and a normal per line and world, that turn a mean into
    #: its count (:func:`counts`); None: the means are the results
    count_u: np.ndarray | None = None
    count_z: np.ndarray | None = None
    #: (scenarios, lines): each world's lift factor of each line (mean 1, one normal per
    #: network); None: the lift tests' uncertainty is not drawn
    lift: np.ndarray | None = None

    @property
    def z_level(self) -> np.ndarray:
        """Return the level normal of each line's network × segment, per world."""
        return self.z[0][:, self.group]

    @property
    def kind(self) -> str:
        """Return where the spread comes from: ``forecast``, ``bands``, ``mixed`` or ``none``."""
        has = {_kind(ln) for ln in self.lines} - {"none"}
        if not has and self.lift is not None:
            return "lift"  # only the lift tests are uncertain
        return "none" if not has else has.pop() if len(has) == 1 else "mixed"

    def factors(self, spend) -> np.ndarray:
        """Return each world's multiplier of each line's expected results at ``spend``.

        The multiplier has mean 1 over worlds (the curve is the mean), per line.
        """
        spend = np.asarray(spend, float)
        out = np.ones((self.scenarios, len(self.lines)))
        has = ~np.isnan(self.spreads[:, 0])
        if has.any():
            v0, m, se, _ = self.spreads[has].T
            g = self.group[has]
            w = np.log(np.maximum(spend[has], 1e-12)) - m
            v = v0 + (w * se) ** 2
            scale = np.sqrt(np.minimum(1.0, MAX_LOG_VAR / np.maximum(v, 1e-300)))
            e = (scale * np.sqrt(v0)) * self.z[0][:, g] + (scale * w * se) * self.z[1][:, g]
            e -= np.minimum(v, MAX_LOG_VAR) / 2.0
            out[:, has] = np.exp(e)
            if self.noise is not None:
                out[:, has] *= self.noise[:, has]
        for j in np.flatnonzero(~has):
            if self.lines[j].low is None and self.lines[j].high is None:
                continue  # taken as certain
            sigma = band_sigma(self.lines[j], float(spend[j]))
            if sigma > 0:
                out[:, j] = np.exp(sigma * self.z[0][:, self.group[j]] - sigma * sigma / 2.0)
        if self.lift is not None:
            out *= self.lift
        return out

    def results(self, spend, mean) -> np.ndarray:
        """Return each world's results on each line: the drawn mean, then counts around it."""
        m = self.factors(spend) * np.asarray(mean, float)[None, :]
        counted = ~np.isnan(self.spreads[:, 0])
        if counted.any() and self.count_u is not None and self.count_z is not None:
            c = np.flatnonzero(counted)
            m[:, c] = counts(m[:, c], self.count_u[:, c], self.count_z[:, c])
        return m


#: up to this mean a count is the Poisson's exact inverse at the world's uniform; above, its
#: Cornish-Fisher expansion at the world's normal (within about 0.1 of a count)
EXACT_COUNTS = 10.0


def counts(mean: np.ndarray, u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Return Poisson counts of ``mean``, each the same quantile (``u``, or ``z``) in every plan.

    A count is a fixed quantile of its Poisson, so two plans whose line has nearly the same
    mean get nearly the same count, and more mean never gives a smaller count.
    """
    out = np.floor(mean + np.sqrt(mean) * z + (z * z - 1.0) / 6.0 + 0.5)
    small = mean <= EXACT_COUNTS
    if small.any():
        ms, us = mean[small], u[small]
        p = np.exp(-ms)
        cdf, k = p.copy(), np.zeros_like(ms)
        for n in range(1, 60):  # P(count >= 60 | mean <= 10) < 1e-20
            step = us > cdf
            if not step.any():
                break
            k += step
            p *= ms / n
            cdf += p
        out[small] = k
    return np.maximum(out, 0.0)


def _spread_row(ln: CurveLine) -> tuple[float, float, float, float]:
    sp = ln.spread
    if sp is None:
        return (np.nan,) * 4
    return (sp.level_var, sp.log_spend_centre, sp.elasticity_se, sp.dispersion)


def uncertain(lines: Sequence[CurveLine], *, lift: bool = False) -> bool:
    """Return whether any of ``lines`` carries its uncertainty (a spread, or low/high).

    ``lift=True`` (curves of incremental results): a lift interval counts too.
    """
    return any(_kind(ln) != "none" for ln in lines) or (lift and _lifted(lines))


def curves_uncertain(curves) -> bool:
    """Return whether plans on ``curves`` have ranges to simulate (found once per curves)."""
    lift = draws_lift(curves)
    return bool(curves.memo(("uncertain", lift), lambda: uncertain(curves.lines, lift=lift)))


def draws_lift(curves) -> bool:
    """Return whether the ranges of plans on ``curves`` draw the lift tests' uncertainty.

    They do on curves of incremental results (``results_basis: incremental``), whose points
    rest on the lift tests' ratios.
    """
    return getattr(curves, "basis", "attributed") == "incremental"


def lift_sigma(lift: Lift | None) -> float:
    """Return the log-normal sigma of a lift ratio that its interval says (0: none).

    The interval ``low``..``high`` at confidence ``level`` read as the ratio's central
    interval on the log scale; with ``low`` at 0, ``high`` alone (its upper end); a ratio of
    0 is certain.
    """
    if lift is None or lift.ratio <= 0:
        return 0.0
    z = NormalDist().inv_cdf(0.5 + lift.level / 2.0)
    if lift.low > 0 and lift.high > lift.low:
        return math.log(lift.high / lift.low) / (2.0 * z)
    if lift.high > lift.ratio:
        return math.log(lift.high / lift.ratio) / z
    return 0.0


def _lifted(lines: Sequence[CurveLine]) -> bool:
    return any(lift_sigma(ln.lift) > 0 for ln in lines)


def _kind(ln: CurveLine) -> str:
    if ln.spread is not None:
        return "forecast"
    return "bands" if ln.low is not None or ln.high is not None else "none"


def band_sigma(ln: CurveLine, spend: float) -> float:
    """Return the log-normal sigma that a line's 10-90% band says at ``spend`` (0: no band)."""
    mid = ln.results_at(spend)
    if mid <= 0:
        return 0.0
    lo = None if ln.low is None else _at(ln.low, spend)
    hi = None if ln.high is None else _at(ln.high, spend)
    if lo is not None and hi is not None and lo > 0 and hi > lo:
        return float(np.log(hi / lo) / (2 * Z90))
    if hi is not None and hi > mid:
        return float(np.log(hi / mid) / Z90)
    if lo is not None and 0 < lo < mid:
        return float(np.log(mid / lo) / Z90)
    return 0.0


def _at(points, spend: float) -> float:
    x = [p[0] for p in points]
    y = [p[1] for p in points]
    return float(np.interp(spend, x, y))


def draw_world(
    lines: Sequence[CurveLine],
    scenarios: int = RANGE_SCENARIOS,
    seed: int = SEED,
    *,
    with_noise: bool = True,
    antithetic: bool = False,
    lift: bool = False,
) -> World:
    """Return a :class:`World` of ``scenarios`` draws for ``lines``, seeded by their names.

    ``with_noise=False`` leaves out the noise from period to period (its mean, 1, in every world);
    ``antithetic=True`` draws the level and slope normals in pairs ``z, -z`` (the second half
    of the worlds mirrors the first), so that their sampled mean is exactly 0. ``lift=True``
    (curves of incremental results, :func:`draws_lift`) draws the lift tests' uncertainty too.
    """
    spreads = np.array([_spread_row(ln) for ln in lines], dtype=float).reshape(-1, 4)
    keys = tuple(ln.key for ln in lines)
    d = _draws(keys, spreads.tobytes(), int(scenarios), seed, with_noise, antithetic)
    factors = _lift_factors(lines, int(scenarios), seed, antithetic) if lift else None
    return World(tuple(lines), int(scenarios), seed, d[0], d[1], d[2], spreads, d[3], d[4], factors)


def _lift_factors(lines: Sequence[CurveLine], k: int, seed: int, antithetic: bool):
    """Return each world's lift factor of each line, (worlds, lines); None if none is unsure.

    One standard normal per network and world, seeded by the network's name (the lines of a
    network share it, whatever other lines are planned); each line's factor is log-normal of
    mean 1 with its lift's sigma (:func:`lift_sigma`).
    """
    sigma = np.array([lift_sigma(ln.lift) for ln in lines], dtype=float)
    if not (sigma > 0).any():
        return None
    z = np.zeros((k, len(lines)))
    for net in sorted({ln.network for ln, s in zip(lines, sigma, strict=True) if s > 0}):
        zn = np.random.default_rng([seed, *_name_seed(net), 0, 2]).standard_normal(k)
        if antithetic:
            half = k // 2
            zn[half : 2 * half] = -zn[:half]
        cols = [j for j, ln in enumerate(lines) if ln.network == net]
        z[:, cols] = zn[:, None]
    out = np.exp(sigma[None, :] * z - sigma[None, :] ** 2 / 2.0)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=2)
def _draws(keys: tuple, spreads: bytes, k: int, seed: int, with_noise: bool, antithetic: bool):
    """Return a world's draws: groups, their normals, the lines' noise and counts' quantiles.

    They depend on the lines' names and spreads alone, so the plans of one scenario run
    (a base and its variants, on curves whose results differ but not their spreads) share
    one set: the two most recent are kept. The arrays are read-only.
    """
    index: dict[tuple[str, str], int] = {}
    group = np.array([index.setdefault(key[:2], len(index)) for key in keys], dtype=np.intp)
    z = np.empty((2, k, len(index)))
    for (net, seg), gi in index.items():
        z[:, :, gi] = np.random.default_rng([seed, *_name_seed(net, seg)]).standard_normal((2, k))
    if antithetic:
        half = k // 2
        z[:, half : 2 * half, :] = -z[:, :half, :]
    out = [group, z, None, None, None]
    if with_noise:
        phi = np.frombuffer(spreads).reshape(-1, 4)[:, 3]
        out[2:] = _line_draws(keys, phi, k, seed)
    for a in out:
        if a is not None:
            a.flags.writeable = False
    return tuple(out)


def _line_draws(keys: tuple, phi: np.ndarray, k: int, seed: int):
    """Return each forecast line's own draws: its noise, and its counts' uniform and normal.

    One stream per line, seeded by its network, segment and period: the same line of the
    same curves gets the same draws whichever other lines are planned.
    """
    # one row per line while drawing (contiguous), handed out as (worlds, lines) views
    u, z = np.full((len(keys), k), 0.5), np.zeros((len(keys), k))
    noise = np.ones((len(keys), k)) if (np.nan_to_num(phi) > 0).any() else None
    for j in np.flatnonzero(~np.isnan(phi)):
        rng = np.random.default_rng([seed, *_name_seed(*keys[j]), 1])
        u[j], z[j] = rng.random(k), rng.standard_normal(k)
        if noise is not None and phi[j] > 0:
            noise[j] = rng.gamma(1.0 / phi[j], phi[j], k)
    return (None if noise is None else noise.T), u.T, z.T


def quantiles(x: np.ndarray) -> dict[str, float]:
    """Return the P10, P50 and P90 of ``x``, one value per world."""
    q = np.quantile(x, QUANTILES)
    return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}


@dataclass(frozen=True, slots=True)
class Simulation:
    """A plan's results in each world: ``results[k, j]`` for world k and line j."""

    lines: tuple[CurveLine, ...]
    results: np.ndarray
    world: World

    @property
    def total(self) -> np.ndarray:
        """Return the plan's total results in each world."""
        return self.results.sum(axis=1)

    def by(self, kind: str) -> dict[str, np.ndarray]:
        """Return the results of each network, segment or period (``kind``) in each world."""
        names = [getattr(ln, kind) for ln in self.lines]
        out: dict[str, np.ndarray] = {}
        for name in sorted(set(names)):
            cols = [j for j, n in enumerate(names) if n == name]
            out[name] = self.results[:, cols].sum(axis=1)
        return out

    def chance(self, target: float) -> float:
        """Return the share of worlds whose total reaches ``target``."""
        return float((self.total >= target * (1 - 1e-12)).mean())


def simulate(
    lines,
    spend,
    mean,
    *,
    scenarios: int = RANGE_SCENARIOS,
    seed: int = SEED,
    lift: bool = False,
):
    """Return the :class:`Simulation` of a plan: ``spend`` and expected ``mean`` per line.

    Every line is drawn (a line without spend brings nothing in every world), so plans on
    the same curves meet exactly the same worlds whichever lines they fund. ``lift``: draw
    the lift tests' uncertainty too (:func:`draws_lift`).
    """
    spend, mean = np.asarray(spend, float), np.asarray(mean, float)
    lines = tuple(lines)
    if not uncertain(lines, lift=lift):
        scenarios = 1  # nothing uncertain: every world is the same
    world = draw_world(lines, scenarios, seed, lift=lift)
    return Simulation(lines, world.results(spend, mean), world)


def source_words(lines: Sequence[CurveLine], scenarios: int, *, lift: bool = False) -> str:
    """Say how a plan's ranges were made, and what of the curves they rest on.

    ``lift``: the worlds drew the lift tests' uncertainty too.
    """
    kinds = [_kind(ln) for ln in lines]
    n_bands, n_none = kinds.count("bands"), kinds.count("none")
    if n_none == len(kinds) and not lift:  # (the plan's curves carry no uncertainty)
        return (
            "no range: the curves carry neither a spread nor low/high, so the plan's results "
            "are taken as certain (forecast the curves with adplan, or give low/high)"
        )
    words = [
        f"P10-P90 simulated over {scenarios:,} draws of the forecast's uncertainty: a total's "
        "range is not the sum of its lines' ranges"
    ]
    if kinds.count("forecast"):
        words.append(
            "forecast lines: each network x segment's level and slope error, shared by its "
            "periods, then noise from period to period"
        )
    if n_bands:
        words.append(
            f"{n_bands} line(s) carry only low/high (curves from another tool): each band read "
            "as a log-normal spread at the line's spend, shared by the periods of a network x "
            "segment and independent between them"
        )
    if n_none:
        but = " but for their lift tests" if lift else ""
        words.append(f"{n_none} line(s) carry neither a spread nor low/high: taken as certain{but}")
    if lift:
        words.append(
            "incremental results: each world also draws one lift factor per network "
            "(log-normal of mean 1, from the lift tests' interval at its confidence, shared "
            "by the network's lines), so the range holds the lift tests' uncertainty"
        )
    return "; ".join(words)


def ranges(sim: Simulation, total_spend: float) -> dict:
    """Return the Plan JSON's ``ranges``: total, cost per result, networks, segments, periods."""
    total = quantiles(sim.total)
    cpr = {
        k: (total_spend / total[q] if total[q] > 0 else None)
        for k, q in (("p10", "p90"), ("p50", "p50"), ("p90", "p10"))
    }
    out: dict = {
        "scenarios": sim.world.scenarios,
        "seed": sim.world.seed,
        "source": sim.world.kind,
        "note": source_words(sim.lines, sim.world.scenarios, lift=sim.world.lift is not None),
        "total": total,
        "cost_per_result": cpr,
    }
    for kind in ("network", "segment", "period"):
        out[kind + "s"] = {name: quantiles(x) for name, x in sim.by(kind).items()}
    return out


def line_ranges(sim: Simulation) -> dict[tuple[str, str, str], tuple[float, float]]:
    """Return the P10 and P90 of each line's results, by line key."""
    q = np.quantile(sim.results, (QUANTILES[0], QUANTILES[2]), axis=0)
    return {ln.key: (float(q[0, j]), float(q[1, j])) for j, ln in enumerate(sim.lines)}


def plan_simulation(plan, curves, *, scenarios: int = RANGE_SCENARIOS, seed: int = SEED):
    """Return the :class:`Simulation` of ``plan`` (made on ``curves``): its results per world."""
    by_key = {ln.key: ln for ln in curves.lines}
    names, spend, results = zip(*triples(plan.lines), strict=True) if plan.lines else ((),) * 3
    return simulate(
        [by_key[(p.network, p.segment, p.period)] for p in names],
        list(spend),
        list(results),
        scenarios=scenarios,
        seed=seed,
        lift=draws_lift(curves),
    )


def beats(sim: Simulation, base: Simulation) -> float:
    """Return the share of worlds in which ``sim``'s total is above ``base``'s (ties: half).

    The worlds are the same (seeded by the lines' names) when both plans have the same
    number of them: the chance one plan beats the other is read world by world.
    """
    a, b = sim.total, base.total
    return float(((a > b) + 0.5 * (a == b)).mean())


#: the keys of a total's band (a frontier point's)
BAND_KEYS = ("results_p10", "results_p50", "results_p90")


def band(world: World, spend, mean) -> dict:
    """Return the P10, P50 and P90 of the total results at ``spend`` in ``world``."""
    q = np.quantile(world.results(spend, mean).sum(axis=1), QUANTILES)
    return {k: float(v) for k, v in zip(BAND_KEYS, q, strict=True)}


def with_ranges(plan, curves, *, sim: Simulation | None = None):
    """Return ``plan`` with its ranges (and the chance of its target), simulated on ``curves``.

    ``sim``: the plan's :func:`plan_simulation` when already made.
    """
    if sim is None and not curves_uncertain(curves):
        return replace(plan, ranges=certain_ranges(plan))  # no range, no chance to tell
    sim = plan_simulation(plan, curves) if sim is None else sim
    per_line = line_ranges(sim)
    new_lines = mapped(
        plan.lines,
        lambda p: replace(
            p,
            results_p10=per_line[(p.network, p.segment, p.period)][0],
            results_p90=per_line[(p.network, p.segment, p.period)][1],
        ),
    )
    chance = None if plan.target_results is None else sim.chance(plan.target_results)
    return replace(
        plan,
        lines=new_lines,
        ranges=ranges(sim, plan.total_spend),
        target_probability=chance,
    )


def certain_ranges(plan) -> dict:
    """Return the ``ranges`` of a plan on curves without uncertainty: its expected values."""

    def same(v: float) -> dict[str, float]:
        return {"p10": v, "p50": v, "p90": v}

    cpr = plan.cost_per_result
    out: dict = {
        "scenarios": 0,
        "seed": SEED,
        "source": "none",
        "note": source_words([], 0),
        "total": same(plan.expected_results),
        "cost_per_result": {"p10": cpr, "p50": cpr, "p90": cpr},
    }
    for kind in ("network", "segment", "period"):
        out[kind + "s"] = {
            k: same(t["expected_results"]) for k, t in sorted(plan.totals_by(kind).items())
        }
    return out
