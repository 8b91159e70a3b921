"""Rules on single lines: ``lines:`` entries with ``min``, ``max`` or ``lock``; and ``exclude``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..curves import LineNamed
from ..errors import SpecError
from ..lp import LPContext
from ..names import line_words
from ..values import line_key, mapping, optional, refuse_unknown
from .base import RuleFamily, fmt, unknown_name

if TYPE_CHECKING:
    from ..curves import CurveLine, Curves
    from ..spec import PlanSpec
    from .replan import OpenPart

_LINE_KEYS = {"network", "segment", "period", "min", "max", "lock"}


@dataclass(frozen=True, slots=True)
class LineRule(LineNamed):
    """Limits on one line's spend; ``lock`` fixes it."""

    network: str
    segment: str
    period: str
    min: float | None = None
    max: float | None = None
    lock: float | None = None

    def to_dict(self) -> dict:
        """Return the rule as in the spec: the line's names and the limits that are set."""
        d: dict = {"network": self.network, "segment": self.segment, "period": self.period}
        for k in ("min", "max", "lock"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Networks, segments and lines left out of the plan (``exclude`` in the spec)."""

    networks: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    lines: tuple[tuple[str, str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.networks or self.segments or self.lines)

    def excludes(self, key: tuple[str, str, str]) -> bool:
        """Return True if the line ``key`` (network, segment, period) is left out."""
        return key[0] in self.networks or key[1] in self.segments or key in self.lines

    def to_dict(self) -> dict:
        """Return the exclusions as in the spec; empty kinds are left out."""
        d: dict = {}
        if self.networks:
            d["networks"] = list(self.networks)
        if self.segments:
            d["segments"] = list(self.segments)
        if self.lines:
            d["lines"] = [{"network": n, "segment": s, "period": p} for n, s, p in self.lines]
        return d


def _line_rule(r, where: str) -> LineRule:
    r = mapping(r, where)
    refuse_unknown(r, _LINE_KEYS, where)
    net, seg, per = line_key(r, where)
    rule = LineRule(
        network=net,
        segment=seg,
        period=per,
        min=optional(r, "min", where),
        max=optional(r, "max", where),
        lock=optional(r, "lock", where),
    )
    if rule.lock is not None and (rule.min is not None or rule.max is not None):
        raise SpecError(f"{where}: 'lock' fixes the spend; drop 'min'/'max' or 'lock'")
    if rule.min is not None and rule.max is not None and rule.min > rule.max:
        raise SpecError(f"{where}: min {rule.min:g} is above max {rule.max:g}")
    return rule


class LineLimits(RuleFamily):
    """``lines:``: a line spends at least ``min``, at most ``max``, or exactly ``lock``.

    Rows ``lock__<line>``, ``line_min__<line>``, ``line_max__<line>`` with ``<line>`` the
    line's ``network/segment/period``. A lock is a fact (spend already made, in a re-plan),
    never relaxed when rules conflict.
    """

    keys = fields = ("lines",)
    families = ("lock", "line_min", "line_max")
    nouns = {"lock": "lock", "line_min": "line minimum", "line_max": "line maximum"}

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read ``lines:`` into LineRules."""
        raw = data.get("lines") or []
        if not isinstance(raw, list):
            raise SpecError("spec.lines: expected a list of {network, segment, period, ...}")
        return {"lines": tuple(_line_rule(r, f"spec.lines[{i}]") for i, r in enumerate(raw))}

    def validate(self, spec: PlanSpec) -> None:
        """Refuse a line given twice."""
        seen = set()
        for ln in spec.lines:
            if ln.key in seen:
                raise SpecError(f"spec.lines: line {ln.label} appears twice; merge its rules")
            seen.add(ln.key)

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse a rule on a line no curve has, or on a line 'exclude' removes."""
        if not spec.lines:
            return
        keys = curves.index()
        for lr in spec.lines:
            if lr.key not in keys:
                for kind, name in zip(("networks", "segments", "periods"), lr.key, strict=True):
                    if name not in set(getattr(curves, kind)):
                        raise unknown_name(spec, curves, kind, name, f"lines {lr.label}")
                raise SpecError(
                    f"{spec.source}: lines {lr.label}: no curve has this line "
                    "(the network, segment and period exist but not together)"
                )
            if spec.exclude.excludes(lr.key):
                raise SpecError(
                    f"{spec.source}: lines {lr.label}: sets limits on a line that 'exclude' "
                    "removes; drop one of the two"
                )

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return ``{"lines": [...]}`` when there are line rules."""
        return {"lines": [ln.to_dict() for ln in spec.lines]} if spec.lines else {}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Drop rules on elapsed periods; spend made in the current period becomes a floor."""
        lines, seen = [], set()
        for r in spec.lines:
            if part.status.get(r.period) == "elapsed":
                part.notes.append(f"spec line rule {r.label} replaced by the actuals")
                continue
            act = part.current.get(r.key, 0.0)
            if act > 0:
                seen.add(r.key)
                r = self._at_least(r, act, part.notes)
            lines.append(r)
        for key, act in part.current.items():
            if key not in seen:
                lines.append(LineRule(*key, min=act))
        return {"lines": tuple(lines)}

    @staticmethod
    def _at_least(r: LineRule, act: float, notes: list[str]) -> LineRule:
        """Return the rule raised so that the line keeps the ``act`` it has spent already."""
        if r.lock is not None:
            if r.lock < act:
                notes.append(f"spec line rule {r.label}: lock raised to the actual {act:,.2f}")
                return LineRule(*r.key, lock=act)
            return r
        lo = max(float(r.min or 0.0), act)
        hi = r.max
        if hi is not None and hi < lo:
            notes.append(f"spec line rule {r.label}: max raised to the actual {act:,.2f}")
            hi = lo
        return LineRule(*r.key, min=lo, max=hi)

    def rows(self, lp: LPContext) -> None:
        """Add the rows of every line rule, in the spec's order."""
        rows = []
        for rule in lp.spec.lines:
            li, who = lp.index[rule.key], line_words(rule.key)
            if rule.lock is not None:
                desc = f"{who} locked at {fmt(rule.lock)} {lp.unit}"
                rows.append((li, "eq", rule.lock, "lock", desc))
            if rule.min is not None:
                desc = f"{who} at least {fmt(rule.min)} {lp.unit}"
                rows.append((li, "min", rule.min, "line_min", desc))
            if rule.max is not None:
                desc = f"{who} at most {fmt(rule.max)} {lp.unit}"
                rows.append((li, "max", rule.max, "line_max", desc))
        lp.line_rules(rows)


class Exclusion(RuleFamily):
    """``exclude:``: networks, segments and lines left out of the plan (no rows: no columns)."""

    keys = fields = ("exclude",)

    def parse(self, data: Mapping, source: str) -> dict[str, Any]:  # noqa: ARG002 (interface)
        """Read ``exclude:`` into Exclusions."""
        ex = mapping(data.get("exclude"), "spec.exclude")
        refuse_unknown(ex, {"networks", "segments", "lines"}, "spec.exclude")
        lines = []
        for i, r in enumerate(ex.get("lines") or []):
            where = f"spec.exclude.lines[{i}]"
            lines.append(line_key(mapping(r, where), where))
        for k in ("networks", "segments"):
            if not isinstance(ex.get(k) or [], list):
                raise SpecError(f"spec.exclude.{k}: expected a list of names")
        return {
            "exclude": Exclusions(
                networks=tuple(str(x) for x in ex.get("networks") or ()),
                segments=tuple(str(x) for x in ex.get("segments") or ()),
                lines=tuple(lines),
            )
        }

    def check(self, spec: PlanSpec, curves: Curves) -> None:
        """Refuse an exclusion of what no curve has."""
        for kind in ("networks", "segments"):
            for name in getattr(spec.exclude, kind):
                if name not in set(getattr(curves, kind)):
                    raise unknown_name(spec, curves, kind, name, f"exclude.{kind}")
        if not spec.exclude.lines:
            return
        keys = {ln.key for ln in curves.lines}
        for key in spec.exclude.lines:
            if key not in keys:
                raise SpecError(f"{spec.source}: exclude.lines: no curve has line {'/'.join(key)}")

    def to_dict(self, spec: PlanSpec) -> dict[str, Any]:
        """Return ``{"exclude": ...}`` when something is excluded."""
        return {"exclude": spec.exclude.to_dict()} if spec.exclude else {}

    def rewrite(self, spec: PlanSpec, part: OpenPart) -> dict[str, Any]:
        """Keep the exclusions that concern the open periods."""
        ex = spec.exclude
        nets, segs = set(part.curves.networks), set(part.curves.segments)
        periods = set(part.curves.periods)
        return {
            "exclude": Exclusions(
                networks=tuple(x for x in ex.networks if x in nets),
                segments=tuple(x for x in ex.segments if x in segs),
                lines=tuple(k for k in ex.lines if k[2] in periods),
            )
        }

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
