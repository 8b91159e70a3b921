"""Rules on single lines: ``lines:`` entries with ``min``, ``max`` or ``lock``; and ``exclude``."""

from __future__ import annotations

from ..curves import CurveLine, Curves
from ..errors import SpecError
from ..lp import LPContext
from ..spec import PlanSpec
from .base import RuleFamily


class LineLimits(RuleFamily):
    """``lines:``: a line spends at least ``min``, at most ``max``, or exactly ``lock``.

    Rows ``lock__<line>``, ``line_min__<line>``, ``line_max__<line>`` with ``<line>`` the
    line's ``network/segment/period``. A lock is a fact (spend already made, in a re-plan),
    never relaxed when rules conflict.
    """

    keys = ("lines",)
    families = ("lock", "line_min", "line_max")
    per_line = True

    def rows(self, lp: LPContext) -> None:
        """Add the rows of every line rule, in the spec's order."""
        for rule in lp.spec.lines:
            cols = lp.line_cols(lp.index[rule.key])
            if rule.lock is not None:
                desc = f"line {rule.label} locked at {rule.lock:,.2f}"
                lp.rule(cols, 1.0, "eq", rule.lock, "lock", rule.key, desc)
            if rule.min is not None:
                desc = f"line {rule.label} spends at least {rule.min:,.2f}"
                lp.rule(cols, 1.0, "min", rule.min, "line_min", rule.key, desc)
            if rule.max is not None:
                desc = f"line {rule.label} spends at most {rule.max:,.2f}"
                lp.rule(cols, 1.0, "max", rule.max, "line_max", rule.key, desc)


class Exclusion(RuleFamily):
    """``exclude:``: networks, segments and lines left out of the plan (no rows: no columns)."""

    keys = ("exclude",)

    def planned(self, curves: Curves, spec: PlanSpec) -> tuple[list[CurveLine], list[CurveLine]]:
        """Return the lines the plan spreads the budget over, and those it leaves out."""
        ex = spec.exclude
        if not ex:
            return list(curves.lines), []
        lines = [ln for ln in curves.lines if not ex.excludes(ln.key)]
        if not lines:
            raise SpecError(
                f"{spec.source}: exclude removes every curve line; there is nothing left to plan"
            )
        return lines, [ln for ln in curves.lines if ex.excludes(ln.key)]

    def rows(self, lp: LPContext) -> None:
        """Add nothing: excluded lines have no columns."""
