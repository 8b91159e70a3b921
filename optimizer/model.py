"""Build the allocation LP as sparse arrays: one column per curve tier, one row per rule.

The model is solver-neutral: ``c`` (maximised), column bounds, a CSR matrix and row bounds,
plus what each row means (``RowInfo``). ``solvers.py`` hands it to HiGHS (arrays, directly) or
to CBC (through PuLP). Concave curves make the tiers fill in order, so it stays a pure LP;
binaries appear only for ``min_line_spend`` / ``max_active_lines``.

Columns, in order: tier variables (spend in each curve segment, ``0 <= x <= width``, objective
= slope or slope x value_per_result), then helpers: ``total`` (the plan's spend), one spend
variable per network/segment/period that a rule names (keeps share rows sparse), hypograph
variables for results floors of other result types, and on/off binaries.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .curves import CurveLine, Curves
from .errors import SpecError
from .spec import PlanSpec

INF = float("inf")


@dataclass(slots=True)
class RowInfo:
    """What one row means. ``sense``: 'max' (limit is the row's upper bound), 'min', 'eq'."""

    name: str
    description: str
    sense: str
    unit: str
    limit: float
    report: bool = True
    family: str = ""
    rhs_scale: float = 1.0  # currency per unit of the row's right-hand side


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


class _Builder:
    """Collects columns and rows; rows are (column indices, coefficients, lb, ub, info)."""

    def __init__(self) -> None:
        self.c: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.n = 0
        self.r_idx: list[np.ndarray] = []
        self.r_val: list[np.ndarray] = []
        self.r_lb: list[float] = []
        self.r_ub: list[float] = []
        self.rows: list[RowInfo] = []

    def cols(self, c, lb, ub) -> int:
        c = np.asarray(c, dtype=float)
        start = self.n
        self.c.append(c)
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), c.shape))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), c.shape))
        self.n += len(c)
        return start

    def row(self, idx, val, lb: float, ub: float, info: RowInfo) -> int:
        idx = np.asarray(idx, dtype=np.int32)
        val = np.broadcast_to(np.asarray(val, dtype=float), idx.shape)
        self.r_idx.append(idx)
        self.r_val.append(val)
        self.r_lb.append(lb)
        self.r_ub.append(ub)
        self.rows.append(info)
        return len(self.rows) - 1

    def limit_row(self, idx, val, sense: str, limit: float, info: RowInfo) -> int:
        lb, ub = {"min": (limit, INF), "max": (-INF, limit), "eq": (limit, limit)}[sense]
        info.sense, info.limit = sense, limit
        return self.row(idx, val, lb, ub, info)


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


