"""On/off rules (a MILP): ``min_line_spend`` and ``max_active_lines``."""

from __future__ import annotations

import numpy as np

from ..lp import INF, LPContext, RowInfo, rule_name
from .base import RuleFamily


class OnOff(RuleFamily):
    """``min_line_spend``: a line spends 0 or at least m; ``max_active_lines``: at most K on.

    One binary per line: ``spend <= capacity x on`` (hidden ``line_on__<line>`` rows),
    ``spend >= m x on`` (``min_line_spend__<line>``) and ``sum(on) <= K``
    (``max_active_lines``). After the MILP the choices are fixed and the LP re-solved for
    duals.
    """

    keys = ("min_line_spend", "max_active_lines")
    families = ("min_line_spend", "max_active_lines")
    per_line = True

    def rows(self, lp: LPContext) -> None:
        """Add one binary per line and the rows tying spend to it, then the count limit."""
        spec = lp.spec
        if not spec.is_mip:
            return
        n = len(lp.lines)
        caps = np.add.reduceat(lp.width, lp.start[:-1]) if len(lp.width) else np.zeros(0)
        y0 = lp.b.cols(np.zeros(n), 0.0, 1.0)
        lp.binary_cols = np.arange(y0, y0 + n)
        for li in range(n):
            self._line_rows(lp, li, y0 + li, float(caps[li]))
        k = spec.max_active_lines
        if k is not None:
            desc = f"at most {k} lines switched on"
            row = lp.rule(
                lp.binary_cols, 1.0, "max", float(k), "max_active_lines", (), desc, "lines"
            )
            lp.activation_rows.append(row)

    @staticmethod
    def _line_rows(lp: LPContext, li: int, y: int, cap: float) -> None:
        cols, key, m = lp.line_cols(li), lp.keys[li], lp.spec.min_line_spend
        idx = np.append(cols, y)
        info = RowInfo(
            rule_name("line_on", *key),
            "spend only on lines switched on",
            "max",
            lp.unit,
            0.0,
            False,
        )
        lp.activation_rows.append(
            lp.b.row(idx, np.append(np.ones(len(cols)), -cap), -INF, 0.0, info)
        )
        if m is not None:
            desc = f"line {'/'.join(key)} spends 0 or at least {m:,.2f}"
            val = np.append(np.ones(len(cols)), -m)
            lp.activation_rows.append(lp.rule(idx, val, "min", 0.0, "min_line_spend", key, desc))
