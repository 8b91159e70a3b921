"""The budget (or, for a target, the results to reach): the rows every plan has."""

from __future__ import annotations

from ..lp import INF, LPContext, RowInfo
from .base import RuleFamily, fmt


class Budget(RuleFamily):
    """``budget``: the plan spends at most this much (no limit when planning to a target)."""

    keys = ("budget",)
    families = ("budget",)

    def rows(self, lp: LPContext) -> None:
        """Add the budget row on the total-spend column."""
        spec = lp.spec
        limit = INF if lp.target_results is not None else spec.budget
        lp.rule(
            [lp.total],
            [1.0],
            "max",
            limit,
            "budget",
            (),
            f"total spend <= budget {spec.budget:,.2f}",
        )

    def action(self, info: RowInfo, amount: float) -> str:  # noqa: ARG002 (every family's signature)
        """Say by how much to raise the budget."""
        return f"raise the budget by {fmt(amount)}"


class Target(RuleFamily):
    """``--target-results``: the expected results reach the target (the smallest budget for it)."""

    families = ("target",)

    def rows(self, lp: LPContext) -> None:
        """Add the results row when planning to a target."""
        if lp.target_results is None:
            return
        rt = lp.curves.result_type
        desc = f"expected {rt} >= {lp.target_results:,.2f}"
        lp.rule(
            lp.tiers,
            lp.slope,
            "min",
            float(lp.target_results),
            "target",
            (),
            desc,
            rt,
            "target_results",
        )

    def action(self, info: RowInfo, amount: float) -> str:
        """Say by how much to lower the target."""
        return f"lower the target by {fmt(amount)} {info.unit}"
