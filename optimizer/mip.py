"""On/off plans (``min_line_spend``, ``min_daily_spend``, ``max_active_lines``) always finish.

The same steps for every solver (``solvers.py`` gives each one the four moves
:class:`OnOffBackend` lists):

0. **Guess.** :func:`lagrangian_switches` prices the budget (and the line count) and switches
   on the lines that earn more than they cost; every other rule is left out, so it also gives
   an upper bound. The guessed switches are fixed and the LP solved (from the crash basis):
   a plan that keeps every rule. If it meets the bound (gap within :data:`MIP_REL_GAP`),
   it is optimal and nothing else runs.
1. **Bound.** Solve the LP with every on/off variable relaxed to [0, 1]. The rules of
   ``optimizer/rules/onoff.py`` tie each tier to its line's switch (``tier <= width x on``),
   so a relaxed line is its own curve scaled by ``on``: the convex hull of "off, or on with at
   least the minimum". This bound holds under every rule, is as tight as the Lagrangian one
   on the budget and the line count, and only as many switches as there are coupling rows
   end fractional.
2. **Incumbent.** Round the relaxed switches (down; to nearest where ``max_active_lines``
   allows; up likewise), fix them and solve the LP: each feasible rounding is a plan that
   keeps every rule. The best plan so far, with the bound, gives a proven gap; within
   :data:`MIP_REL_GAP` the plan is optimal and the solver's branch and bound is not needed.
3. **Branch and bound** from that incumbent, within what is left of the time limit. At the
   limit the best plan found comes back with status ``time_limit`` and its proven gap.

The plan's switches are then fixed and the LP solved once more for its prices (duals).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .model import Model

#: the relative gap under which an on/off plan is reported optimal (HiGHS's mip_rel_gap)
MIP_REL_GAP = 1e-7
#: the time limit (seconds) of a solve when none is given: ``--time-limit``, ADPLAN_TIME_LIMIT
DEFAULT_TIME_LIMIT = 60.0
#: the row families of a line's least spend when switched on (``spend - m x on >= 0``)
MINIMUM_FAMILIES = frozenset({"min_line_spend", "min_daily_spend"})
#: the least time given to branch and bound, even when the bound and rounding used it all
MIN_SEARCH_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class LPResult:
    """One LP or MILP run: its status, column values and objective (and bound, for a MILP)."""

    status: str  # optimal | infeasible | time_limit | <solver text>
    x: np.ndarray | None
    objective: float
    bound: float | None = None


class OnOffBackend(Protocol):
    """What :func:`solve_onoff` needs from a solver."""

    model: Model

    def relax_switches(self) -> None:
        """Make the on/off variables continuous in [0, 1]."""

    def fix_switches(self, y: np.ndarray, *, crash: bool = False) -> None:
        """Make the on/off variables continuous and fixed at ``y`` (``crash``: cold start)."""

    def run_lp(self, time_limit: float) -> LPResult:
        """Solve the model as it stands as an LP (with row prices kept for the plan)."""

    def run_mip(self, start: np.ndarray | None, time_limit: float) -> LPResult:
        """Solve with integral switches from the incumbent ``start``, within ``time_limit``."""


@dataclass(frozen=True, slots=True)
class OnOffResult:
    """The outcome: status, the switches chosen, the proven bound and the relative gap."""

    status: str  # optimal | time_limit | infeasible | <solver text>
    y: np.ndarray | None
    objective: float
    bound: float
    gap: float | None
    search: str  # what proved it: "lagrangian", "rounding" or "branch and bound"


def relative_gap(bound: float, objective: float) -> float:
    """Return ``(bound - objective) / |bound|`` (0 when both are 0; never negative)."""
    gap = bound - objective
    scale = max(abs(bound), abs(objective))
    if scale == 0.0 or gap <= 0.0:
        return 0.0
    return gap / scale


def active_limit(model: Model) -> int | None:
    """Return the ``max_active_lines`` of ``model`` (the upper bound of its row), or None.

    None also when the row has no upper bound (the ledger removes a rule that way).
    """
    for i, r in enumerate(model.rows):
        if r.family == "max_active_lines" and np.isfinite(model.row_ub[i]):
            return int(round(model.row_ub[i]))
    return None


def roundings(y_relaxed: np.ndarray, k: int | None) -> list[np.ndarray]:
    """Return the distinct roundings of the relaxed switches worth trying (down first).

    Down keeps ``max_active_lines`` (``k``); to nearest and up are tried only when they keep
    it too.
    """
    out = [y_relaxed >= 1.0 - 1e-6]
    for y in (y_relaxed >= 0.5, y_relaxed > 1e-6):
        if (k is None or int(y.sum()) <= k) and not any(np.array_equal(y, o) for o in out):
            out.append(y)
    return [y.astype(float) for y in out]


def solve_onoff(
    backend: OnOffBackend, time_limit: float, start: np.ndarray | None = None
) -> OnOffResult:
    """Guess, bound, round, then branch and bound within ``time_limit`` seconds (module doc).

    ``start``: switches known to give a plan (the ledger's re-solves start from the plan's
    own), tried beside the Lagrangian guess.
    """
    t0 = time.perf_counter()

    def left() -> float:
        return max(time_limit - (time.perf_counter() - t0), MIN_SEARCH_SECONDS)

    m = backend.model
    guess = lagrangian_switches(m)
    bound = guess.bound if guess is not None else float("inf")
    tries = ([] if guess is None else [guess.y]) + ([] if start is None else [start])
    best = _best_rounding(backend, tries, left(), crash=True) if tries else None
    if best is not None and relative_gap(bound, best[1].objective) <= MIP_REL_GAP:
        return _done("optimal", best, bound, "lagrangian")
    backend.relax_switches()
    relaxed = backend.run_lp(left())
    if relaxed.status == "optimal" and relaxed.x is not None:
        bound = min(bound, relaxed.objective)
        candidates = roundings(relaxed.x[m.binary_cols], active_limit(m))
        best = _better(best, _best_rounding(backend, candidates, left()))
    elif relaxed.status != "time_limit" or best is None:
        return OnOffResult(relaxed.status, None, float("nan"), float("nan"), None, "rounding")
    if best is not None and relative_gap(bound, best[1].objective) <= MIP_REL_GAP:
        return _done("optimal", best, bound, "rounding")
    out_of_time = relaxed.status == "time_limit" or time.perf_counter() - t0 >= time_limit
    if best is not None and out_of_time:
        return _done("time_limit", best, bound, "rounding")
    return _branch_and_bound(backend, best, bound, left())


def _branch_and_bound(
    backend: OnOffBackend, best: tuple[np.ndarray, LPResult] | None, bound: float, left: float
) -> OnOffResult:
    """Step 3: the solver's own search from the incumbent ``best``; the better plan wins."""
    found = backend.run_mip(None if best is None else best[1].x, left)
    status = "optimal" if found.status == "optimal" else "time_limit"
    if status == "optimal" and found.x is not None:  # proven: the bound is the optimum
        bound = min(bound, found.objective if found.bound is None else found.bound)
    elif found.bound is not None:
        bound = min(bound, found.bound)
    if found.x is not None and (best is None or found.objective > best[1].objective):
        y = np.round(found.x[backend.model.binary_cols])
        gap = relative_gap(bound, found.objective)
        return OnOffResult(status, y, found.objective, bound, gap, "branch and bound")
    if best is None:  # the rules cannot hold, or no plan was found in time
        return OnOffResult(found.status, None, float("nan"), bound, None, "branch and bound")
    return _done(status, best, bound, "branch and bound")


