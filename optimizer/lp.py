"""The pieces every rule family builds the LP with: rows, their meaning and their names.

A rule family (``optimizer/rules/``) emits its rows through an :class:`LPContext`, which
holds the builder, the curve lines planned and the helper columns, so that a family needs to
know nothing but its own rule. :func:`rule_name` is the one place rule names are made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .curves import CurveLine, Curves
    from .spec import PlanSpec

INF = float("inf")


def _escape(part: str) -> str:
    return str(part).replace("%", "%25").replace("/", "%2F")


def rule_name(family: str, *target: str) -> str:
    """Return the name of a rule row: its family, then ``__`` and its target joined by ``/``.

    Names never collide, whatever the names of networks, segments and periods: the family
    says what kind of thing the target is (``network_share_max__brand`` and
    ``segment_share_max__brand``), and in a target of several parts (a line's
    ``network/segment/period``) ``/`` and ``%`` inside a part are percent-encoded.
    """
    if not target:
        return family
    if len(target) == 1:
        return f"{family}__{target[0]}"
    return f"{family}__{'/'.join(_escape(p) for p in target)}"


def row_bounds(sense: str, limit: float) -> tuple[float, float]:
    """Return a row's (lower, upper) bound that holds it at ``limit`` ('min', 'max', 'eq')."""
    if sense == "min":
        return limit, INF
    if sense == "max":
        return -INF, limit
    return limit, limit


@dataclass(slots=True)
class RowInfo:
    """What one row means. ``sense``: 'max' (limit is the row's upper bound), 'min', 'eq'.

    ``family`` is the rule family that made the row and ``target`` what it is about (a network,
    a line key, a result type ...); rows with ``report=False`` define helper columns.
    """

    name: str
    description: str
    sense: str
    unit: str
    limit: float
    report: bool = True
    family: str = ""
    target: tuple[str, ...] = ()


class Builder:
    """Collect columns and rows; rows are (column indices, coefficients, lb, ub, info)."""

    def __init__(self) -> None:
        self.c: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.n = 0
        self.r_idx: list[np.ndarray] = []
        self.r_val: list[np.ndarray] = []
        self.r_lb: list[float] = []
        self.r_ub: list[float] = []
        self.r_len: list[int] = []  # entries per row (a block adds one chunk for many rows)
        self.rows: list[RowInfo] = []

    def cols(self, c, lb, ub) -> int:
        """Add columns with objective ``c`` and bounds; return the index of the first."""
        c = np.asarray(c, dtype=float)
        start = self.n
        self.c.append(c)
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), c.shape))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), c.shape))
        self.n += len(c)
        return start

    def row(self, idx, val, lb: float, ub: float, info: RowInfo) -> int:
        """Add the row ``lb <= sum(val * x[idx]) <= ub``; return its index."""
        idx = np.asarray(idx, dtype=np.int32)
        val = np.broadcast_to(np.asarray(val, dtype=float), idx.shape)
        self.r_idx.append(idx)
        self.r_val.append(val)
        self.r_len.append(len(idx))
        self.r_lb.append(lb)
        self.r_ub.append(ub)
        self.rows.append(info)
        return len(self.rows) - 1

    def block(self, idx: np.ndarray, val: np.ndarray, lb, ub, infos: list[RowInfo]) -> int:
        """Add one row per line of the 2-D ``idx``/``val`` at once; return the first index.

        ``lb``/``ub`` are one bound per row (arrays) or one for all; ``infos`` one per row.
        """
        n, k = idx.shape
        return self.ragged(np.ravel(idx), np.ravel(val), [k] * n, lb, ub, infos)

    def ragged(self, idx, val, lens, lb, ub, infos: list[RowInfo]) -> int:
        """Add one row per entry of ``lens`` at once: its ``lens[i]`` entries of ``idx``/``val``.

        ``lb``/``ub`` are one bound per row (arrays) or one for all; ``infos`` one per row.
        Returns the first row's index.
        """
        n = len(infos)
        self.r_idx.append(np.asarray(idx, dtype=np.int32))
        self.r_val.append(np.broadcast_to(np.asarray(val, dtype=float), (len(self.r_idx[-1]),)))
        self.r_len.extend(int(k) for k in lens)
        self.r_lb.extend(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).tolist())
        self.r_ub.extend(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).tolist())
        first = len(self.rows)
        self.rows.extend(infos)
        return first

    def limit_row(self, idx, val, sense: str, limit: float, info: RowInfo) -> int:
        """Add a row whose ``sense`` ('min', 'max' or 'eq') holds it at ``limit``."""
        lb, ub = row_bounds(sense, limit)
        info.sense, info.limit = sense, limit
        return self.row(idx, val, lb, ub, info)


