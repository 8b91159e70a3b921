"""``results_floors``: at least so many results of another result type, on its own curves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..curves import Curves, load_curves
from ..errors import CurveError, SpecError
from ..lp import INF, LPContext, RowInfo, rule_name
from ..values import mapping, number, refuse_unknown
from .base import EPS, RuleFamily, fmt

if TYPE_CHECKING:
    from ..spec import PlanSpec
    from .replan import OpenPart


@dataclass(frozen=True, slots=True)
class ResultsFloor:
    """At least ``min`` results of another result type, from its own curves on the same lines."""

    result_type: str
    min: float
    curves: Curves

    def to_dict(self) -> dict:
        """Return the floor as in the spec, its curves inline."""
        return {"result_type": self.result_type, "min": self.min, "curves": self.curves.to_dict()}


def _floor_curves(c, where: str, source: str) -> Curves:
    """Return a floor's curves: given inline, as Curves, or as a path (next to the spec file)."""
    try:
        if isinstance(c, Curves):
            return c
        if isinstance(c, Mapping):
            return Curves.from_dict(c, source=f"{where}.curves")
        p = Path(str(c))
        if not p.is_absolute() and source not in ("spec", "") and Path(source).exists():
            p = Path(source).parent / p
        return load_curves(p)
    except CurveError as e:
        raise SpecError(f"{where}.curves: {e}") from None


class ResultsFloors(RuleFamily):
    """``results_floors``: expected results of another type >= ``min``.

    Each line with a curve of that type gets a hypograph column ``r_l <= a_j + b_j x spend_l``
    (one row per curve segment j, the tangents of the concave curve, exact at the optimum)
    bounded by the curve's last results; the floor row is ``sum r_l >= min``, named
    ``results_floor__<type>``. A re-plan counts what the locked lines already brought.
    """

    keys = fields = ("results_floors",)
    families = ("results_floor",)
    nouns = {"results_floor": "results floor"}

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:
        """Read ``results_floors:`` (result_type, min and curves per floor)."""
        raw = data.get("results_floors") or []
        if not isinstance(raw, list):
            raise SpecError("spec.results_floors: expected a list of {result_type, min, curves}")
        floors = []
        for i, r in enumerate(raw):
            where = f"spec.results_floors[{i}]"
            r = mapping(r, where)
            refuse_unknown(r, {"result_type", "min", "curves"}, where)
            missing = [k for k in ("result_type", "min", "curves") if k not in r]
            if missing:
                raise SpecError(f"{where}: lacks {', '.join(missing)}")
            fc = _floor_curves(r["curves"], where, source)
            floors.append(ResultsFloor(str(r["result_type"]), number(r["min"], f"{where}.min"), fc))
        return {"results_floors": tuple(floors)}

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse a floor on the plan's own result type, or with curves on lines the plan lacks."""
        if not spec.results_floors:
            return
        keys = {ln.key for ln in curves.lines}
        for i, fl in enumerate(spec.results_floors):
            if fl.result_type == curves.result_type:
                raise SpecError(
                    f"{spec.source}: results_floors[{i}] is on {fl.result_type}, the type the "
                    "plan maximises; a floor must be on another result type (use "
                    "--target-results for this one)"
                )
            for ln in fl.curves.lines:
                if ln.key not in keys:
                    raise SpecError(
                        f"{spec.source}: results_floors[{i}] ({fl.result_type}) has a curve for "
                        f"line {ln.label}, which the plan's curves lack; floor curves must be on "
                        "the plan's lines"
                    )

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return the floors with their curves inline."""
        fl = spec.results_floors
        return {"results_floors": [f.to_dict() for f in fl]} if fl else {}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Lower each floor by what the locked lines bring; drop it once they reach it."""
        floors = []
        open_periods = set(part.curves.periods)
        for f in spec.results_floors:
            got = sum(
                ln.results_at(part.locked[ln.key]) for ln in f.curves.lines if ln.key in part.locked
            )
            need = f.min - got
            if need > EPS:
                rest = f.curves.filter(ln for ln in f.curves.lines if ln.period in open_periods)
                floors.append(ResultsFloor(f.result_type, need, rest))
        return {"results_floors": tuple(floors)}

    def rows(self, lp: LPContext) -> None:
        """Add the hypograph columns and rows, then the floor row, per floor."""
        for fl in lp.spec.results_floors:
            flines = [ln for ln in fl.curves.lines if ln.key in lp.index]
            lidx = np.array([lp.index[ln.key] for ln in flines], dtype=np.int64)
            caps = np.array([ln.max_results for ln in flines], dtype=float)
            r0 = lp.b.cols(np.zeros(len(flines)), 0.0, caps) if len(flines) else lp.b.n
            for j, (ln, li) in enumerate(zip(flines, lidx, strict=True)):
                self._hypograph(lp, lp.line_cols(int(li)), r0 + j, ln.points, fl.result_type)
            fcols = np.arange(r0, r0 + len(flines))
            desc = f"at least {fmt(fl.min)} {fl.result_type} expected"
            rt = fl.result_type
            lp.rule(fcols, 1.0, "min", fl.min, "results_floor", (rt,), desc, rt)
            lp.floor_cols[rt] = (lidx, fcols)

    @staticmethod
    def _hypograph(lp: LPContext, cols: np.ndarray, r: int, pts, result_type: str) -> None:
        name = rule_name("floor_curve", result_type)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            s = (y1 - y0) / (x1 - x0)
            info = RowInfo(name, "", "max", "", 0.0, report=False)
            idx = np.append(cols, r)
            lp.b.row(idx, np.append(np.full(len(cols), -s), 1.0), -INF, y0 - s * x0, info)
