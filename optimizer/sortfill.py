"""Exact plans by sorting: a budget and limits on single lines need no LP.

With concave curves and no rule but the budget and limits on single lines (``lines:`` with
``min``, ``max`` or ``lock``; exclusions remove lines), the LP's optimum fills tiers in order
of their objective per unit of currency: first each line's floor (its own tiers, in order),
then the free capacity of every tier, best first, until the budget runs out. The budget's
price is the objective of the tier where the money runs out (0 when it does not); a line held
at its cap, floor or lock has the objective of the tier its limit cuts, less the budget's
price. These are the LP's optimal duals when its optimum is a unique, non-degenerate vertex.
Where it is not (two tiers of the same objective at the margin, the budget or a limit on a
tier's end, a tier of objective 0 with money to spare), :meth:`SortFill.solve` returns None
and the LP decides: a plan is the LP's in every case (``tests/optimizer/test_opt_sortfill.py``
compares both on random instances, under HiGHS and CBC).

:class:`SortSolver` stands where an LP solver stands (``allocate``, ``frontier``): it sorts
where it can and hands the budget to the LP solver, built on first need, where it cannot.
What each binding rule costs (``optimizer/ledger.py``) is measured on the sorted order too:
the gain of removing the rule, merged exactly from the tiers it frees and those it displaces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .explain import FULL_RTOL, TIE_RTOL
from .model import Model
from .solvers import Solution

#: the rule families whose rows the sort holds exactly (row 0 defines the total spend)
SORT_FAMILIES = frozenset({"budget", "line_min", "line_max", "lock"})


@dataclass(frozen=True, slots=True)
class _Bounds:
    """Each line's least and most spend under its rules, and the rows that set them."""

    lo: np.ndarray
    hi: np.ndarray
    lo_row: np.ndarray  # -1: no rule sets it (0, the line's floor)
    hi_row: np.ndarray  # -1: the end of its curve
    cap: np.ndarray  # the limit of the row in hi_row as given (inf: none), maybe past the end


def _line_rows(model: Model) -> _Bounds | None:
    """Return the lines' bounds from their rule rows; None unless every row is a sort rule."""
    if model.is_mip or model.n_col != model.n_tier + 1 or model.c[model.total_col] != 0:
        return None
    if model.rows[0].family or any(r.family not in SORT_FAMILIES for r in model.rows[1:]):
        return None
    n = len(model.lines)
    start = model.tier_start
    width = model.col_ub[: model.n_tier]
    lo, hi = np.zeros(n), np.add.reduceat(width, start[:-1].astype(np.intp)) if n else np.zeros(0)
    lo_row, hi_row, cap = np.full(n, -1), np.full(n, -1), np.full(n, np.inf)
    fams = np.array([r.family for r in model.rows], dtype=object)
    rows = np.flatnonzero(np.isin(fams, ("line_min", "line_max", "lock")))
    if not len(rows):
        return _Bounds(lo, hi, lo_row, hi_row, cap)
    ln = _whole_lines(model, rows)
    if ln is None:
        return None
    limit = np.array([model.rows[i].limit for i in rows.tolist()], dtype=float)
    for fam, set_lo in (("line_min", True), ("line_max", False), ("lock", None)):
        pick = fams[rows] == fam
        r, where, lim = rows[pick], ln[pick], limit[pick]
        if set_lo is not False:  # a min or a lock: the line's floor
            if np.any(lo_row[where] >= 0) or len(np.unique(where)) < len(where):
                return None  # two floors on one line (a min and a lock): the LP decides
            lo_row[where], lo[where] = r, np.maximum(lo[where], lim)
        if set_lo is not True:  # a max or a lock: the line's cap
            if np.any(hi_row[where] >= 0) or len(np.unique(where)) < len(where):
                return None
            hi_row[where], cap[where], hi[where] = r, lim, np.minimum(hi[where], lim)
    return _Bounds(lo, hi, lo_row, hi_row, cap)


def _whole_lines(model: Model, rows: np.ndarray) -> np.ndarray | None:
    """Return the line each of ``rows`` adds up (all its tiers, each once, coefficient 1).

    None when a row is anything else.
    """
    begin, end = model.indptr[rows], model.indptr[rows + 1]
    lens = end - begin
    if np.any(lens == 0):
        return None
    ln = model.tier_line[model.indices[begin]]
    first = model.tier_start[ln]
    if np.any(lens != model.tier_start[ln + 1] - first):
        return None
    offset = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)  # in its row
    at, want = np.repeat(begin, lens) + offset, np.repeat(first, lens) + offset
    if np.any(model.indices[at] != want) or np.any(model.data[at] != 1.0):
        return None
    return ln