@dataclass(slots=True)
class LPContext:
    """What the rule families build on: the builder, the planned lines and the helper columns.

    Tier columns come first (``start[i]:start[i + 1]`` are line ``i``'s), then ``total`` (the
    plan's spend). :meth:`group_col` makes one spend column per network, segment or period
    on demand, so share rows stay sparse.
    """

    b: Builder
    curves: Curves
    spec: PlanSpec
    lines: list[CurveLine]
    start: np.ndarray
    width: np.ndarray
    slope: np.ndarray
    tier_line: np.ndarray
    total: int
    target_results: float | None = None
    floor_cols: dict = field(default_factory=dict)
    binary_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    activation_rows: list[int] = field(default_factory=list)
    #: (column, defining row) of each network/segment/period spend column
    group_defs: list[tuple[int, int]] = field(default_factory=list)
    _keys: list[tuple[str, str, str]] | None = None
    _index: Mapping[tuple[str, str, str], int] | None = None
    _groups: dict = field(default_factory=dict)
    _helper: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[tuple[str, str, str]]:
        """Return each planned line's (network, segment, period), made when a rule asks."""
        if self._keys is None:
            whole = len(self.lines) == len(self.curves.lines)  # nothing excluded: the curves'
            self._keys = list(self.curves.keys()) if whole else [ln.key for ln in self.lines]
        return self._keys

    @property
    def index(self) -> Mapping[tuple[str, str, str], int]:
        """Return each planned line's position by its key."""
        if self._index is None:
            whole = len(self.lines) == len(self.curves.lines)
            self._index = self.curves.index() if whole else {k: i for i, k in enumerate(self.keys)}
        return self._index

    @property
    def tiers(self) -> np.ndarray:
        """Return the indices of the tier columns."""
        return np.arange(int(self.start[-1]))

    @property
    def unit(self) -> str:
        """Return the plan's currency, the unit of spend rules."""
        return self.curves.currency

    def line_cols(self, i: int) -> np.ndarray:
        """Return the tier columns of planned line ``i``."""
        return np.arange(self.start[i], self.start[i + 1])

    def names(self, kind: str) -> dict[str, int]:
        """Return the networks, segments or periods (``kind``) planned, with a code each."""
        if kind not in self._groups:
            pos = ("networks", "segments", "periods").index(kind)
            names = sorted({k[pos] for k in self.keys})
            code = {n: i for i, n in enumerate(names)}
            line_code = np.fromiter((code[k[pos]] for k in self.keys), dtype=np.int64)
            tier_code = line_code[self.tier_line]
            # the tiers of each name, found once: sorted by code (stable: ascending tiers)
            order = np.argsort(tier_code, kind="stable")
            bounds = np.searchsorted(tier_code[order], np.arange(len(names) + 1))
            self._groups[kind] = (code, order, bounds)
        return self._groups[kind][0]

    def group_tiers(self, kind: str, name: str) -> np.ndarray:
        """Return the tier columns of one network, segment or period (ascending)."""
        c = self.names(kind)[name]
        _, order, bounds = self._groups[kind]
        return order[bounds[c] : bounds[c + 1]]

    def group_col(self, kind: str, name: str) -> int:
        """Return the column holding the spend of one network, segment or period."""
        if (kind, name) not in self._helper:
            cols = self.group_tiers(kind, name)
            col = self.b.cols([0.0], 0.0, INF)
            info = RowInfo(
                rule_name(f"{kind[:-1]}_spend", name), "definition", "eq", self.unit, 0.0, False
            )
            row = self.b.row(
                np.append(cols, col), np.append(np.ones(len(cols)), -1.0), 0.0, 0.0, info
            )
            self._helper[(kind, name)] = col
            self.group_defs.append((col, row))
        return self._helper[(kind, name)]

    def line_rules(self, rules: list[tuple[int, str, float, str, str]]) -> None:
        """Add one reported rule row per ``(line, sense, limit, family, description)``.

        Each row adds up all the tiers of the planned line ``line`` (its spend); one chunk
        for all, in the order given (:meth:`rule` for each took 20 us a row).
        """
        if not rules:
            return
        li = np.array([r[0] for r in rules], dtype=np.int64)
        lens = self.start[li + 1] - self.start[li]
        offset = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        lb, ub, infos, keys = [], [], [], self.keys
        for i, sense, limit, family, desc in rules:
            key = keys[i]
            lo, hi = row_bounds(sense, limit)
            lb.append(lo)
            ub.append(hi)
            infos.append(
                RowInfo(rule_name(family, *key), desc, sense, self.unit, limit, True, family, key)
            )
        self.b.ragged(np.repeat(self.start[li], lens) + offset, 1.0, lens, lb, ub, infos)

    def rule(
        self,
        idx,
        val,
        sense: str,
        limit: float,
        family: str,
        target: tuple[str, ...],
        description: str,
        unit: str | None = None,
        word: str | None = None,
    ) -> int:
        """Add one reported rule row; return its index.

        Its name is :func:`rule_name` of ``word`` (the family, unless a family names its rows
        apart, as pacing does with ``pacing_max``/``pacing_min``) and ``target``.
        """
        info = RowInfo(
            rule_name(word or family, *target),
            description,
            "",
            self.unit if unit is None else unit,
            0.0,
            family=family,
            target=tuple(target),
        )
        return self.b.limit_row(idx, val, sense, limit, info)
