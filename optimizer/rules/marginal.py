"""``max_marginal_cost_per_result``: no currency goes where the next result costs more than this.

A ceiling on the *marginal* cost (the cost of the next result), not on the plan's average
(``max_cost_per_result``): cheap lines cannot hide dear ones. Plan-wide, per network, per
segment or per line; the most specific ceilings all hold (a line under several gets the
lowest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..lp import LPContext
from ..names import group_words, line_words
from ..values import line_numbers, mapping, number, refuse_unknown
from .base import RuleFamily, fmt, unknown_name

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart

KEY = "max_marginal_cost_per_result"
#: a tier whose next result costs the ceiling to this relative precision is allowed
TOL = 1e-12


@dataclass(frozen=True, slots=True)
class MarginalCeilings:
    """Ceilings on the cost of the next result: plan-wide (``all``), per network, segment, line."""

    all: float | None = None
    networks: Mapping[str, float] = field(default_factory=dict)
    segments: Mapping[str, float] = field(default_factory=dict)
    lines: Mapping[tuple[str, str, str], float] = field(default_factory=dict)

    def to_dict(self) -> dict | float:
        """Return the ceilings as in the spec (a plain number when only ``all`` is set)."""
        if self.all is not None and not (self.networks or self.segments or self.lines):
            return self.all
        d: dict = {} if self.all is None else {"all": self.all}
        for kind in ("networks", "segments"):
            if getattr(self, kind):
                d[kind] = dict(getattr(self, kind))
        if self.lines:
            d["lines"] = [
                {"network": n, "segment": s, "period": p, "max": v}
                for (n, s, p), v in self.lines.items()
            ]
        return d


def _ceiling(v, where: str) -> float:
    c = number(v, where)
    if c <= 0:
        raise SpecError(
            f"{where}: must be above 0 (a ceiling of 0 allows no spend at all), got {c:g}; "
            "give the most the next result may cost"
        )
    return c


def parse_ceilings(raw, where: str = f"spec.{KEY}") -> MarginalCeilings | None:
    """Read the ceilings: a number (plan-wide) or {all, networks, segments, lines}."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return MarginalCeilings(all=_ceiling(raw, where))
    refuse_unknown(raw, {"all", "networks", "segments", "lines"}, where)
    groups = {
        kind: {
            str(k): _ceiling(v, f"{where}.{kind}.{k}")
            for k, v in mapping(raw.get(kind), f"{where}.{kind}").items()
        }
        for kind in ("networks", "segments")
    }
    return MarginalCeilings(
        all=None if raw.get("all") is None else _ceiling(raw["all"], f"{where}.all"),
        lines=line_numbers(
            raw.get("lines") or [],
            f"{where}.lines",
            "max",
            "the most the line's next result may cost",
            _ceiling,
        ),
        **groups,
    )


class MarginalCostCeiling(RuleFamily):
    """``max_marginal_cost_per_result``: tiers whose next result costs more get no spend.

    Curves are concave, so a line's next result gets dearer with spend: a ceiling stops the
    line where its next result would cost more. One row per ceiling over the tiers it cuts,
    ``spend on those tiers <= 0``: ``max_marginal_cost`` (all lines),
    ``network_max_marginal_cost__<network>``, ``segment_max_marginal_cost__<segment>``,
    ``line_max_marginal_cost__<line>``. Such a row has no slack to show, so it binds when it
    has a price or removing it would change the plan (the ledger re-solves it).
    """

    keys = fields = (KEY,)
    families = (
        "max_marginal_cost",
        "network_max_marginal_cost",
        "segment_max_marginal_cost",
        "line_max_marginal_cost",
    )
    relax_spend = True
    cut = True
    nouns = {
        "max_marginal_cost": "marginal-cost ceiling",
        "network_max_marginal_cost": "network marginal-cost ceiling",
        "segment_max_marginal_cost": "segment marginal-cost ceiling",
        "line_max_marginal_cost": "line marginal-cost ceiling",
    }

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read the ceilings (a number, or a mapping of ceilings)."""
        return {KEY: parse_ceilings(data.get(KEY))}

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse a ceiling on a network, segment or line no curve has."""
        ceilings = getattr(spec, KEY)
        if ceilings is None:
            return
        for kind in ("networks", "segments"):
            have = set(getattr(curves, kind))
            for name in getattr(ceilings, kind):
                if name not in have:
                    raise unknown_name(spec, curves, kind, name, f"{KEY}.{kind}")
        keys = {ln.key for ln in curves.lines}
        for key in ceilings.lines:
            if key not in keys:
                raise SpecError(f"{spec.source}: {KEY}.lines: no curve has line {'/'.join(key)}")

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return the ceilings when set."""
        ceilings = getattr(spec, KEY)
        return {} if ceilings is None else {KEY: ceilings.to_dict()}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Keep the ceilings; line ceilings only on the periods still open."""
        c = getattr(spec, KEY)
        if c is None or not c.lines:
            return {KEY: c}
        periods = set(part.curves.periods)
        lines = {k: v for k, v in c.lines.items() if k[2] in periods}
        return {KEY: MarginalCeilings(c.all, c.networks, c.segments, lines)}

    def rows(self, lp: LPContext) -> None:
        """Add one row per ceiling over the tiers it cuts (none when it cuts nothing)."""
        c = getattr(lp.spec, KEY)
        if c is None:
            return
        cur = lp.unit
        every = np.ones(len(lp.tiers), dtype=bool)
        if c.all is not None:
            desc = f"the next result costs at most {fmt(c.all)} {cur} on every line"
            self._row(lp, every, c.all, "max_marginal_cost", (), desc)
        for kind, pos in (("networks", 0), ("segments", 1)):
            for name, v in getattr(c, kind).items():
                mask = self._in(lp, pos, name)
                shown = group_words(kind, name)
                desc = f"{shown}: the next result costs at most {fmt(v)} {cur}"
                self._row(lp, mask, v, f"{kind[:-1]}_max_marginal_cost", (name,), desc)
        for key, v in c.lines.items():
            if key not in lp.index:
                continue  # the line is excluded: nothing to hold
            mask = lp.tier_line == lp.index[key]
            desc = f"{line_words(key)}: the next result costs at most {fmt(v)} {cur}"
            self._row(lp, mask, v, "line_max_marginal_cost", key, desc)

    @staticmethod
    def _in(lp: LPContext, pos: int, name: str) -> np.ndarray:
        """Return which tier columns belong to lines of network (pos 0) or segment (1) ``name``."""
        of_line = np.fromiter((k[pos] == name for k in lp.keys), dtype=bool, count=len(lp.keys))
        return of_line[lp.tier_line]

    @staticmethod
    def _row(lp: LPContext, mask: np.ndarray, ceiling: float, family: str, target, desc: str):
        """Add ``spend on the tiers of mask whose next result costs more than ceiling <= 0``."""
        cut = mask & (lp.slope * ceiling < 1.0 - TOL)
        idx = np.flatnonzero(cut)
        if len(idx):
            lp.rule(idx, 1.0, "max", 0.0, family, tuple(target), desc)