def build_model(curves: Curves, spec: PlanSpec, *, target_results: float | None = None) -> Model:  # noqa: C901 (split in issue 10)
    """Build the LP (or MILP) for ``curves`` under ``spec``.

    With ``target_results`` the model minimises spend subject to results >= target and the
    budget row has no upper limit (see :func:`optimizer.min_budget_for_results`).
    """
    spec.check(curves)
    ex = spec.exclude
    lines = [ln for ln in curves.lines if not ex.excludes(ln.key)] if ex else list(curves.lines)
    keys = [(ln.network, ln.segment, ln.period) for ln in lines]
    excluded = [ln for ln in curves.lines if ex.excludes(ln.key)] if ex else []
    if not lines:
        raise SpecError(
            f"{spec.source}: exclude removes every curve line; there is nothing left to plan"
        )
    start, width, slope = _tiers(lines)
    n_lines = len(lines)
    tier_line = np.repeat(np.arange(n_lines), np.diff(start))
    b = _Builder()
    if spec.objective == "value":
        vpr = np.array([ln.value_per_result for ln in lines], dtype=float)
        c = slope * vpr[tier_line]
    else:
        c = slope.copy()
    if target_results is not None:
        c = np.zeros_like(c)
    b.cols(c, 0.0, width)
    n_tier = len(width)
    tiers = np.arange(n_tier)
    currency = curves.currency
    unit = currency

    total = b.cols([-1.0 if target_results is not None else 0.0], 0.0, INF)
    b.row(
        np.append(tiers, total),
        np.append(np.ones(n_tier), -1.0),
        0.0,
        0.0,
        RowInfo("total_spend", "total spend = sum of the lines", "eq", unit, 0.0, report=False),
    )
    budget_row = b.limit_row(
        [total],
        [1.0],
        "max",
        INF if target_results is not None else spec.budget,
        RowInfo(
            "budget", f"total spend <= budget {spec.budget:,.2f}", "", unit, 0.0, family="budget"
        ),
    )
    if target_results is not None:
        b.limit_row(
            tiers,
            slope,
            "min",
            float(target_results),
            RowInfo(
                "target_results",
                f"expected {curves.result_type} >= {target_results:,.2f}",
                "",
                curves.result_type,
                0.0,
                family="target",
            ),
        )

    group_of_tier = {}
    for pos, kind in enumerate(("networks", "segments", "periods")):
        names = sorted({k[pos] for k in keys})
        code = {n: i for i, n in enumerate(names)}
        line_code = np.fromiter((code[k[pos]] for k in keys), dtype=np.int64, count=n_lines)
        group_of_tier[kind] = (code, line_code[tier_line])

    helper: dict[tuple[str, str], int] = {}

    def group_col(kind: str, name: str) -> int:
        if (kind, name) not in helper:
            code, tier_code = group_of_tier[kind]
            cols = np.flatnonzero(tier_code == code[name])
            col = b.cols([0.0], 0.0, INF)
            b.row(
                np.append(cols, col),
                np.append(np.ones(len(cols)), -1.0),
                0.0,
                0.0,
                RowInfo(f"{kind[:-1]}_spend__{name}", "definition", "eq", unit, 0.0, report=False),
            )
            helper[(kind, name)] = col
        return helper[(kind, name)]

    # ---- min/max currency and shares per network, segment and period
    for kind in ("networks", "segments", "periods"):
        word = kind[:-1]
        for name, rule in getattr(spec, kind).items():
            if name not in group_of_tier[kind][0]:  # every line of it is excluded
                if rule.min or rule.min_share:
                    raise SpecError(
                        f"{spec.source}: {kind}.{name}: asks for spend on a {word} whose every "
                        "line 'exclude' removes; drop the rule or the exclusions"
                    )
                continue  # only upper limits remain, trivially met
            col = group_col(kind, name)
            if rule.min is not None:
                b.limit_row(
                    [col],
                    [1.0],
                    "min",
                    rule.min,
                    RowInfo(
                        f"{word}_min__{name}",
                        f"{word} {name} spends at least {rule.min:,.2f}",
                        "",
                        unit,
                        0.0,
                        family=f"{word}_min",
                    ),
                )
            if rule.max is not None:
                b.limit_row(
                    [col],
                    [1.0],
                    "max",
                    rule.max,
                    RowInfo(
                        f"{word}_max__{name}",
                        f"{word} {name} spends at most {rule.max:,.2f}",
                        "",
                        unit,
                        0.0,
                        family=f"{word}_max",
                    ),
                )
            if rule.min_share is not None:
                b.limit_row(
                    [col, total],
                    [1.0, -rule.min_share],
                    "min",
                    0.0,
                    RowInfo(
                        f"share_min__{name}",
                        f"{word} {name} gets at least {rule.min_share:.1%} of the total spend",
                        "",
                        unit,
                        0.0,
                        family="share_min",
                    ),
                )
            if rule.max_share is not None:
                b.limit_row(
                    [col, total],
                    [1.0, -rule.max_share],
                    "max",
                    0.0,
                    RowInfo(
                        f"share_max__{name}",
                        f"{word} {name} gets at most {rule.max_share:.1%} of the total spend",
                        "",
                        unit,
                        0.0,
                        family="share_max",
                    ),
                )

    # ---- line rules (min, max, lock)
    index = {k: i for i, k in enumerate(keys)}
    for rule in spec.lines:
        li = index[rule.key]
        cols = np.arange(start[li], start[li + 1])
        tag = "__".join(rule.key)
        if rule.lock is not None:
            b.limit_row(
                cols,
                1.0,
                "eq",
                rule.lock,
                RowInfo(
                    f"lock__{tag}",
                    f"line {rule.label} locked at {rule.lock:,.2f}",
                    "",
                    unit,
                    0.0,
                    family="lock",
                ),
            )
        if rule.min is not None:
            b.limit_row(
                cols,
                1.0,
                "min",
                rule.min,
                RowInfo(
                    f"line_min__{tag}",
                    f"line {rule.label} spends at least {rule.min:,.2f}",
                    "",
                    unit,
                    0.0,
                    family="line_min",
                ),
            )
        if rule.max is not None:
            b.limit_row(
                cols,
                1.0,
                "max",
                rule.max,
                RowInfo(
                    f"line_max__{tag}",
                    f"line {rule.label} spends at most {rule.max:,.2f}",
                    "",
                    unit,
                    0.0,
                    family="line_max",
                ),
            )

    # ---- average cost per result over the plan: spend - cpr * results <= 0
    if spec.max_cost_per_result is not None:
        cpr = spec.max_cost_per_result
        b.limit_row(
            np.append(tiers, total),
            np.append(-cpr * slope, 1.0),
            "max",
            0.0,
            RowInfo(
                "max_cost_per_result",
                f"average cost per {curves.result_type} <= {cpr:,.4g}",
                "",
                unit,
                0.0,
                family="max_cost_per_result",
            ),
        )

    # ---- pacing and period-to-period change
    periods = sorted(group_of_tier["periods"][0])
    if spec.pacing is not None:
        tol = spec.pacing.tolerance
        if spec.pacing.weights is None:
            w = {p: 1.0 / len(periods) for p in periods}
        else:
            tot = sum(spec.pacing.weights[p] for p in periods)
            w = {p: spec.pacing.weights[p] / tot for p in periods}
        for p in periods:
            col = group_col("periods", p)
            b.limit_row(
                [col, total],
                [1.0, -(1 + tol) * w[p]],
                "max",
                0.0,
                RowInfo(
                    f"pacing_max__{p}",
                    f"period {p} spends at most {(1 + tol) * w[p]:.1%} of the total",
                    "",
                    unit,
                    0.0,
                    family="pacing",
                ),
            )
            b.limit_row(
                [col, total],
                [1.0, -max(0.0, 1 - tol) * w[p]],
                "min",
                0.0,
                RowInfo(
                    f"pacing_min__{p}",
                    f"period {p} spends at least {max(0.0, 1 - tol) * w[p]:.1%} of the total",
                    "",
                    unit,
                    0.0,
                    family="pacing",
                ),
            )
    if spec.max_period_change is not None and len(periods) > 1:
        ch = spec.max_period_change
        for p0, p1 in zip(periods, periods[1:], strict=False):
            c0, c1 = group_col("periods", p0), group_col("periods", p1)
            b.limit_row(
                [c1, c0],
                [1.0, -(1 + ch)],
                "max",
                0.0,
                RowInfo(
                    f"change_max__{p1}",
                    f"period {p1} spends at most {1 + ch:.0%} of {p0}",
                    "",
                    unit,
                    0.0,
                    family="period_change",
                ),
            )
            b.limit_row(
                [c1, c0],
                [1.0, -max(0.0, 1 - ch)],
                "min",
                0.0,
                RowInfo(
                    f"change_min__{p1}",
                    f"period {p1} spends at least {max(0.0, 1 - ch):.0%} of {p0}",
                    "",
                    unit,
                    0.0,
                    family="period_change",
                ),
            )

    # ---- floors on results of other result types: hypograph r_l <= a_j + b_j * spend_l
    floor_cols = {}
    for fl in spec.results_floors:
        flines = [ln for ln in fl.curves.lines if ln.key in index]
        lidx = np.array([index[ln.key] for ln in flines], dtype=np.int64)
        caps = np.array([ln.max_results for ln in flines], dtype=float)
        r0 = b.cols(np.zeros(len(flines)), 0.0, caps) if len(flines) else b.n
        for j, (ln, li) in enumerate(zip(flines, lidx, strict=True)):
            cols = np.arange(start[li], start[li + 1])
            pts = ln.points
            for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
                s = (y1 - y0) / (x1 - x0)
                b.row(
                    np.append(cols, r0 + j),
                    np.append(np.full(len(cols), -s), 1.0),
                    -INF,
                    y0 - s * x0,
                    RowInfo(f"floor_curve__{fl.result_type}", "", "max", "", 0.0, report=False),
                )
        fcols = np.arange(r0, r0 + len(flines))
        b.limit_row(
            fcols,
            1.0,
            "min",
            fl.min,
            RowInfo(
                f"results_floor__{fl.result_type}",
                f"expected {fl.result_type} >= {fl.min:,.2f}",
                "",
                fl.result_type,
                0.0,
                family="results_floor",
            ),
        )
        floor_cols[fl.result_type] = (lidx, fcols)

    # ---- MILP: a line is on (spend >= min_line_spend) or off (spend 0); at most K lines on
    binary_cols = np.zeros(0, dtype=np.int64)
    activation_rows = []
    if spec.is_mip:
        caps = np.add.reduceat(width, start[:-1]) if n_tier else np.zeros(0)
        y0 = b.cols(np.zeros(n_lines), 0.0, 1.0)
        binary_cols = np.arange(y0, y0 + n_lines)
        m = spec.min_line_spend
        for li in range(n_lines):
            cols = np.arange(start[li], start[li + 1])
            tag = "__".join(keys[li])
            activation_rows.append(
                b.row(
                    np.append(cols, y0 + li),
                    np.append(np.ones(len(cols)), -caps[li]),
                    -INF,
                    0.0,
                    RowInfo(
                        f"line_on__{tag}",
                        "spend only on lines switched on",
                        "max",
                        unit,
                        0.0,
                        report=False,
                    ),
                )
            )
            if m is not None:
                activation_rows.append(
                    b.limit_row(
                        np.append(cols, y0 + li),
                        np.append(np.ones(len(cols)), -m),
                        "min",
                        0.0,
                        RowInfo(
                            f"min_line_spend__{tag}",
                            f"line {'/'.join(keys[li])} spends 0 or at least {m:,.2f}",
                            "",
                            unit,
                            0.0,
                            family="min_line_spend",
                        ),
                    )
                )
        if spec.max_active_lines is not None:
            activation_rows.append(
                b.limit_row(
                    binary_cols,
                    1.0,
                    "max",
                    float(spec.max_active_lines),
                    RowInfo(
                        "max_active_lines",
                        f"at most {spec.max_active_lines} lines switched on",
                        "",
                        "lines",
                        0.0,
                        family="max_active_lines",
                    ),
                )
            )

    lengths = np.fromiter((len(i) for i in b.r_idx), dtype=np.int64, count=len(b.r_idx))
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return Model(
        lines=lines,
        excluded=excluded,
        tier_start=start,
        tier_slope=slope,
        tier_line=tier_line,
        c=np.concatenate(b.c),
        col_lb=np.concatenate(b.lb),
        col_ub=np.concatenate(b.ub),
        indptr=indptr,
        indices=np.concatenate(b.r_idx).astype(np.int32),
        data=np.concatenate(b.r_val).astype(float),
        row_lb=np.array(b.r_lb, dtype=float),
        row_ub=np.array(b.r_ub, dtype=float),
        rows=b.rows,
        total_col=total,
        budget_row=budget_row,
        binary_cols=binary_cols,
        activation_rows=np.array(activation_rows, dtype=np.int64),
        objective=spec.objective,
        floor_cols=floor_cols,
    )