def _tied_within(model: Model, bounds: _Bounds) -> bool:
    """Say whether a line with a rule has two neighbouring tiers of the same objective.

    Its floor or cap may then cut either: the LP may split the spend between them any way
    (a value of 0, say), and only the LP's own split gives its reasons.
    """
    c, line = model.c[: model.n_tier], model.tier_line
    same = np.abs(np.diff(c)) <= TIE_RTOL * np.maximum(np.abs(c[1:]), 1e-12)
    ruled = (bounds.lo_row >= 0) | (bounds.hi_row >= 0)
    return bool(np.any(same & (line[:-1] == line[1:]) & ruled[line[1:]]))


@dataclass(slots=True)
class _State:
    """Where the last budget's money ran out: the piece at the margin and the price."""

    k: int  # position in the order of the piece at the margin (len(order): none)
    filled: float  # how much of that piece is funded
    price: float  # the budget's shadow price (0: money to spare)
    spare: float  # budget left unspent


class SortFill:
    """The sorted tiers of a model that only a budget and line limits constrain.

    :meth:`of` returns None for any other model. :meth:`solve` gives the LP's optimum and
    duals at a budget, or None where the LP must decide (see the module docstring).
    """

    def __init__(self, model: Model, bounds: _Bounds) -> None:
        self.model, self.b = model, bounds
        nt = model.n_tier
        self.w = model.col_ub[:nt]
        self.c = model.c[:nt]
        start = model.tier_start[:-1].astype(np.intp)
        cum = np.cumsum(self.w)
        self.before = (
            cum - self.w - np.repeat(cum[start] - self.w[start], np.diff(model.tier_start))
        )
        line = model.tier_line
        self.forced = np.clip(bounds.lo[line] - self.before, 0.0, self.w)
        self.free = np.maximum(np.clip(bounds.hi[line] - self.before, 0.0, self.w) - self.forced, 0)
        pieces = np.flatnonzero((self.free > 0) & (self.c > 0))
        self.order = pieces[np.argsort(-self.c[pieces], kind="stable")]
        self.cum = np.cumsum(self.free[self.order])
        self.forced_total = float(self.forced.sum())
        #: a tier of objective <= 0 with room: funded or not, the same objective
        self.flat_room = bool(((self.free > 0) & (np.abs(self.c) <= 1e-12)).any())
        self.state: _State | None = None
        self._suffix: np.ndarray | None = None
        self._rows: dict[int, int] | None = None

    @classmethod
    def of(cls, model: Model) -> SortFill | None:
        """Return the sort of ``model``, or None when its rules need the LP."""
        bounds = _line_rows(model)
        if bounds is None or np.any(bounds.lo > bounds.hi) or _tied_within(model, bounds):
            return None
        return cls(model, bounds)

    # ------------------------------------------------------------------ the fill
    def solve(
        self, budget: float, *, solver: str = "highs", time_limit=None, point: bool = False
    ) -> Solution | None:
        """Return the optimum at ``budget`` with its duals, or None where the LP must decide.

        ``point``: a frontier's point, which reads no line's dual (none is computed). Tiers of
        the same objective at the margin are then split in the sort's order, the stable order
        of the LP's crash basis: the point is the plan a fresh LP from that basis gives at
        this budget (under value or profit, tied tiers may bring different results: the
        split decides them, as it does for the LP).
        """
        t0 = time.perf_counter()
        x = self.forced.copy()
        state = self._fill(float(budget), x, ties=point)
        if state is None:
            return None
        y = self._price_only(state) if point else self._duals(x, state)
        if y is None:
            return None
        self.state = state
        obj = float((self.c * x).sum())
        full = np.append(x, x.sum())
        secs = time.perf_counter() - t0
        return Solution(
            "optimal", full, y, obj, solver, secs, {}, time_limit=time_limit, method="sort"
        )

    def _fill(self, budget: float, x: np.ndarray, ties: bool = False) -> _State | None:
        """Fill ``x`` (holding the floors) with the best free pieces; None if degenerate.

        ``ties``: a tie at the margin is not degenerate (see :meth:`solve`).
        """
        left = budget - self.forced_total
        if left < -1e-9 * max(1.0, budget):
            return None  # the floors exceed the budget: the LP diagnoses
        order, cum = self.order, self.cum
        total = float(cum[-1]) if len(cum) else 0.0
        if left >= total or not len(order):
            if left - total <= FULL_RTOL * max(1.0, budget) or self.flat_room:
                return None  # the budget ends where the pieces do, or 0-objective room
            x[order] += self.free[order]
            return _State(len(order), 0.0, 0.0, left - total)
        k = int(np.searchsorted(cum, left, side="right"))
        m = int(order[k])
        filled = left - (float(cum[k - 1]) if k else 0.0)
        edge = FULL_RTOL * max(1.0, float(self.w[m]))
        if filled <= edge or self.free[m] - filled <= edge:
            return None  # the money runs out on a tier's end: the price is not unique
        price = float(self.c[m])
        tie = TIE_RTOL * max(abs(price), 1e-12)
        near = self.c[order[max(k - 1, 0) : k + 2]]
        if not ties and np.sum(np.abs(near - price) <= tie) > 1:
            return None  # another tier of the same objective at the margin: a tie
        x[order[:k]] += self.free[order[:k]]
        x[m] += filled
        return _State(k, filled, price, 0.0)

    def _price_only(self, st: _State) -> np.ndarray:
        """Return row duals holding only the budget's price (rows 0 and budget)."""
        y = np.zeros(self.model.n_row)
        y[0] = y[self.model.budget_row] = st.price
        return y

    def _duals(self, x: np.ndarray, st: _State) -> np.ndarray | None:
        """Return the row duals: the price on rows 0 and budget, each held line's own."""
        m, b = self.model, self.b
        y = np.zeros(m.n_row)
        y[0] = y[m.budget_row] = st.price
        spend = np.add.reduceat(x, m.tier_start[:-1].astype(np.intp)) if len(x) else x
        for ln in np.flatnonzero((b.lo_row >= 0) | (b.hi_row >= 0)).tolist():
            lo_row, hi_row, s = int(b.lo_row[ln]), int(b.hi_row[ln]), float(spend[ln])
            if lo_row >= 0 and lo_row == hi_row:  # a lock: one row, either sign
                d = self._cut_dual(ln, float(b.lo[ln]), st.price)
                if d is None:
                    return None
                y[lo_row] = d
                continue
            if lo_row >= 0 and hi_row >= 0 and b.hi[ln] - b.lo[ln] <= FULL_RTOL * max(1, b.hi[ln]):
                return None  # min = max: which of the two rows holds it is not unique
            for row, side in ((lo_row, -1), (hi_row, 1)):
                if row >= 0:
                    level = float(b.lo[ln] if side < 0 else b.cap[ln])
                    d = self._limit_dual(ln, level, s, side, st.price)
                    if d is None:
                        return None
                    y[row] = d
        return y

    def _limit_dual(self, ln: int, level: float, spend: float, side: int, price: float):
        """Return the dual of line ``ln``'s floor (``side`` -1) or cap (+1) at ``level``.

        0 when the line is off its limit; None where the LP's dual is not unique.
        """
        end = self._end(ln)
        tol = FULL_RTOL * max(1.0, abs(level))
        if side > 0 and level > end + tol:
            return 0.0  # a cap beyond the end of the curve never binds
        if side > 0 and level > end - tol:
            return None  # a cap at the end of the curve: binding or not, not unique
        if abs(spend - level) > tol:
            return 0.0  # off its limit: no price
        d = self._cut_dual(ln, level, price)
        if d is None or d * side <= 0:
            return None  # at its limit but not held by it: the LP's dual is not unique
        return d

    def _cut_dual(self, ln: int, level: float, price: float) -> float | None:
        """Return the objective of the tier ``level`` cuts in line ``ln``, less the price.

        None when ``level`` is 0, the curve's end or a tier's end, or the difference is a
        tie: there the LP's dual is not unique.
        """
        lo, hi = int(self.model.tier_start[ln]), int(self.model.tier_start[ln + 1])
        if level <= FULL_RTOL * max(1.0, level) or level >= self._end(ln) - FULL_RTOL * level:
            return None
        t = lo + int(np.searchsorted(self.before[lo:hi], level, side="right")) - 1
        into = level - float(self.before[t])
        if min(into, float(self.w[t]) - into) <= FULL_RTOL * max(1.0, float(self.w[t])):
            return None
        d = float(self.c[t]) - price
        if abs(d) <= TIE_RTOL * max(abs(price), abs(float(self.c[t])), 1e-12):
            return None
        return d

    def _end(self, ln: int) -> float:
        """Return the most line ``ln``'s curve can spend."""
        last = int(self.model.tier_start[ln + 1]) - 1
        return float(self.before[last] + self.w[last])

    # ------------------------------------------------------------------ rule costs
    def gain(self, row: int) -> tuple[float | None, bool]:
        """Return the objective gained if ``row`` were removed (exact), and True (proven)."""
        st, m = self.state, self.model
        if st is None:
            return None, False
        if row == m.budget_row:
            return self._unfunded_value(st), True
        b, ln = self.b, self._line_of_row()[row]
        g = 0.0
        if b.hi_row[ln] == row:
            g += self._extend(ln, st)
        if b.lo_row[ln] == row:
            g += self._release(ln, st)
        return g, True

    def _line_of_row(self) -> dict[int, int]:
        """Return the line each line rule's row holds (made on the first rule costed)."""
        if self._rows is None:
            b = self.b
            held = np.flatnonzero((b.lo_row >= 0) | (b.hi_row >= 0))
            self._rows = {int(b.lo_row[i]): int(i) for i in held if b.lo_row[i] >= 0}
            self._rows.update({int(b.hi_row[i]): int(i) for i in held if b.hi_row[i] >= 0})
        return self._rows

    def _unfunded_value(self, st: _State) -> float:
        if self._suffix is None:
            cu = (self.c * self.free)[self.order]
            self._suffix = np.concatenate([np.cumsum(cu[::-1])[::-1], [0.0]])
        if st.k >= len(self.order):
            return 0.0
        m = int(self.order[st.k])
        return float(self.c[m] * (self.free[m] - st.filled) + self._suffix[st.k + 1])

    def _line_tiers(self, ln: int) -> slice:
        return slice(int(self.model.tier_start[ln]), int(self.model.tier_start[ln + 1]))

    def _extend(self, ln: int, st: _State) -> float:
        """Gain of lifting line ``ln``'s cap to its curve's end: its tiers beyond displace."""
        s = self._line_tiers(ln)
        before, w, c = self.before[s].tolist(), self.w[s].tolist(), self.c[s].tolist()
        end, cap = before[-1] + w[-1], float(self.b.hi[ln])
        hc, ha = [], []  # a few tiers: a loop beats numpy's calls
        for b0, w0, c0 in zip(before, w, c, strict=True):
            extra = min(max(end - b0, 0.0), w0) - min(max(cap - b0, 0.0), w0)
            if extra > 0 and c0 > 0:
                hc.append(c0)
                ha.append(extra)
        return _merge(hc, ha, *self._funded(st, sum(ha)))

    def _release(self, ln: int, st: _State) -> float:
        """Gain of dropping line ``ln``'s floor: its forced spend goes to the best unfunded."""
        s = self._line_tiers(ln)
        rel = self.forced[s][::-1]
        keep = rel > 0
        cand_c, cand_a = self._unfunded(st, float(rel[keep].sum()))
        # released money (ascending objective) against candidates (descending): the gain of
        # each swap is candidate - released, while positive
        return _merge(cand_c, cand_a, self.c[s][::-1][keep], rel[keep])

    def _funded(self, st: _State, need: float) -> tuple[np.ndarray, np.ndarray]:
        """Return the funded free pieces holding ``need`` (spare money first, at 0), lowest first.

        Only as many pieces as hold ``need`` in all (from the margin down), found on the
        cumulative amounts: the merge never reads further.
        """
        order, cum = self.order, self.cum
        k = st.k
        if k >= len(order):  # money to spare: it is what more spend takes first
            head_c, head_a = 0.0, st.spare
        else:
            head_c, head_a = float(self.c[order[k]]), st.filled
        top = float(cum[k - 1]) if k else 0.0
        j = int(np.searchsorted(cum[:k], top - max(need - head_a, 0.0), side="right"))
        idx = order[max(j - 1, 0) : k][::-1]
        return _after(head_c, self.c[idx]), _after(head_a, self.free[idx])

    def _unfunded(self, st: _State, need: float) -> tuple[np.ndarray, np.ndarray]:
        """Return the unfunded free pieces holding ``need``, best first, then money left unspent.

        Money a rule frees can always stay unspent (worth 0): after the pieces of objective
        above 0 comes an unlimited piece at 0.
        """
        order, cum = self.order, self.cum
        k = st.k
        if k >= len(order):
            return np.array([0.0]), np.array([np.inf])
        m = int(order[k])
        head = float(self.free[m]) - st.filled
        end = int(np.searchsorted(cum, float(cum[k]) + max(need - head, 0.0), side="left"))
        idx = order[k + 1 : end + 2]
        c = np.concatenate(((self.c[m],), self.c[idx], (0.0,)))
        return c, np.concatenate(((head,), self.free[idx], (np.inf,)))


