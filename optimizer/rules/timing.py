"""Rules across periods: ``pacing`` (each period near its share) and ``max_period_change``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..lp import LPContext
from ..periods import period_kind
from ..values import mapping, number, optional, refuse_unknown
from .base import RuleFamily, pct, unknown_name

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart


@dataclass(frozen=True, slots=True)
class Pacing:
    """Each period's spend within +-``tolerance`` of its share of the total (even or weighted)."""

    tolerance: float
    weights: Mapping[str, float] | None = None

    def to_dict(self) -> dict:
        """Return the pacing rule as in the spec (weights only when given)."""
        d: dict = {"tolerance": self.tolerance}
        if self.weights is not None:
            d["weights"] = dict(self.weights)
        return d


def require_time_order(spec: PlanSpec, curves: Curves, rule: str) -> None:
    """Refuse period labels that are neither ISO weeks nor months: ``rule`` needs their order."""
    odd = [p for p in sorted(curves.periods) if period_kind(p) is None]
    if odd:
        line = next(ln for ln in curves.lines if ln.period == odd[0])
        raise SpecError(
            f"{spec.source}: {rule}: period '{odd[0]}' (curve line {line.label}) is "
            "neither an ISO week (2027-W03) nor a month (2027-01), so the periods have "
            f"no time order for {rule}; name the periods as weeks or months "
            "in the curves, or drop the rule"
        )


def _weights(raw) -> dict[str, float]:
    w = mapping(raw, "spec.pacing.weights")
    weights = {str(k): number(v, f"spec.pacing.weights.{k}") for k, v in w.items()}
    if sum(weights.values()) <= 0:
        raise SpecError("spec.pacing.weights: at least one weight must be above 0")
    return weights


class PacingRule(RuleFamily):
    """``pacing``: each period spends within +-tolerance of its share of the total.

    The share is even, or ``weights`` normalised over the periods planned. Rows
    ``pacing_max__<period>`` and ``pacing_min__<period>``. A re-plan spreads what is left
    by the same profile over the periods still open.
    """

    keys = fields = ("pacing",)
    families = ("pacing",)
    nouns = {"pacing_min": "pacing floor", "pacing_max": "pacing cap"}
    relax_spend = True

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read ``pacing:`` (a tolerance, or a mapping with tolerance and weights)."""
        p = data.get("pacing")
        if p is None:
            return {"pacing": None}
        if not isinstance(p, Mapping):
            p = {"tolerance": p}
        refuse_unknown(p, {"tolerance", "weights"}, "spec.pacing")
        if "tolerance" not in p:
            raise SpecError("spec.pacing: give 'tolerance' (0.2 = each period within +-20%)")
        weights = None if p.get("weights") is None else _weights(p["weights"])
        return {"pacing": Pacing(number(p["tolerance"], "spec.pacing.tolerance"), weights)}

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Pacing needs ordered periods and, with weights, a weight for every period."""
        if spec.pacing is None:
            return
        require_time_order(spec, curves, "pacing")
        if spec.pacing.weights is None:
            return
        for p in spec.pacing.weights:
            if p not in set(curves.periods):
                raise unknown_name(spec, curves, "periods", p, "pacing.weights")
        missing = sorted(set(curves.periods) - set(spec.pacing.weights))
        if missing:
            raise SpecError(
                f"{spec.source}: pacing.weights: no weight for periods {missing}; give every "
                "period a weight (0 for none)"
            )

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Keep the weights of the open periods; drop pacing when they are all 0."""
        pacing = spec.pacing
        if pacing is None or pacing.weights is None:
            return {"pacing": pacing}
        open_periods = set(part.curves.periods)
        w = {p: v for p, v in pacing.weights.items() if p in open_periods}
        if sum(w.values()) <= 0:
            part.notes.append("spec.pacing: the periods left all have weight 0; pacing dropped")
            return {"pacing": None}
        return {"pacing": Pacing(pacing.tolerance, w)}

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
            cols = [lp.group_col("periods", p), lp.total]
            hi, lo = (1 + tol) * w[p], max(0.0, 1 - tol) * w[p]
            desc = f"period {p} at most {pct(hi)} of spend"
            lp.rule(cols, [1.0, -hi], "max", 0.0, "pacing", (p,), desc, word="pacing_max")
            desc = f"period {p} at least {pct(lo)} of spend"
            lp.rule(cols, [1.0, -lo], "min", 0.0, "pacing", (p,), desc, word="pacing_min")


class PeriodChange(RuleFamily):
    """``max_period_change``: each period within +-x of the one before (periods in time order)."""

    keys = fields = ("max_period_change",)
    families = ("period_change",)
    nouns = {"change_min": "period-change floor", "change_max": "period-change cap"}
    relax_spend = True

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the largest change allowed (0.3 = +-30%)."""
        return {"max_period_change": optional(data, "max_period_change", "spec")}

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse period labels without a time order."""
        if spec.max_period_change is not None:
            require_time_order(spec, curves, "max_period_change")

    def rows(self, lp: LPContext) -> None:
        """Add a cap and a floor per period after the first, relative to the one before."""
        ch = lp.spec.max_period_change
        if ch is None:
            return
        periods = sorted(lp.names("periods"))
        if len(periods) < 2:
            return
        for p0, p1 in zip(periods, periods[1:], strict=False):
            c0 = lp.group_col("periods", p0)
            cols = [lp.group_col("periods", p1), c0]
            desc = f"period {p1} at most {pct(1 + ch)} of {p0}'s spend"
            lp.rule(
                cols, [1.0, -(1 + ch)], "max", 0.0, "period_change", (p1,), desc, word="change_max"
            )
            lo = max(0.0, 1 - ch)
            desc = f"period {p1} at least {pct(lo)} of {p0}'s spend"
            lp.rule(cols, [1.0, -lo], "min", 0.0, "period_change", (p1,), desc, word="change_min")
