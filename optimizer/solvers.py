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
from .model import INF, Model

SOLVERS = ("highs", "cbc")
DEFAULT_SOLVER = "highs"

#: HiGHS options for the LP (benchmarks/bench_optimizer.py measured these fastest here)
HIGHS_LP_OPTIONS = {"presolve": "off", "solver": "simplex", "simplex_strategy": 1}
#: HiGHS options for the MILP phase (branch and bound needs presolve)
HIGHS_MIP_OPTIONS = {"presolve": "on", "solver": "choose", "mip_rel_gap": 1e-7}


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

    @property
    def optimal(self) -> bool:
        """Return True if the solver found an optimal solution."""
        return self.status == "optimal"


def row_activity(model: Model, x: np.ndarray, *, absolute: bool = False) -> np.ndarray:
    """Return ``A @ x``, each row's activity at the column values ``x`` (``|A| @ |x|``: absolute)."""
    prod = model.data * x[model.indices]
    if absolute:
        prod = np.abs(prod)
    row_of_nz = np.repeat(np.arange(model.n_row), np.diff(model.indptr))
    # bincount, not np.add.reduceat: reduceat gives a row with no entries the next row's value
    return np.bincount(row_of_nz, weights=prod, minlength=model.n_row)


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


def crash_basis(model: Model):
    """Build a starting basis that is dual feasible and nearly primal feasible.

    Greedy on the budget alone: tiers sorted by objective per unit of currency are set at
    their upper bound until the budget is used; the tier where it runs out is basic, so
    the budget's price is that tier's slope and every other tier's reduced cost has the
    right sign. Rule rows start with their slack basic; the dual simplex repairs what they
    violate in a few iterations. Measured: 10x faster than HiGHS's slack basis at the
    spec budget and up to 70x at low budgets (130k variables), see docs/optimizer.md.
    """
    import highspy

    m = model
    S = highspy.HighsBasisStatus
    col = np.zeros(m.n_col, dtype=np.int8)  # 0 at lower, 1 basic, 2 at upper
    row = np.ones(m.n_row, dtype=np.int8)
    col[m.total_col] = 1
    row[0] = 0  # the total-spend definition row (equality) is nonbasic
    nt = m.n_tier
    target = _target_row(m)
    if target is not None:
        # minimum budget for a target: fill the cheapest results first until the target
        c = m.tier_slope
        order = np.argsort(-c, kind="stable")
        order = order[c[order] > 0]
        cum = np.cumsum((m.col_ub[:nt] * m.tier_slope)[order])
        k = int(np.searchsorted(cum, m.row_lb[target], side="left"))
        if k >= len(order):
            col[order] = 2
        else:
            col[order[:k]] = 2
            col[order[k]] = 1
            row[target] = 0
    else:
        c = m.c[:nt]
        budget = m.row_ub[m.budget_row] - m.spent_offset
        order = np.argsort(-c, kind="stable")
        order = order[c[order] > 0]
        cum = np.cumsum(m.col_ub[:nt][order])
        k = int(np.searchsorted(cum, budget, side="left")) if np.isfinite(budget) else len(order)
        if k >= len(order):  # the budget is not binding: its row slack is basic
            col[order] = 2
        else:
            col[order[:k]] = 2
            col[order[k]] = 1
            row[m.budget_row] = 2
    st = (S.kLower, S.kBasic, S.kUpper)
    basis = highspy.HighsBasis()
    basis.col_status = [st[v] for v in col.tolist()]
    basis.row_status = [st[v] for v in row.tolist()]
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

    def __init__(self, model: Model, options: dict | None = None, *, crash: bool = True) -> None:
        import highspy

        self.hs = highspy
        self.crash = crash
        self._solved = False
        self.model = model
        self.options = dict(HIGHS_LP_OPTIONS if options is None else options)
        with quiet_stdout():
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
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

    def _crash_basis(self):
        return crash_basis(self.model)

    def _usable_crash(self) -> bool:
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
        return self.h.modelStatusToString(ms)

    def solve(self) -> Solution:
        """Solve and return the :class:`Solution`, warm from the last basis.

        The first solve (or the first after :meth:`restart`) starts from :func:`crash_basis`
        where it applies. A MILP is solved with its binaries integral first, then the on/off
        choices are fixed and the LP is solved again for the duals.
        """
        t0 = time.perf_counter()
        mip = False
        if self.model.is_mip:
            mip = True
            # MILP first, then fix the on/off choices and re-solve the LP for duals
            m = self.model
            integ = self.hs.HighsVarType.kInteger
            cols = m.binary_cols.astype(np.int32)
            self.h.changeColsIntegrality(len(cols), cols, np.full(len(cols), integ))
            self.h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.ones(len(cols)))
            self._apply(HIGHS_MIP_OPTIONS)
            with quiet_stdout():
                self.h.run()
            status = self._status()
            if status != "optimal":
                return self._fail(status, t0, mip)
            y = np.round(np.asarray(self.h.getSolution().col_value)[cols])
            cont = self.hs.HighsVarType.kContinuous
            self.h.changeColsIntegrality(len(cols), cols, np.full(len(cols), cont))
            self.h.changeColsBounds(len(cols), cols, y, y)
        elif self.crash and not self._solved and self._usable_crash():
            self.h.setBasis(self._crash_basis())
        self._apply(self.options)
        with quiet_stdout():
            self.h.run()
        self._solved = True
        status = self._status()
        if status != "optimal":
            return self._fail(status, t0, mip)
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        y = np.asarray(sol.row_dual, dtype=float)  # maximising: already d obj / d bound
        obj = float(self.h.getInfo().objective_function_value)
        return Solution(
            "optimal", x, y, obj, "highs", time.perf_counter() - t0, dict(self.options), mip
        )

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
        )


