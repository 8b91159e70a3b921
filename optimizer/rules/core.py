"""The budget and the objective (or, for a target, the results to reach): what every plan has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..lp import INF, LPContext
from ..values import check_budget, optional
from .base import RuleFamily, fmt
from .economics import line_values

#: what a plan maximises: results, value (results x value_per_result), value minus spend, or
#: the mean results of its worst ``alpha`` share of scenarios (a risk-aware plan)
OBJECTIVES = ("results", "value", "profit", "cvar")
#: the share of worst scenarios objective cvar raises, unless the spec gives ``alpha``
DEFAULT_ALPHA = 0.1

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart


class Budget(RuleFamily):
    """``budget`` (the plan spends at most this much) and ``objective``.

    Objectives: ``results`` (the most expected results), ``value`` (the most value: results x
    ``value_per_result``, the whole budget spent if it adds value) and ``profit`` (the most
    value minus spend: the budget is a limit, not reached when more spend loses money). No
    limit on spend when planning to a target. In a re-plan the budget is what is left.
    """

    keys = fields = ("budget", "objective", "alpha")
    families = ("budget",)
    nouns = {"budget": "budget"}

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the budget (required) and the objective (results unless given)."""
        if "budget" not in data:
            raise SpecError("spec: 'budget' is missing; give the plan's total budget")
        return {
            "budget": check_budget(data["budget"]),
            "objective": str(data.get("objective", "results")),
            "alpha": optional(data, "alpha", "spec"),
        }

    def validate(self, spec: PlanSpec) -> None:
        """Check the budget's range, the objective's name and cvar's ``alpha``."""
        object.__setattr__(spec, "budget", check_budget(spec.budget))
        if spec.objective not in OBJECTIVES:
            raise SpecError(
                "spec.objective: must be 'results', 'value', 'profit' or 'cvar', got "
                f"{spec.objective!r}"
            )
        if spec.alpha is not None and spec.objective != "cvar":
            raise SpecError(
                "spec.alpha: only objective cvar has an alpha (the share of worst scenarios "
                "it raises); add objective: cvar or drop alpha"
            )
        if spec.alpha is not None and not 0 < spec.alpha < 1:
            raise SpecError(
                f"spec.alpha: must be above 0 and below 1 (0.1: the worst 10% of scenarios), "
                f"got {spec.alpha:g}"
            )
        if spec.objective == "cvar" and spec.is_mip:
            raise SpecError(
                "spec.objective: cvar cannot be combined with min_line_spend, min_daily_spend or "
                "max_active_lines (on/off rules) yet; drop them or use objective: results"
            )

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Under objective 'value' or 'profit' every planned line needs a value per result."""
        if spec.objective in ("results", "cvar"):
            return
        planned = [ln for ln in curves.lines if not spec.exclude.excludes(ln.key)]
        for ln, v in zip(planned, line_values(spec, planned, curves.result_type), strict=True):
            if v is None:
                raise SpecError(
                    f"{spec.source}: objective is '{spec.objective}' but curve line {ln.label} "
                    "has no value per result; give value_per_result in the spec (a number, or "
                    "per result type, network or line) or use objective: results"
                )

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return the budget, and the objective unless it is 'results'."""
        d: dict[str, Any] = {"budget": spec.budget}
        if spec.objective != "results":
            d["objective"] = spec.objective
        if spec.alpha is not None:
            d["alpha"] = spec.alpha
        return d

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Give the open part what is left of the budget."""
        return {"budget": part.left, "objective": spec.objective, "alpha": spec.alpha}

    def rows(self, lp: LPContext) -> None:
        """Add the budget row on the total-spend column."""
        spec = lp.spec
        limit = INF if lp.target_results is not None else spec.budget
        desc = f"the budget of {fmt(spec.budget)} {lp.unit}"
        lp.rule([lp.total], [1.0], "max", limit, "budget", (), desc)


class Target(RuleFamily):
    """``--target-results``: the expected results reach the target (the smallest budget for it)."""

    families = ("target",)
    nouns = {"target_results": "results target"}

    def rows(self, lp: LPContext) -> None:
        """Add the results row when planning to a target."""
        if lp.target_results is None:
            return
        rt = lp.curves.result_type
        desc = f"at least {fmt(lp.target_results)} {rt} expected"
        target = float(lp.target_results)
        lp.rule(lp.tiers, lp.slope, "min", target, "target", (), desc, rt, "target_results")