def _after(first: float, rest: np.ndarray) -> np.ndarray:
    """Return ``[first, *rest]`` (``np.r_`` took 10 us a call)."""
    out = np.empty(len(rest) + 1)
    out[0], out[1:] = first, rest
    return out


def _merge(hi_c, hi_a, lo_c, lo_a) -> float:
    """Return the gain of moving money from the ``lo`` pieces to the ``hi`` pieces.

    ``hi`` (objective descending) takes money from ``lo`` (objective ascending) while its
    objective per unit is higher: the integral of max(0, hi - lo) over the amount moved. A
    walk along both (a handful of pieces each, usually: numpy's calls cost more than it).
    """
    hc, ha, lc, la = (x if isinstance(x, list) else x.tolist() for x in (hi_c, hi_a, lo_c, lo_a))
    i = j = 0
    left_h, left_l = (ha[0] if ha else 0.0), (la[0] if la else 0.0)
    gain = 0.0
    while i < len(hc) and j < len(lc) and hc[i] > lc[j]:
        amount = min(left_h, left_l)
        gain += (hc[i] - lc[j]) * amount
        left_h -= amount
        left_l -= amount
        if not left_h > 0:  # (a NaN amount ends the walk too)
            i += 1
            left_h = ha[i] if i < len(ha) else 0.0
        if not left_l > 0:
            j += 1
            left_l = la[j] if j < len(la) else 0.0
    return gain


