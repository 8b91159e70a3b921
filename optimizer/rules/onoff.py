"""On/off rules (a MILP): ``min_line_spend`` and ``max_active_lines``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..lp import INF, LPContext, RowInfo, rule_name
from ..names import line_words
from ..values import number, optional
from .base import EPS, RuleFamily, fmt

if TYPE_CHECKING:
    from ..spec import PlanSpec
    from .replan import OpenPart


class OnOff(RuleFamily):
    """``min_line_spend``: a line spends 0 or at least m; ``max_active_lines``: at most K on.

    One binary per line: ``tier <= width x on`` for each of its tiers (hidden
    ``line_on__<line>`` rows: the convex hull of the line, see optimizer/mip.py),
    ``spend >= m x on`` (``min_line_spend__<line>``) and ``sum(on) <= K``
    (``max_active_lines``). After the search the choices are fixed and the LP re-solved for
    duals. A re-plan counts the locked lines that spent against K.
    """

    keys = fields = ("min_line_spend", "max_active_lines")
    families = ("min_line_spend", "max_active_lines")
    nouns = {"min_line_spend": "minimum line spend", "max_active_lines": "limit on active lines"}

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the minimum spend of a line switched on and the most lines on (whole)."""
        k = data.get("max_active_lines")
        if k is not None:
            v = number(k, "spec.max_active_lines")
            if v != int(v):
                raise SpecError(f"spec.max_active_lines: must be a whole number, got {k!r}")
            k = int(v)
        return {"min_line_spend": optional(data, "min_line_spend", "spec"), "max_active_lines": k}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Count the lines already on (locked with spend) against ``max_active_lines``."""
        k = spec.max_active_lines
        if k is not None:
            k = max(0, k - sum(1 for v in part.locked.values() if v > EPS))
        return {"min_line_spend": spec.min_line_spend, "max_active_lines": k}

    def rows(self, lp: LPContext) -> None:
        """Add one binary per line and the rows tying spend to it, then the count limit."""
        spec = lp.spec
        if not spec.is_mip:
            return
        n = len(lp.lines)
        y0 = lp.b.cols(np.zeros(n), 0.0, 1.0)
        lp.binary_cols = np.arange(y0, y0 + n)
        self._switch_rows(lp, y0)
        m = spec.min_line_spend
        if m is not None:
            for li in range(n):
                self._min_row(lp, li, y0 + li, m)
        k = spec.max_active_lines
        if k is not None:
            desc = f"at most {k} lines on"
            row = lp.rule(
                lp.binary_cols, 1.0, "max", float(k), "max_active_lines", (), desc, "lines"
            )
            lp.activation_rows.append(row)

    @staticmethod
    def _switch_rows(lp: LPContext, y0: int) -> None:
        """Add ``tier <= width x on`` for every tier (hidden ``line_on__<line>`` rows).

        One row per tier, not one per line (``spend <= capacity x on``): relaxed, a line is
        its curve scaled by ``on`` (the convex hull of "off or on"), so the bound is tight
        and few switches end fractional (docs/optimizer.md, "On/off plans always finish").
        """
        desc = "spend only on lines switched on"
        infos = [
            RowInfo(rule_name("line_on", *key), desc, "max", lp.unit, 0.0, False) for key in lp.keys
        ]
        tiers = lp.tiers
        idx = np.column_stack([tiers, y0 + lp.tier_line])
        val = np.column_stack([np.ones(len(tiers)), -lp.width])
        first = lp.b.block(idx, val, -INF, 0.0, [infos[li] for li in lp.tier_line.tolist()])
        lp.activation_rows.extend(range(first, first + len(tiers)))

    @staticmethod
    def _min_row(lp: LPContext, li: int, y: int, m: float) -> None:
        """Add ``spend >= m x on`` for line ``li`` (``min_line_spend__<line>``)."""
        cols, key = lp.line_cols(li), lp.keys[li]
        idx = np.append(cols, y)
        desc = f"{line_words(key)}: 0 or at least {fmt(m)} {lp.unit}"
        val = np.append(np.ones(len(cols)), -m)
        lp.activation_rows.append(lp.rule(idx, val, "min", 0.0, "min_line_spend", key, desc))
