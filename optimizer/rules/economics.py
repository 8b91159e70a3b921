"""``max_cost_per_result``: the plan's average cost per result stays under a ceiling."""

from __future__ import annotations

import numpy as np

from ..lp import LPContext
from .base import RuleFamily


class CostPerResultCeiling(RuleFamily):
    """``max_cost_per_result``: spend <= ceiling x expected results, over the whole plan."""

    keys = ("max_cost_per_result",)
    families = ("max_cost_per_result",)
    relax_spend = True

    def rows(self, lp: LPContext) -> None:
        """Add the row ``spend - cpr x results <= 0``."""
        cpr = lp.spec.max_cost_per_result
        if cpr is None:
            return
        idx = np.append(lp.tiers, lp.total)
        val = np.append(-cpr * lp.slope, 1.0)
        desc = f"average cost per {lp.curves.result_type} <= {cpr:,.4g}"
        lp.rule(idx, val, "max", 0.0, "max_cost_per_result", (), desc)
