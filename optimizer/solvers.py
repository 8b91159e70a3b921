"""Hand a :class:`~optimizer.model.Model` to a solver and read back one normalised solution.

Two solvers, always chosen explicitly:

- ``"highs"``: the arrays go straight into ``highspy`` (``Highs.passModel``); options tuned by
  ``benchmarks/bench_optimizer.py`` (presolve off, dual simplex: HiGHS's presolve was many
  times slower on this LP), started from a greedy crash basis (:func:`crash_basis`), see
  docs/optimizer.md. The model is kept so a budget sweep changes
  one row bound and re-solves from the previous basis.
- ``"cbc"``: the same arrays become a PuLP model built the fast way (one flat variable list,
  ``LpAffineExpression(zip(vars, coefs))``, ``addConstraint``) solved by ``PULP_CBC_CMD``.

Sign convention, for every solver: ``row_dual[i]`` is d(objective)/d(bound of row i), i.e. the
extra results (or value) per extra unit of the row's limit. Pinned by tests on problems solved
by hand.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .errors import SolverError
from .mip import (
    DEFAULT_TIME_LIMIT,
    MIN_SEARCH_SECONDS,
    MIP_REL_GAP,
    LPResult,
    OnOffResult,
    solve_onoff,
)
from .model import INF, Model
from .parallel import in_one_thread

SOLVERS = ("highs", "cbc")
DEFAULT_SOLVER = "highs"

#: HiGHS options for the LP (benchmarks/bench_optimizer.py measured these fastest here)
HIGHS_LP_OPTIONS = {"presolve": "off", "solver": "simplex", "simplex_strategy": 1}
#: HiGHS options for the MILP phase (branch and bound needs presolve)
HIGHS_MIP_OPTIONS = {"presolve": "on", "solver": "choose", "mip_rel_gap": MIP_REL_GAP}
#: CBC's options when it starts from an incumbent: with its preprocessing on, CBC was seen to
#: return the start itself as optimal (gap 0) without searching (1 of ~740 random re-plans;
#: coin-or/Cbc#670); tests/optimizer/test_opt_cbc_warm.py
CBC_WARM_OPTIONS = ("preprocess off",)


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved_fd: int | None = None


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None)
    except OSError:  # pragma: no cover - a platform without a loadable C library
        return None


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (HiGHS writes through them, not through Python)."""
    libc = _libc()
    if libc is not None:
        libc.fflush(None)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send whatever native code writes to file descriptor 1 to /dev/null meanwhile.

    HiGHS prints its banner from ``Highs()`` (1.16 does, before any option can be set) and
    may log from ``run()``; standard output must hold only what adplan means to print
    (``--json``, CSV). Process-wide and re-entrant: the first thread in redirects, the last one
    out restores, so concurrent solves in the service never leave fd 1 pointing elsewhere.
    """
    global _quiet_depth, _quiet_saved_fd
    with _quiet_lock:
        if _quiet_depth == 0:
            with contextlib.suppress(AttributeError, ValueError, OSError):
                sys.stdout.flush()
            _flush_c_stdio()
            devnull = os.open(os.devnull, os.O_WRONLY)
            _quiet_saved_fd = os.dup(1)
            os.dup2(devnull, 1)
            os.close(devnull)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved_fd is not None:
                _flush_c_stdio()
                os.dup2(_quiet_saved_fd, 1)
                os.close(_quiet_saved_fd)
                _quiet_saved_fd = None


@dataclass(slots=True)
class Solution:
    """One solve's result, the same for every solver.

    ``x`` holds the column values and ``row_dual`` the prices d(objective)/d(row bound); when
    the status is not optimal both are zeros and ``objective`` is NaN.
    """

    status: str  # optimal | infeasible | unbounded | <solver text>
    x: np.ndarray
    row_dual: np.ndarray  # d objective / d row bound
    objective: float
    solver: str
    seconds: float
    settings: dict = field(default_factory=dict)
    mip: bool = False
    #: on/off plans: the proven bound on the objective, the relative gap to it, how it was
    #: proven (``"rounding"`` or ``"branch and bound"``) and the time limit (seconds)
    bound: float | None = None
    gap: float | None = None
    search: str | None = None
    time_limit: float | None = None
    #: how it was solved: ``lp`` (the solver's simplex or on/off search) or ``sort``
    #: (``optimizer/sortfill.py``: a budget and line limits only, exact without the LP)
    method: str = "lp"

    @property
    def optimal(self) -> bool:
        """Return True if the solver found an optimal solution."""
        return self.status == "optimal"

    @property
    def has_plan(self) -> bool:
        """Return True if there is a plan: optimal, or the best found at the time limit."""
        return self.status == "optimal" or (self.status == "time_limit" and self.gap is not None)


def row_activity(model: Model, x: np.ndarray, *, absolute: bool = False) -> np.ndarray:
    """Return ``A @ x``, each row's activity at the column values ``x`` (``|A| @ |x|``: absolute)."""
    prod = model.data * x[model.indices]
    if absolute:
        prod = np.abs(prod)
    row_of_nz = np.repeat(np.arange(model.n_row), np.diff(model.indptr))
    # bincount, not np.add.reduceat: reduceat gives a row with no entries the next row's value
    return np.bincount(row_of_nz, weights=prod, minlength=model.n_row)