def _better(a, b):
    if a is None or (b is not None and b[1].objective > a[1].objective):
        return b
    return a


def _best_rounding(
    backend: OnOffBackend, candidates: list[np.ndarray], time_limit: float, crash: bool = False
) -> tuple[np.ndarray, LPResult] | None:
    best = None
    for y in candidates:
        backend.fix_switches(y, crash=crash)
        r = backend.run_lp(time_limit)
        if r.status == "optimal" and (best is None or r.objective > best[1].objective):
            best = (y, r)
    return best


def _done(status: str, best: tuple[np.ndarray, LPResult], bound: float, search: str) -> OnOffResult:
    y, r = best
    bound = max(bound, r.objective)
    return OnOffResult(status, y, r.objective, bound, relative_gap(bound, r.objective), search)


@dataclass(frozen=True, slots=True)
class Guess:
    """Switches from the Lagrangian relaxation and the upper bound it proves."""

    y: np.ndarray
    bound: float


def _line_minimums(m: Model) -> np.ndarray:
    """Return each line's least spend when switched on (0 where it has no minimum row).

    The rows are ``min_line_spend`` or ``min_daily_spend`` (one per line at most).
    """
    mins = np.zeros(len(m.binary_cols))
    for i, r in enumerate(m.rows):
        if r.family in MINIMUM_FAMILIES:
            last = m.indptr[i + 1] - 1  # the row is spend - m x on: the switch comes last
            mins[np.searchsorted(m.binary_cols, m.indices[last])] = -m.data[last]
    return mins


