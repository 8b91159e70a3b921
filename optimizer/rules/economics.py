"""``max_cost_per_result``: the plan's average cost per result stays under a ceiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..lp import LPContext
from ..values import optional
from .base import RuleFamily

if TYPE_CHECKING:
    from ..spec import PlanSpec


class CostPerResultCeiling(RuleFamily):
    """``max_cost_per_result``: spend <= ceiling x expected results, over the whole plan.

    A ceiling of 0 is refused: no result is free, so it could only give an empty plan.
    """

    keys = fields = ("max_cost_per_result",)
    families = ("max_cost_per_result",)
    relax_spend = True

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the ceiling (a number above 0)."""
        return {"max_cost_per_result": optional(data, "max_cost_per_result", "spec")}

    def validate(self, spec: PlanSpec) -> None:
        """Refuse a ceiling of 0: no result is free, so it would allow no spend at all."""
        if spec.max_cost_per_result == 0:
            raise SpecError(
                "spec.max_cost_per_result: must be above 0 (a ceiling of 0 allows no spend at "
                "all), got 0; drop the rule or give the most an average result may cost"
            )

    def rows(self, lp: LPContext) -> None:
        """Add the row ``spend - cpr x results <= 0``."""
        cpr = lp.spec.max_cost_per_result
        if cpr is None:
            return
        idx = np.append(lp.tiers, lp.total)
        val = np.append(-cpr * lp.slope, 1.0)
        desc = f"average cost per {lp.curves.result_type} <= {cpr:,.4g}"
        lp.rule(idx, val, "max", 0.0, "max_cost_per_result", (), desc)
