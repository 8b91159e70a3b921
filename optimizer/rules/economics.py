"""What results are worth and cost: ``max_cost_per_result`` (average) and ``value_per_result``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..lp import LPContext
from ..values import line_numbers, mapping, number, optional
from .base import RuleFamily, fmt, unknown_name

if TYPE_CHECKING:
    from ..curves import CurveLine, Curves
    from ..spec import PlanSpec
    from .replan import OpenPart


class CostPerResultCeiling(RuleFamily):
    """``max_cost_per_result``: spend <= ceiling x expected results, over the whole plan.

    A ceiling of 0 is refused: no result is free, so it could only give an empty plan.
    """

    keys = fields = ("max_cost_per_result",)
    families = ("max_cost_per_result",)
    nouns = {"max_cost_per_result": "cost-per-result ceiling"}
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
        desc = f"an average cost per result of at most {fmt(cpr)} {lp.unit}"
        lp.rule(idx, val, "max", 0.0, "max_cost_per_result", (), desc)


VPR = "value_per_result"


@dataclass(frozen=True, slots=True)
class ResultValues:
    """What one result is worth (plan currency): per result type, network or line.

    The most specific wins: a line's own value, then its network's, then its result
    type's (``"*"``: any type, a plain number in the spec); a curve line's own
    ``value_per_result`` is used where the spec gives none.
    """

    by_type: Mapping[str, float] = field(default_factory=dict)
    networks: Mapping[str, float] = field(default_factory=dict)
    lines: Mapping[tuple[str, str, str], float] = field(default_factory=dict)

    def of(self, line: CurveLine, result_type: str) -> float | None:
        """Return the value of one result of ``line`` (None when nothing gives one)."""
        for v in (
            self.lines.get(line.key),
            self.networks.get(line.network),
            self.by_type.get(result_type),
            self.by_type.get("*"),
        ):
            if v is not None:
                return v
        return line.value_per_result

    def to_dict(self) -> dict | float:
        """Return the values as in the spec (a plain number when one value holds for all)."""
        if set(self.by_type) == {"*"} and not (self.networks or self.lines):
            return self.by_type["*"]
        d: dict = {k: v for k, v in self.by_type.items() if k != "*"}
        if self.networks:
            d["networks"] = dict(self.networks)
        if self.lines:
            d["lines"] = [
                {"network": n, "segment": s, "period": p, "value": v}
                for (n, s, p), v in self.lines.items()
            ]
        return d


def parse_values(raw, where: str = f"spec.{VPR}") -> ResultValues | None:
    """Read ``value_per_result``: a number, or {<result type>: v, networks: {...}, lines: [...]}."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return ResultValues(by_type={"*": number(raw, where)})
    nets = mapping(raw.get("networks"), f"{where}.networks")
    by_type = {
        str(k): number(v, f"{where}.{k}") for k, v in raw.items() if k not in ("networks", "lines")
    }
    return ResultValues(
        by_type=by_type,
        networks={str(k): number(v, f"{where}.networks.{k}") for k, v in nets.items()},
        lines=line_numbers(
            raw.get("lines") or [], f"{where}.lines", "value", "what one result is worth", number
        ),
    )


def line_values(spec: PlanSpec, lines: Sequence[CurveLine], result_type: str) -> list:
    """Return what one result of each line is worth (None where nothing gives a value)."""
    vals: ResultValues = spec.value_per_result or ResultValues()
    return [vals.of(ln, result_type) for ln in lines]


class ValuePerResult(RuleFamily):
    """``value_per_result``: what a result is worth, for objectives ``value`` and ``profit``.

    No rows: the values enter the objective (``optimizer/model.py``). Under ``profit`` the
    plan maximises value minus spend, so the budget is a limit it need not reach.
    """

    keys = fields = (VPR,)

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the values (a number, or a mapping by result type, network and line)."""
        return {VPR: parse_values(data.get(VPR))}

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse a value for a network or line no curve has."""
        vals = spec.value_per_result
        if vals is None:
            return
        have = set(curves.networks)
        for name in vals.networks:
            if name not in have:
                raise unknown_name(spec, curves, "networks", name, f"{VPR}.networks")
        keys = {ln.key for ln in curves.lines}
        for key in vals.lines:
            if key not in keys:
                raise SpecError(f"{spec.source}: {VPR}.lines: no curve has line {'/'.join(key)}")

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return the values when set."""
        vals = spec.value_per_result
        return {} if vals is None else {VPR: vals.to_dict()}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Keep the values; line values only on the periods still open."""
        v = spec.value_per_result
        if v is None or not v.lines:
            return {VPR: v}
        periods = set(part.curves.periods)
        lines = {k: x for k, x in v.lines.items() if k[2] in periods}
        return {VPR: ResultValues(v.by_type, v.networks, lines)}
