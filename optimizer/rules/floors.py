"""``results_floors``: at least so many results of another result type, on its own curves."""

from __future__ import annotations

import numpy as np

from ..lp import INF, LPContext, RowInfo, rule_name
from .base import RuleFamily


class ResultsFloors(RuleFamily):
    """``results_floors``: expected results of another type >= ``min``.

    Each line with a curve of that type gets a hypograph column ``r_l <= a_j + b_j x spend_l``
    (one row per curve segment j, the tangents of the concave curve, exact at the optimum)
    bounded by the curve's last results; the floor row is ``sum r_l >= min``, named
    ``results_floor__<type>``.
    """

    keys = ("results_floors",)
    families = ("results_floor",)

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
            desc = f"expected {fl.result_type} >= {fl.min:,.2f}"
            lp.rule(
                fcols, 1.0, "min", fl.min, "results_floor", (fl.result_type,), desc, fl.result_type
            )
            lp.floor_cols[fl.result_type] = (lidx, fcols)

    @staticmethod
    def _hypograph(lp: LPContext, cols: np.ndarray, r: int, pts, result_type: str) -> None:
        name = rule_name("floor_curve", result_type)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            s = (y1 - y0) / (x1 - x0)
            info = RowInfo(name, "", "max", "", 0.0, report=False)
            idx = np.append(cols, r)
            lp.b.row(idx, np.append(np.full(len(cols), -s), 1.0), -INF, y0 - s * x0, info)
