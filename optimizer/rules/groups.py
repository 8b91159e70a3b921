"""Limits on the spend of a network, segment or period: ``min``, ``max``, ``min_share``, ``max_share``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..lp import LPContext
from ..names import group_words
from ..values import mapping, optional, refuse_unknown
from .base import EPS, RuleFamily, fmt, pct, unknown_name

if TYPE_CHECKING:
    from ..curves import Curves
    from ..spec import PlanSpec
    from .replan import OpenPart

_KEYS = {"min", "max", "min_share", "max_share"}


@dataclass(frozen=True, slots=True)
class GroupRule:
    """Limits on the spend of one network, segment or period (currency, or share of the total)."""

    min: float | None = None
    max: float | None = None
    min_share: float | None = None
    max_share: float | None = None

    def check(self, where: str) -> None:
        """Raise SpecError (naming ``where``) if min is above max or min_share above max_share."""
        if self.min is not None and self.max is not None and self.min > self.max:
            raise SpecError(
                f"{where}: min {self.min:g} is above max {self.max:g}; lower min or raise max"
            )
        lo, hi = self.min_share, self.max_share
        if lo is not None and hi is not None and lo > hi:
            raise SpecError(f"{where}: min_share {lo:g} is above max_share {hi:g}")

    def to_dict(self) -> dict:
        """Return the limits that are set, as in the spec."""
        keys = ("min", "max", "min_share", "max_share")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


class GroupLimits(RuleFamily):
    """``networks:``, ``segments:`` or ``periods:`` rules: currency floors and caps, and shares.

    Rows: ``<word>_min__<name>`` / ``<word>_max__<name>`` on the group's spend column, and
    ``<word>_share_min__<name>`` / ``<word>_share_max__<name>`` as ``spend - share x total``.
    In a re-plan the spend already made counts against floors and caps; once anything is
    spent, shares become currency limits of the whole budget.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.word = w = kind[:-1]
        self.keys = self.fields = (kind,)
        self.families = (f"{w}_min", f"{w}_max", f"{w}_share_min", f"{w}_share_max")
        ends = (("min", "floor"), ("max", "cap"), ("share_min", "share floor"))
        self.nouns = {f"{w}_{end}": f"{w} {noun}" for end, noun in ends}
        self.nouns[f"{w}_share_max"] = f"{w} share cap"

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read ``networks:`` (or segments, periods) into a GroupRule per name."""
        rules = {}
        for name, r in mapping(data.get(self.kind), f"spec.{self.kind}").items():
            where = f"spec.{self.kind}.{name}"
            r = mapping(r, where)
            refuse_unknown(r, _KEYS, where)
            rules[str(name)] = GroupRule(
                min=optional(r, "min", where),
                max=optional(r, "max", where),
                min_share=optional(r, "min_share", where, hi=1.0),
                max_share=optional(r, "max_share", where, hi=1.0),
            )
        return {self.kind: rules}

    def validate(self, spec: PlanSpec) -> None:
        """Check each rule's own limits and that the min_shares leave room for each other."""
        rules = getattr(spec, self.kind)
        for name, rule in rules.items():
            rule.check(f"spec.{self.kind}.{name}")
        floor = sum(r.min_share or 0.0 for r in rules.values())
        if floor > 1 + 1e-12:
            raise SpecError(
                f"spec.{self.kind}: the min_share rules add up to {floor:.0%} of the total spend; "
                "they can hold only if nothing is spent. Lower them to 100% or less in all"
            )

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse a rule on a name no curve has, or asking for spend on what is excluded."""
        have = set(getattr(curves, self.kind))
        excluded = set(getattr(spec.exclude, self.kind, ()))
        for name, rule in getattr(spec, self.kind).items():
            if name not in have:
                raise unknown_name(spec, curves, self.kind, name, f"{self.kind}.{name}")
            if name in excluded and (rule.min or rule.min_share):
                raise SpecError(
                    f"{spec.source}: {self.kind}.{name}: asks for spend on a {self.word} that "
                    "'exclude' removes; drop one of the two"
                )

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return ``{kind: {name: limits}}`` when there are rules."""
        rules = getattr(spec, self.kind)
        return {self.kind: {k: r.to_dict() for k, r in rules.items()}} if rules else {}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Carry the rules over to the open periods, net of the spend already made."""
        present = set(getattr(part.curves, self.kind))
        done = part.done.get(self.kind, {})
        now = part.now.get(self.kind, {})
        out = {}
        for name, rule in getattr(spec, self.kind).items():
            if self.kind == "periods" and name not in present:
                continue  # an elapsed period's rule is history
            if not part.convert:
                if name in present:
                    out[name] = rule
                continue
            new = self._net(name, rule, done.get(name, 0.0), now.get(name, 0.0), part)
            if name not in present:
                if new.min:
                    part.notes.append(
                        f"spec.{self.kind}.{name}: {new.min:,.2f} short of its floor, but it has "
                        "no open line left; the floor is dropped"
                    )
                continue
            if new.to_dict():
                out[name] = new
        return {self.kind: out}

    def _net(self, name: str, rule: GroupRule, d: float, low: float, part: OpenPart) -> GroupRule:
        """Return the rule as currency limits on the open part, given ``d`` already spent."""
        budget = part.budget
        mins = [] if rule.min is None else [rule.min - d]
        maxs = [] if rule.max is None else [rule.max - d]
        if rule.min_share is not None:
            mins.append(rule.min_share * budget - d)
        if rule.max_share is not None:
            maxs.append(rule.max_share * budget - d)
        lo = max(mins) if mins and max(mins) > EPS else None
        hi = None
        if maxs:
            cap = min(maxs)
            if cap < -0.005:
                part.notes.append(
                    f"spec.{self.kind}.{name}: {d:,.2f} already spent, {-cap:,.2f} above its "
                    "cap; nothing more is planned on it"
                )
            hi = max(cap, 0.0)
            if hi < low:  # what is spent in the current period stays
                part.notes.append(
                    f"spec.{self.kind}.{name}: its cap is below the {low:,.2f} already spent in "
                    "it; raised to that"
                )
                hi = low
        if lo is not None and hi is not None and lo > hi:
            lo = hi
        return GroupRule(min=lo, max=hi)

    def rows(self, lp: LPContext) -> None:
        """Add the rows of every rule of this kind, in the spec's order."""
        rules = getattr(lp.spec, self.kind)
        if not rules:
            return  # no name of this kind to look up
        planned = lp.names(self.kind)
        for name, rule in rules.items():
            if name not in planned:  # every line of it is excluded
                if rule.min or rule.min_share:
                    raise SpecError(
                        f"{lp.spec.source}: {self.kind}.{name}: asks for spend on a {self.word} "
                        "whose every line 'exclude' removes; drop the rule or the exclusions"
                    )
                continue  # only upper limits remain, trivially met
            self._rule_rows(lp, name, rule)

    def _rule_rows(self, lp: LPContext, name: str, rule: GroupRule) -> None:
        w, col, total = self.word, lp.group_col(self.kind, name), lp.total
        who, cur = group_words(self.kind, name), lp.unit
        if rule.min is not None:
            desc = f"{who} at least {fmt(rule.min)} {cur}"
            lp.rule([col], [1.0], "min", rule.min, f"{w}_min", (name,), desc)
        if rule.max is not None:
            desc = f"{who} at most {fmt(rule.max)} {cur}"
            lp.rule([col], [1.0], "max", rule.max, f"{w}_max", (name,), desc)
        if rule.min_share is not None:
            desc = f"{who} at least {pct(rule.min_share)} of spend"
            val = [1.0, -rule.min_share]
            lp.rule([col, total], val, "min", 0.0, f"{w}_share_min", (name,), desc)
        if rule.max_share is not None:
            desc = f"{who} at most {pct(rule.max_share)} of spend"
            val = [1.0, -rule.max_share]
            lp.rule([col, total], val, "max", 0.0, f"{w}_share_max", (name,), desc)