class CbcSolver:
    """The same arrays as a PuLP model solved by CBC."""

    name = "cbc"

    def __init__(self, model: Model, options: dict | None = None) -> None:
        import pulp

        self.pulp = pulp
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

    def _run(self) -> str:
        pulp = self.pulp
        try:
            with warnings.catch_warnings():  # PuLP 3.3 warns that PuLP 4 renames the class
                warnings.simplefilter("ignore", DeprecationWarning)
                cmd = pulp.PULP_CBC_CMD(msg=False, **self.options)
            self.prob.solve(cmd)
        except pulp.PulpSolverError as e:  # pragma: no cover - solver missing or crashed
            raise SolverError(f"CBC failed: {e}") from None
        st = self.prob.status
        if st == pulp.LpStatusOptimal:
            return "optimal"
        if st == pulp.LpStatusInfeasible:
            return "infeasible"
        if st == pulp.LpStatusUnbounded:
            return "unbounded"
        return pulp.LpStatus.get(st, str(st)).lower()

    def solve(self) -> Solution:
        """Solve with CBC and return the :class:`Solution`.

        A MILP is solved with its binaries integral first, then they are fixed at the values
        found and the LP is solved again for the duals.
        """
        pulp = self.pulp
        t0 = time.perf_counter()
        m = self.model
        mip = m.is_mip
        if mip:
            for i in m.binary_cols:
                v = self.vars[i]
                v.cat, v.lowBound, v.upBound = pulp.LpInteger, 0, 1
        status = self._run()
        if status == "optimal" and mip:
            for i in m.binary_cols:
                v = self.vars[i]
                val = float(round(v.varValue or 0.0))
                v.cat, v.lowBound, v.upBound = pulp.LpContinuous, val, val
            status = self._run()
        if status != "optimal":
            return Solution(
                status,
                np.zeros(m.n_col),
                np.zeros(m.n_row),
                float("nan"),
                "cbc",
                time.perf_counter() - t0,
                dict(self.options),
                mip,
            )
        x = np.array([v.varValue or 0.0 for v in self.vars], dtype=float)
        y = np.array([c.pi or 0.0 for c in self.cons], dtype=float)
        obj = float(m.c @ x)
        return Solution(
            "optimal", x, y, obj, "cbc", time.perf_counter() - t0, dict(self.options), mip
        )


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


def make_solver(model: Model, solver: str | None = None, options: dict | None = None):
    """Return a :class:`HighsSolver` or :class:`CbcSolver` for ``model``.

    ``solver`` is a name in :data:`SOLVERS` (any case; None means :data:`DEFAULT_SOLVER`).
    ``options`` replace HiGHS's default options, or are passed to ``PULP_CBC_CMD`` for CBC.
    Raises SpecError (:func:`check_solver`) for an unknown solver name.
    """
    name = check_solver(solver or DEFAULT_SOLVER)
    if name == "highs":
        return HighsSolver(model, options)
    return CbcSolver(model, options)


__all__ = [
    "DEFAULT_SOLVER",
    "INF",
    "SOLVERS",
    "CbcSolver",
    "HighsSolver",
    "Solution",
    "check_solver",
    "make_solver",
    "quiet_stdout",
]