class SortSolver:
    """Sort where the rules allow, the LP solver (built on first need) where they do not.

    It stands where a :class:`~optimizer.solvers.HighsSolver` stands for ``allocate`` and
    ``frontier``: :meth:`set_row_upper` on the budget row, :meth:`solve`, :meth:`restart`.
    ``method`` says how the last solve went: ``sort`` or ``lp``.
    """

    def __init__(self, fill: SortFill, make_lp: Callable[[], object], lp_name: str, limit: float):
        self.fill, self.model = fill, fill.model
        self._make_lp, self.lp_name = make_lp, lp_name
        self.lp: Any = None  # the LP solver (HiGHS or CBC), built on first need
        self.time_limit = limit
        self.method = "sort"
        #: solving a frontier's points: no line's dual is read (SortFill.solve)
        self.points = False

    def sorts(self, *budgets: float) -> bool:
        """Say whether the sort decides every one of ``budgets`` as frontier points."""
        return all(self.fill.solve(b, point=True) is not None for b in budgets)

    def set_row_upper(self, row: int, ub: float) -> None:
        """Set the budget (the only row whose bound a sweep moves)."""
        self.model.row_ub[row] = ub
        if self.lp is not None:
            self.lp.set_row_upper(row, ub)

    def restart(self) -> None:
        """Start the LP's next solve from its crash basis (the sort has no state to drop)."""
        if self.lp is not None and hasattr(self.lp, "restart"):  # HiGHS (CBC keeps no basis)
            self.lp.restart()

    def solve(self) -> Solution:
        """Sort at the model's budget; the LP where the sort cannot say."""
        budget = float(self.model.row_ub[self.model.budget_row])
        sol = self.fill.solve(
            budget, solver=self.lp_name, time_limit=self.time_limit, point=self.points
        )
        if sol is not None:
            self.method = "sort"
            return sol
        if self.lp is None:
            self.lp = self._make_lp()
        else:  # the last basis is another budget's, maybe long ago: start from the crash one
            self.restart()
        self.method = "lp"
        return self.lp.solve()


def sort_solver(model: Model, make_lp: Callable[[], object], lp_name: str, limit: float):
    """Return a :class:`SortSolver` for ``model``, or None when its rules need the LP."""
    fill = SortFill.of(model)
    return None if fill is None else SortSolver(fill, make_lp, lp_name, limit)