#: from this many columns up, a re-solve after a bound changes (a frontier's next budget, the
#: ledger's rule removed) starts from the crash basis: a warm re-solve there costs more than a
#: cold one (benchmarks/bench_frontier.py, benchmarks/bench_optimizer.py)
RESTART_COLUMNS = 20_000

#: a row is at its limit when it is within this fraction of its scale (see row_tolerance)
BINDING_RTOL = 1e-6


def row_tolerance(model: Model, x: np.ndarray) -> np.ndarray:
    """Return, per row, how far from its limit a row still counts as at it (binding).

    ``BINDING_RTOL`` x the row's scale: the largest of 1, its finite bounds and the size of
    its terms at ``x`` (``|A| @ |x|``). A solver's values carry about 8 digits (CBC), so a
    row's slack is known only to that precision relative to its terms, whatever its limit
    (often 0: a share, pacing or change rule). The one binding test of every solver: the
    plan's rules (``optimizer/plan.py``) and the reasons (``optimizer/explain.py``) use it.
    """
    size = row_activity(model, x, absolute=True)
    lb = np.where(np.isfinite(model.row_lb), np.abs(model.row_lb), 0.0)
    ub = np.where(np.isfinite(model.row_ub), np.abs(model.row_ub), 0.0)
    return BINDING_RTOL * np.maximum(np.maximum(1.0, size), np.maximum(lb, ub))