def _value_at(c: np.ndarray, w: np.ndarray, start: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Return each line's objective at ``spend`` (tiers filled in order)."""
    line = np.repeat(np.arange(len(spend)), np.diff(start))
    before = np.cumsum(w) - w
    before -= np.repeat(before[start[:-1]], np.diff(start))
    fill = np.clip(spend[line] - before, 0.0, w)
    return np.bincount(line, weights=c * fill, minlength=len(spend))


class _Lagrangian:
    """The budget (price ``lam``) and the line count (price ``mu``) moved into the objective."""

    def __init__(self, m: Model) -> None:
        nt = m.n_tier
        self.c, self.w, self.start = m.c[:nt], m.col_ub[:nt], m.tier_start
        self.line = m.tier_line
        self.n = len(m.tier_start) - 1
        self.k = active_limit(m)
        self.cap = np.bincount(self.line, weights=self.w, minlength=self.n)
        self.mins = _line_minimums(m)
        self.at_min = _value_at(self.c, self.w, self.start, self.mins)

    def at(self, lam: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Return the lines on, their spend and the dual value (less ``lam x budget``)."""
        up = self.c > lam
        s_up = np.bincount(self.line, weights=self.w * up, minlength=self.n)
        gain = np.bincount(self.line, weights=(self.c - lam) * self.w * up, minlength=self.n)
        low = s_up < self.mins
        value = np.where(low, self.at_min - lam * self.mins, gain)
        value[self.mins > self.cap] = -np.inf  # cannot reach its minimum: never on
        on = value > 0
        mu = 0.0
        if self.k is not None and on.sum() > self.k:
            mu = float(np.partition(value, -self.k - 1)[-self.k - 1]) if self.k < self.n else 0.0
            on = value > mu
        spend = np.where(on, np.maximum(s_up, self.mins), 0.0)
        dual = float(np.maximum(value - mu, 0.0).sum()) + mu * (self.k or 0)
        return on, spend, dual


def lagrangian_switches(m: Model, steps: int = 60) -> Guess | None:
    """Switch lines on by the Lagrangian relaxation of the budget and the line count.

    For a price ``lam`` on the budget each line is on, at its best spend above its minimum,
    when that earns more than it costs at ``lam`` (and, with ``max_active_lines``, when it
    is among the K that earn most). ``lam`` is bisected until the lines on fit the budget.
    Every other rule is left out, so ``lam x budget + ...`` is an upper bound on the plan,
    and the switches are a guess the LP then repairs under every rule. None where it does
    not apply (a target plan, which minimises spend, or no finite budget).
    """
    nt = m.n_tier
    budget = float(m.row_ub[m.budget_row]) - m.spent_offset
    if not np.isfinite(budget) or np.any(m.c[nt:] != 0) or not np.any(m.c[:nt] > 0):
        return None
    lg = _Lagrangian(m)
    lo, hi = 0.0, float(m.c[:nt].max())
    best_bound = float("inf")
    on_fit = np.zeros(lg.n, dtype=bool)
    for _ in range(steps):
        lam = 0.5 * (lo + hi)
        on, spend, dual = lg.at(lam)
        best_bound = min(best_bound, dual + lam * budget)
        if spend.sum() <= budget:
            hi, on_fit = lam, on
        else:
            lo = lam
    on, spend, dual = lg.at(hi)
    best_bound = min(best_bound, dual + hi * budget)
    if spend.sum() <= budget:
        on_fit = on
    return Guess(on_fit.astype(float), best_bound)
