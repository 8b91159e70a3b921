"""``max_cost_per_result``: the plan's average cost per result stays under a ceiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..lp import LPContext
from ..values import optional
from .base import RuleFamily


class CostPerResultCeiling(RuleFamily):
    """``max_cost_per_result``: spend <= ceiling x expected results, over the whole plan.

    A ceiling of 0 allows no spend at all (every result would have to be free).
    """

    keys = fields = ("max_cost_per_result",)
    families = ("max_cost_per_result",)
    relax_spend = True

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the ceiling (a number >= 0)."""
        return {"max_cost_per_result": optional(data, "max_cost_per_result", "spec")}

    def rows(self, lp: LPContext) -> None:
        """Add the row ``spend - cpr x results <= 0``."""
        cpr = lp.spec.max_cost_per_result
        if cpr is None:
            return
        idx = np.append(lp.tiers, lp.total)
        val = np.append(-cpr * lp.slope, 1.0)
        desc = f"average cost per {lp.curves.result_type} <= {cpr:,.4g}"
        lp.rule(idx, val, "max", 0.0, "max_cost_per_result", (), desc)