def at_limits(model: Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return which rows sit at their upper and at their lower limit at ``x``, and the tolerance.

    A row is at a limit when its activity is within :func:`row_tolerance` of it (or beyond).
    """
    act = row_activity(model, x)
    tol = row_tolerance(model, x)
    with np.errstate(invalid="ignore"):
        at_ub = np.isfinite(model.row_ub) & (model.row_ub - act <= tol)
        at_lb = np.isfinite(model.row_lb) & (act - model.row_lb <= tol)
    return at_ub, at_lb, tol


def reduced_costs(model: Model, y: np.ndarray, skip_rows: np.ndarray | None = None) -> np.ndarray:
    """Return the reduced costs ``c - A^T y``, ignoring the rows ``skip_rows`` if given.

    Computed here rather than read from the solver, so every solver agrees.
    """
    yy = y
    if skip_rows is not None and len(skip_rows):
        yy = y.copy()
        yy[skip_rows] = 0.0
    row_of_nz = np.repeat(np.arange(model.n_row), np.diff(model.indptr))
    aty = np.bincount(model.indices, weights=model.data * yy[row_of_nz], minlength=model.n_col)
    return model.c - aty


def _csc(model: Model):
    """CSR -> CSC (HiGHS stores the matrix column-wise; converting here is cheaper)."""
    order = np.argsort(model.indices, kind="stable")
    row_of_nz = np.repeat(np.arange(model.n_row, dtype=np.int32), np.diff(model.indptr))
    counts = np.bincount(model.indices, minlength=model.n_col)
    start = np.zeros(model.n_col + 1, dtype=np.int32)
    np.cumsum(counts, out=start[1:])
    return start, row_of_nz[order], model.data[order]


def objective_order(model: Model) -> np.ndarray:
    """Return the tier columns of objective > 0, best first (the crash basis's order).

    A target's order is by results per unit of currency. Sorting costs more than the rest
    of the basis: a solver that starts from the crash basis again (each budget of a
    frontier) sorts once (``HighsSolver``).
    """
    c = model.tier_slope if _target_row(model) is not None else model.c[: model.n_tier]
    order = np.argsort(-c, kind="stable")
    return order[c[order] > 0]


def _statuses(codes: np.ndarray) -> list:
    """Return HiGHS basis statuses for codes 0 (at lower), 1 (basic), 2 (at upper).

    highspy 1.16 takes a basis only as a sequence of ``HighsBasisStatus`` (no array): an
    object array indexed by the codes makes that list fastest (0.03 s at 600k columns).
    """
    import highspy

    S = highspy.HighsBasisStatus
    return _status_objects(S)[codes].tolist()


@functools.cache
def _status_objects(S) -> np.ndarray:
    return np.array([S.kLower, S.kBasic, S.kUpper], dtype=object)


def crash_basis(model: Model, on: np.ndarray | None = None, order: np.ndarray | None = None):
    """Build a starting basis that is dual feasible and nearly primal feasible.

    Greedy on the budget alone: tiers sorted by objective per unit of currency are set at
    their upper bound until the budget is used; the tier where it runs out is basic, so
    the budget's price is that tier's slope and every other tier's reduced cost has the
    right sign. Rule rows start with their slack basic; the dual simplex repairs what they
    violate in a few iterations. Measured: 10x faster than HiGHS's slack basis at the
    spec budget and up to 70x at low budgets (130k variables), see docs/optimizer.md.

    ``on`` (an on/off plan with its switches fixed) leaves the tiers of lines switched off
    at 0 and the switches at their fixed values. ``order``: :func:`objective_order`, when
    known.
    """
    import highspy

    m = model
    if order is None:
        order = objective_order(m)
    col = np.zeros(m.n_col, dtype=np.int8)  # 0 at lower, 1 basic, 2 at upper
    row = np.ones(m.n_row, dtype=np.int8)
    col[m.total_col] = 1
    width = m.col_ub[: m.n_tier]
    if on is not None:
        width = np.where(on[m.tier_line] > 0.5, width, 0.0)
    row[0] = 0  # the total-spend definition row (equality) is nonbasic
    target = _target_row(m)
    if target is not None:
        # minimum budget for a target: fill the cheapest results first until the target
        cum = np.cumsum((width * m.tier_slope)[order])
        k = int(np.searchsorted(cum, m.row_lb[target], side="left"))
        if k >= len(order):
            col[order] = 2
        else:
            col[order[:k]] = 2
            col[order[k]] = 1
            row[target] = 0
    else:
        budget = m.row_ub[m.budget_row] - m.spent_offset
        cum = np.cumsum(width[order])
        k = int(np.searchsorted(cum, budget, side="left")) if np.isfinite(budget) else len(order)
        if k >= len(order):  # the budget is not binding: its row slack is basic
            col[order] = 2
        else:
            col[order[:k]] = 2
            col[order[k]] = 1
            row[m.budget_row] = 2
    if on is not None:
        col[: m.n_tier][width == 0] = 0
        col[m.binary_cols] = np.where(on > 0.5, 2, 0)
    basis = highspy.HighsBasis()
    basis.col_status = _statuses(col)
    basis.row_status = _statuses(row)
    basis.valid = True
    return basis


def _target_row(m: Model) -> int | None:
    if m.c[m.total_col] >= 0:
        return None
    for i, r in enumerate(m.rows):
        if r.family == "target":
            return i
    return None


class HighsSolver:
    """One highspy model kept alive: change bounds, re-solve warm."""

    name = "highs"

    def __init__(
        self,
        model: Model,
        options: dict | None = None,
        *,
        crash: bool = True,
        time_limit: float = DEFAULT_TIME_LIMIT,
    ) -> None:
        import highspy

        self.hs = highspy
        self.crash = crash
        self.time_limit = float(time_limit)
        #: on/off plans: switches known to give a plan, tried first (see solve_onoff)
        self.start: np.ndarray | None = None
        self._solved = False
        self._order: np.ndarray | None = None  # objective_order, once known
        self.model = model
        self.options = dict(HIGHS_LP_OPTIONS if options is None else options)
        with quiet_stdout():
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            if in_one_thread():  # a worker of optimizer.parallel: one process, one thread
                h.setOptionValue("threads", 1)
        start, index, value = _csc(model)
        integ = np.zeros(model.n_col, dtype=np.int32)
        if model.is_mip:
            integ[model.binary_cols] = 1
        # the array overload of passModel reads the numpy buffers directly (HighsLp field
        # assignment copies element by element: 80 ms at 130k columns)
        st = h.passModel(
            model.n_col,
            model.n_row,
            len(value),
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMaximize),
            0.0,
            model.c,
            model.col_lb,
            model.col_ub,
            model.row_lb,
            model.row_ub,
            start,
            index,
            value,
            integ,
        )
        if st == highspy.HighsStatus.kError:
            raise SolverError("HiGHS refused the model (passModel failed)")
        self.h = h
        self._apply(self.options)

    def restart(self) -> None:
        """Start the next solve from the crash basis again (not warm from the last one)."""
        self._solved = False

    def crash_order(self) -> np.ndarray:
        """Return :func:`objective_order` of the model, sorted once."""
        if self._order is None:
            self._order = objective_order(self.model)
        return self._order

    def _crash_basis(self):
        return crash_basis(self.model, order=self.crash_order())

    def usable_crash(self) -> bool:
        """Say whether the crash basis applies to the model (a budget or a target to fill)."""
        m = self.model
        if _target_row(m) is not None:
            return True
        return m.c[m.total_col] == 0 and bool((m.c[: m.n_tier] > 0).any())

    def _apply(self, opts: dict) -> None:
        for k, v in opts.items():
            self.h.setOptionValue(k, v)

    def set_row_upper(self, row: int, ub: float) -> None:
        """Change the upper bound of row ``row`` to ``ub`` (infinite: no limit) in HiGHS."""
        lb = self.model.row_lb[row]
        self.h.changeRowBounds(row, lb, ub if np.isfinite(ub) else self.hs.kHighsInf)

    def _status(self) -> str:
        ms = self.h.getModelStatus()
        M = self.hs.HighsModelStatus
        if ms == M.kOptimal:
            return "optimal"
        if ms in (M.kInfeasible,):
            return "infeasible"
        if ms in (M.kUnbounded, M.kUnboundedOrInfeasible):
            return "unbounded" if ms == M.kUnbounded else "infeasible"
        if ms == M.kTimeLimit:
            return "time_limit"
        return self.h.modelStatusToString(ms)

    def solve(self) -> Solution:
        """Solve and return the :class:`Solution`, warm from the last basis.

        The first solve (or the first after :meth:`restart`) starts from :func:`crash_basis`
        where it applies. An on/off plan (a MILP) goes through :func:`optimizer.mip.solve_onoff`
        within the time limit; its switches are then fixed and the LP solved for the duals.
        """
        t0 = time.perf_counter()
        if self.model.is_mip:
            return self._solve_onoff(t0)
        if self.crash and not self._solved and self.usable_crash():
            self.h.setBasis(self._crash_basis())
        r = self.run_lp(self.time_limit)
        self._solved = True
        return self._solution(r, t0)

    def _solve_onoff(self, t0: float) -> Solution:
        res = solve_onoff(self, self.time_limit, self.start)
        if res.y is None:
            return self._solution(LPResult(res.status, None, float("nan")), t0, res)
        self.fix_switches(res.y)
        return self._solution(self.run_lp(max(self.time_limit, MIN_SEARCH_SECONDS)), t0, res)

    def _solution(self, r: LPResult, t0: float, onoff: OnOffResult | None = None) -> Solution:
        """Return the :class:`Solution` of the LP just run (its duals read from HiGHS)."""
        mip = onoff is not None
        status = r.status if onoff is None or r.status != "optimal" else onoff.status
        if r.x is None:
            return self._fail(status, t0, mip)
        y = np.asarray(self.h.getSolution().row_dual, dtype=float)  # maximising: d obj/d bound
        return _with_onoff(
            Solution(
                status,
                r.x,
                y,
                r.objective,
                "highs",
                time.perf_counter() - t0,
                dict(self.options),
                mip,
                time_limit=self.time_limit,
            ),
            onoff,
        )

    def _switches(self, lo: np.ndarray, hi: np.ndarray, integral: bool) -> None:
        cols = self.model.binary_cols.astype(np.int32)
        kind = self.hs.HighsVarType.kInteger if integral else self.hs.HighsVarType.kContinuous
        self.h.changeColsIntegrality(len(cols), cols, np.full(len(cols), kind))
        self.h.changeColsBounds(len(cols), cols, lo, hi)

    def relax_switches(self) -> None:
        """Make the on/off variables continuous in [0, 1] (the bound of step 1)."""
        n = len(self.model.binary_cols)
        self._switches(np.zeros(n), np.ones(n), False)

    def fix_switches(self, y: np.ndarray, *, crash: bool = False) -> None:
        """Make the on/off variables continuous and fixed at ``y``.

        ``crash``: start the next LP from :func:`crash_basis` for these switches (not warm).
        """
        self._switches(np.asarray(y, dtype=float), np.asarray(y, dtype=float), False)
        if crash and self.crash and self.usable_crash():
            self.h.setBasis(crash_basis(self.model, on=np.asarray(y, dtype=float)))

    def _time_limit(self, seconds: float) -> None:
        """Give the next run ``seconds`` (HiGHS counts its limit on all runs of this model)."""
        self.h.setOptionValue("time_limit", self.h.getRunTime() + float(seconds))

    def run_lp(self, time_limit: float) -> LPResult:
        """Run HiGHS on the model as it stands (LP options) and read the result."""
        self._apply(self.options)
        self._time_limit(time_limit)
        with quiet_stdout():
            self.h.run()
        status = self._status()
        if status != "optimal":
            return LPResult(status, None, float("nan"))
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        return LPResult("optimal", x, float(self.h.getInfo().objective_function_value))

    def run_mip(self, start: np.ndarray | None, time_limit: float) -> LPResult:
        """Branch and bound with integral switches from ``start``, within ``time_limit``."""
        n = len(self.model.binary_cols)
        self._switches(np.zeros(n), np.ones(n), True)
        self._apply(HIGHS_MIP_OPTIONS)
        self._time_limit(time_limit)
        if start is not None:
            cols = np.arange(len(start), dtype=np.int32)
            self.h.setSolution(len(start), cols, np.asarray(start, dtype=float))
        with quiet_stdout():
            self.h.run()
        info = self.h.getInfo()
        status = self._status()
        bound = float(info.mip_dual_bound)
        if info.primal_solution_status != 2:  # no feasible solution
            return LPResult(status, None, float("nan"), bound if np.isfinite(bound) else None)
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        obj = float(info.objective_function_value)
        return LPResult(status, x, obj, bound if np.isfinite(bound) else None)

    def _fail(self, status: str, t0: float, mip: bool) -> Solution:
        n, m = self.model.n_col, self.model.n_row
        return Solution(
            status,
            np.zeros(n),
            np.zeros(m),
            float("nan"),
            "highs",
            time.perf_counter() - t0,
            dict(self.options),
            mip,
            time_limit=self.time_limit,
        )


def _with_onoff(sol: Solution, onoff: OnOffResult | None) -> Solution:
    """Copy the bound, gap and search of an on/off solve onto ``sol``."""
    if onoff is not None:
        sol.bound, sol.gap, sol.search = onoff.bound, onoff.gap, onoff.search
    return sol


class CbcSolver:
    """The same arrays as a PuLP model solved by CBC."""

    name = "cbc"

    def __init__(
        self, model: Model, options: dict | None = None, *, time_limit: float = DEFAULT_TIME_LIMIT
    ) -> None:
        import pulp

        self.pulp = pulp
        self.time_limit = float(time_limit)
        #: on/off plans: switches known to give a plan, tried first (see solve_onoff)
        self.start: np.ndarray | None = None
        self.model = model
        self.options = dict(options or {})
        prob = pulp.LpProblem("adplan", pulp.LpMaximize)
        binary = np.zeros(model.n_col, dtype=bool)
        binary[model.binary_cols] = True
        lb = [None if not np.isfinite(v) else float(v) for v in model.col_lb]
        ub = [None if not np.isfinite(v) else float(v) for v in model.col_ub]
        add = prob.add_variable
        cont, integer = pulp.LpContinuous, pulp.LpInteger
        self.vars = [
            add(f"x{i}", lb[i], ub[i], cat=integer if binary[i] else cont)
            for i in range(model.n_col)
        ]
        nz = np.flatnonzero(model.c)
        v = self.vars
        prob.setObjective(
            pulp.LpAffineExpression(zip([v[i] for i in nz], model.c[nz].tolist(), strict=False))
        )
        self.cons = []
        ip, idx, val = model.indptr, model.indices, model.data
        for r in range(model.n_row):
            cols = idx[ip[r] : ip[r + 1]].tolist()
            expr = pulp.LpAffineExpression(
                zip([v[i] for i in cols], val[ip[r] : ip[r + 1]].tolist(), strict=False)
            )
            lo, hi = model.row_lb[r], model.row_ub[r]
            if lo == hi:
                sense, rhs = pulp.LpConstraintEQ, lo
            elif np.isfinite(hi):
                sense, rhs = pulp.LpConstraintLE, hi
            else:
                sense, rhs = pulp.LpConstraintGE, lo
            if not np.isfinite(rhs):  # a row with no limit (budget in target mode)
                rhs = 1e30 if sense == pulp.LpConstraintLE else -1e30
            con = pulp.LpConstraint(expr, sense=sense, rhs=float(rhs), name=f"r{r}")
            prob.addConstraint(con)
            self.cons.append(con)
        self.prob = prob

    def set_row_upper(self, row: int, ub: float) -> None:
        """Change the right-hand side of row ``row`` to ``ub`` (infinite becomes 1e30)."""
        self.cons[row].changeRHS(float(ub) if np.isfinite(ub) else 1e30)

    def _run(self, time_limit: float, warm: bool = False, gap: float | None = None) -> str:
        pulp = self.pulp
        try:
            with warnings.catch_warnings():  # PuLP 3.3 warns that PuLP 4 renames the class
                warnings.simplefilter("ignore", DeprecationWarning)
                opts = {"timeLimit": float(time_limit), "gapRel": gap, **self.options}
                if warm:  # from a start, CBC's preprocessing may return it as proven optimal
                    opts["options"] = [*opts.get("options", []), *CBC_WARM_OPTIONS]
                cmd = pulp.PULP_CBC_CMD(msg=False, warmStart=warm, **opts)
            self.prob.solve(cmd)
        except pulp.PulpSolverError as e:  # pragma: no cover - solver missing or crashed
            raise SolverError(f"CBC failed: {e}") from None
        st = self.prob.status
        if st == pulp.LpStatusOptimal:
            if self.prob.sol_status == pulp.LpSolutionIntegerFeasible:
                return "time_limit"  # stopped on time with a plan (PuLP: "Optimal")
            return "optimal"
        if st == pulp.LpStatusInfeasible:
            return "infeasible"
        if st == pulp.LpStatusUnbounded:
            return "unbounded"
        if st == pulp.LpStatusNotSolved:
            return "time_limit"  # CBC "Stopped" with no solution
        return pulp.LpStatus.get(st, str(st)).lower()

    def _values(self) -> np.ndarray:
        return np.array([v.varValue or 0.0 for v in self.vars], dtype=float)

    def _switches(self, lo, hi, integral: bool) -> None:
        cat = self.pulp.LpInteger if integral else self.pulp.LpContinuous
        for i, a, b in zip(self.model.binary_cols.tolist(), lo, hi, strict=True):
            v = self.vars[i]
            v.cat, v.lowBound, v.upBound = cat, float(a), float(b)

    def relax_switches(self) -> None:
        """Make the on/off variables continuous in [0, 1] (the bound of step 1)."""
        n = len(self.model.binary_cols)
        self._switches([0.0] * n, [1.0] * n, False)

    def fix_switches(self, y: np.ndarray, *, crash: bool = False) -> None:  # noqa: ARG002
        """Make the on/off variables continuous and fixed at ``y`` (``crash``: HiGHS only)."""
        y = np.asarray(y, dtype=float).tolist()
        self._switches(y, y, False)

    def run_lp(self, time_limit: float) -> LPResult:
        """Run CBC on the model as it stands (an LP) and read the result."""
        status = self._run(time_limit)
        if status != "optimal":
            return LPResult(status, None, float("nan"))
        x = self._values()
        return LPResult("optimal", x, float(self.model.c @ x))

    def run_mip(self, start: np.ndarray | None, time_limit: float) -> LPResult:
        """Branch and bound with integral switches from ``start``, within ``time_limit``.

        PuLP does not read CBC's bound back, so the bound is the relaxation's (step 1).
        """
        n = len(self.model.binary_cols)
        self._switches([0.0] * n, [1.0] * n, True)
        if start is not None:  # CBC's values come back rounded: keep them within bounds
            m = self.model
            x = np.clip(start, m.col_lb, m.col_ub)
            x[m.binary_cols] = np.round(x[m.binary_cols])
            for v, val in zip(self.vars, x.tolist(), strict=True):
                v.setInitialValue(val, check=False)
        status = self._run(time_limit, warm=start is not None, gap=MIP_REL_GAP)
        found = (self.pulp.LpSolutionOptimal, self.pulp.LpSolutionIntegerFeasible)
        if status not in ("optimal", "time_limit") or self.prob.sol_status not in found:
            return LPResult(status, None, float("nan"))
        x = self._values()
        return LPResult(status, x, float(self.model.c @ x))

    def solve(self) -> Solution:
        """Solve with CBC and return the :class:`Solution`.

        An on/off plan (a MILP) goes through :func:`optimizer.mip.solve_onoff` within the time
        limit; its switches are then fixed and the LP solved again for the duals.
        """
        t0 = time.perf_counter()
        onoff = None
        if self.model.is_mip:
            onoff = solve_onoff(self, self.time_limit, self.start)
            if onoff.y is not None:
                self.fix_switches(onoff.y)
        if onoff is not None and onoff.y is None:
            r = LPResult(onoff.status, None, float("nan"))
        else:  # the duals of a plan found must not be cut short by the limit spent finding it
            r = self.run_lp(
                self.time_limit if onoff is None else max(self.time_limit, MIN_SEARCH_SECONDS)
            )
        m = self.model
        status = r.status if onoff is None or r.status != "optimal" else onoff.status
        if r.x is None:
            return Solution(
                status,
                np.zeros(m.n_col),
                np.zeros(m.n_row),
                float("nan"),
                "cbc",
                time.perf_counter() - t0,
                dict(self.options),
                onoff is not None,
                time_limit=self.time_limit,
            )
        y = np.array([c.pi or 0.0 for c in self.cons], dtype=float)
        sol = Solution(
            status,
            r.x,
            y,
            r.objective,
            "cbc",
            time.perf_counter() - t0,
            dict(self.options),
            onoff is not None,
            time_limit=self.time_limit,
        )
        return _with_onoff(sol, onoff)


def check_solver(name: str) -> str:
    """Return the solver ``name`` as the optimizer knows it (``"CBC "`` -> ``"cbc"``).

    Raises SpecError naming the solvers there are, for a name not in :data:`SOLVERS`: the one
    message for an unknown solver, wherever the name was given.
    """
    key = str(name).strip().lower()
    if key not in SOLVERS:
        from .errors import SpecError

        raise SpecError(f"solver {str(name)!r} is not known; use one of {', '.join(SOLVERS)}")
    return key


def make_solver(
    model: Model,
    solver: str | None = None,
    options: dict | None = None,
    *,
    time_limit: float | None = None,
):
    """Return a :class:`HighsSolver` or :class:`CbcSolver` for ``model``.

    ``solver`` is a name in :data:`SOLVERS` (any case; None means :data:`DEFAULT_SOLVER`).
    ``options`` replace HiGHS's default options, or are passed to ``PULP_CBC_CMD`` for CBC.
    ``time_limit`` (seconds; None: :data:`~optimizer.mip.DEFAULT_TIME_LIMIT`) bounds each
    solve. Raises SpecError (:func:`check_solver`) for an unknown solver name or a time limit
    that is not a positive number.
    """
    name = check_solver(solver or DEFAULT_SOLVER)
    limit = check_time_limit(time_limit)
    if name == "highs":
        return HighsSolver(model, options, time_limit=limit)
    return CbcSolver(model, options, time_limit=limit)


#: the longest time limit accepted (a day), so a typo cannot make a solve unbounded
MAX_TIME_LIMIT = 86_400.0


def check_time_limit(value: float | None) -> float:
    """Return the time limit in seconds (None: the default); SpecError if it is not in (0, 1 day]."""
    if value is None:
        return DEFAULT_TIME_LIMIT
    from .errors import SpecError
    from .values import number

    v = number(value, "time limit (seconds)", lo=None)
    if not 0 < v <= MAX_TIME_LIMIT:
        raise SpecError(
            f"time limit (seconds): must be above 0 and at most {MAX_TIME_LIMIT:,.0f} (a day), "
            f"got {v:g}"
        )
    return v


__all__ = [
    "DEFAULT_SOLVER",
    "INF",
    "SOLVERS",
    "CbcSolver",
    "HighsSolver",
    "Solution",
    "check_solver",
    "check_time_limit",
    "make_solver",
    "quiet_stdout",
]
