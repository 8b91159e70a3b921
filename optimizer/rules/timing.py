"""Rules across periods: ``pacing`` (each period near its share) and ``max_period_change``."""

from __future__ import annotations

from ..lp import LPContext
from .base import RuleFamily


class Pacing(RuleFamily):
    """``pacing``: each period spends within +-tolerance of its share of the total.

    The share is even, or ``weights`` normalised over the periods planned. Rows
    ``pacing_max__<period>`` and ``pacing_min__<period>``.
    """

    keys = ("pacing",)
    families = ("pacing",)
    relax_spend = True

    def rows(self, lp: LPContext) -> None:
        """Add a cap and a floor per period, as shares of the total spend."""
        pacing = lp.spec.pacing
        if pacing is None:
            return
        periods = sorted(lp.names("periods"))
        tol = pacing.tolerance
        if pacing.weights is None:
            w = {p: 1.0 / len(periods) for p in periods}
        else:
            tot = sum(pacing.weights[p] for p in periods)
            w = {p: pacing.weights[p] / tot for p in periods}
        for p in periods:
            col = lp.group_col("periods", p)
            hi, lo = (1 + tol) * w[p], max(0.0, 1 - tol) * w[p]
            desc = f"period {p} spends at most {hi:.1%} of the total"
            lp.rule(
                [col, lp.total], [1.0, -hi], "max", 0.0, "pacing", (p,), desc, word="pacing_max"
            )
            desc = f"period {p} spends at least {lo:.1%} of the total"
            lp.rule(
                [col, lp.total], [1.0, -lo], "min", 0.0, "pacing", (p,), desc, word="pacing_min"
            )


class PeriodChange(RuleFamily):
    """``max_period_change``: each period within +-x of the one before (periods in time order)."""

    keys = ("max_period_change",)
    families = ("period_change",)
    relax_spend = True

    def rows(self, lp: LPContext) -> None:
        """Add a cap and a floor per period after the first, relative to the one before."""
        ch = lp.spec.max_period_change
        periods = sorted(lp.names("periods"))
        if ch is None or len(periods) < 2:
            return
        for p0, p1 in zip(periods, periods[1:], strict=False):
            c0, c1 = lp.group_col("periods", p0), lp.group_col("periods", p1)
            desc = f"period {p1} spends at most {1 + ch:.0%} of {p0}"
            lp.rule(
                [c1, c0],
                [1.0, -(1 + ch)],
                "max",
                0.0,
                "period_change",
                (p1,),
                desc,
                word="change_max",
            )
            desc = f"period {p1} spends at least {max(0.0, 1 - ch):.0%} of {p0}"
            lo = max(0.0, 1 - ch)
            lp.rule(
                [c1, c0], [1.0, -lo], "min", 0.0, "period_change", (p1,), desc, word="change_min"
            )
