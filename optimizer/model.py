"""Build the allocation LP as sparse arrays: one column per curve tier, one row per rule.

The model is solver-neutral: ``c`` (maximised), column bounds, a CSR matrix and row bounds,
plus what each row means (``RowInfo``). ``solvers.py`` hands it to HiGHS (arrays, directly) or
to CBC (through PuLP). Concave curves make the tiers fill in order, so it stays a pure LP;
binaries appear only for ``min_line_spend`` / ``max_active_lines``.

Columns, in order: tier variables (spend in each curve segment, ``0 <= x <= width``, objective
= slope or slope x value_per_result), then helpers: ``total`` (the plan's spend), one spend
variable per network/segment/period that a rule names (keeps share rows sparse), hypograph
variables for results floors of other result types, and on/off binaries. The rows come from
the rule families of ``optimizer/rules/``, one unit per family, in the registry's order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .curves import CurveLine, Curves
from .lp import INF, Builder, LPContext, RowInfo
from .rules import EXCLUSION, FAMILIES, line_values
from .spec import PlanSpec

__all__ = ["INF", "Model", "RowInfo", "build_model"]


@dataclass(slots=True)
class Model:
    """The allocation LP (or MILP) as solver-neutral arrays, maximising ``c @ x``.

    Columns: the tier variables first (``tier_start``, ``tier_slope`` and ``tier_line`` map
    them to curve lines), then the helper columns. Rows: a CSR matrix (``indptr``, ``indices``,
    ``data``) with bounds ``row_lb <= A x <= row_ub`` and one :class:`RowInfo` per row.
    """

    lines: list[CurveLine]
    excluded: list[CurveLine]
    tier_start: np.ndarray  # per line, first tier column (len = n_lines + 1)
    tier_slope: np.ndarray  # results per unit of currency, per tier column
    tier_line: np.ndarray  # line index per tier column
    c: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    row_lb: np.ndarray
    row_ub: np.ndarray
    rows: list[RowInfo]
    total_col: int
    budget_row: int
    binary_cols: np.ndarray  # empty unless MILP
    activation_rows: np.ndarray  # rows tied to the binaries (excluded from unfunded maths)
    objective: str = "results"
    floor_cols: dict = field(default_factory=dict)  # result_type -> (line index array, col array)
    spent_offset: float = 0.0  # spend of tiers fixed outside the model (frontier sweeps)
    #: (column, defining row) of each network/segment/period spend column (sum of its tiers)
    group_defs: tuple[tuple[int, int], ...] = ()

    @property
    def n_tier(self) -> int:
        """Return the number of tier columns (they come first)."""
        return int(self.tier_start[-1])

    @property
    def n_col(self) -> int:
        """Return the number of columns."""
        return len(self.c)

    @property
    def n_row(self) -> int:
        """Return the number of rows."""
        return len(self.row_lb)

    @property
    def is_mip(self) -> bool:
        """Return True if the model has on/off binaries (a MILP)."""
        return len(self.binary_cols) > 0

    def row_index(self, name: str) -> int:
        """Return the index of the row called ``name``; KeyError if there is none."""
        for i, r in enumerate(self.rows):
            if r.name == name:
                return i
        raise KeyError(name)


def _tiers(lines: list[CurveLine]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.fromiter((len(ln.points) - 1 for ln in lines), dtype=np.int64, count=len(lines))
    start = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    n_pts = int(counts.sum() + len(lines))
    chain = itertools.chain.from_iterable
    flat = np.fromiter(
        chain(chain(ln.points for ln in lines)), dtype=float, count=2 * n_pts
    ).reshape(-1, 2)
    # drop the first point of every line: tier k of line l spans points k..k+1
    first = start[:-1] + np.arange(len(lines))
    mask = np.ones(n_pts, dtype=bool)
    mask[first] = False
    dx = np.diff(flat[:, 0])
    dy = np.diff(flat[:, 1])
    keep = mask[1:]
    width, rise = dx[keep], dy[keep]
    slope = rise / width
    return start, width, slope


def build_model(curves: Curves, spec: PlanSpec, *, target_results: float | None = None) -> Model:
    """Build the LP (or MILP) for ``curves`` under ``spec``: the tiers, then every rule family.

    With ``target_results`` the model minimises spend subject to results >= target and the
    budget row has no upper limit (see :func:`optimizer.min_budget_for_results`).
    """
    spec = spec.for_curves(curves)
    spec.check(curves)
    lines, excluded = EXCLUSION.planned(curves, spec)
    start, width, slope = _tiers(lines)
    tier_line = np.repeat(np.arange(len(lines)), np.diff(start))
    b = Builder()
    b.cols(
        _objective(spec, lines, curves.result_type, slope, tier_line, target_results), 0.0, width
    )
    n_tier = len(width)
    total = b.cols([-1.0 if target_results is not None else 0.0], 0.0, INF)
    info = RowInfo(
        "total_spend", "total spend = sum of the lines", "eq", curves.currency, 0.0, False
    )
    b.row(np.append(np.arange(n_tier), total), np.append(np.ones(n_tier), -1.0), 0.0, 0.0, info)
    lp = LPContext(b, curves, spec, lines, start, width, slope, tier_line, total, target_results)
    for family in FAMILIES:
        family.rows(lp)
    return _assemble(lp, excluded)


def _objective(
    spec: PlanSpec, lines: list[CurveLine], result_type: str, slope, tier_line, target
) -> np.ndarray:
    """Return the objective per tier: results, value, profit (value - spend) or 0 (a target)."""
    if target is not None:
        return np.zeros_like(slope)
    if spec.objective in ("value", "profit"):
        # PlanSpec.check gives every planned line a value under these objectives
        vpr = np.array(line_values(spec, lines, result_type), dtype=float)
        value = slope * vpr[tier_line]
        return value - 1.0 if spec.objective == "profit" else value
    return slope.copy()


def _assemble(lp: LPContext, excluded: list[CurveLine]) -> Model:
    """Turn what the families built into the solver-neutral arrays of a :class:`Model`."""
    b = lp.b
    lengths = np.array(b.r_len, dtype=np.int64)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return Model(
        lines=lp.lines,
        excluded=excluded,
        tier_start=lp.start,
        tier_slope=lp.slope,
        tier_line=lp.tier_line,
        c=np.concatenate(b.c),
        col_lb=np.concatenate(b.lb),
        col_ub=np.concatenate(b.ub),
        indptr=indptr,
        indices=np.concatenate(b.r_idx).astype(np.int32),
        data=np.concatenate(b.r_val).astype(float),
        row_lb=np.array(b.r_lb, dtype=float),
        row_ub=np.array(b.r_ub, dtype=float),
        rows=b.rows,
        total_col=lp.total,
        budget_row=next(i for i, r in enumerate(b.rows) if r.family == "budget"),
        binary_cols=lp.binary_cols,
        activation_rows=np.array(lp.activation_rows, dtype=np.int64),
        objective=lp.spec.objective,
        floor_cols=lp.floor_cols,
        group_defs=tuple(lp.group_defs),
    )
