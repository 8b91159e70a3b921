"""The plan spec: the budget and the business rules, as a frozen, validated value.

YAML or JSON, see ``docs/optimizer.md`` for every rule. ``PlanSpec.from_dict`` checks the shape
and the numbers; ``PlanSpec.check(curves)`` checks that every network, segment, period and line a
rule names exists in the curves (a rule naming nothing is an error, not a silent no-op).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .curves import Curves, read_input
from .errors import CurveError, SpecError
from .periods import period_kind

#: the largest budget a plan may have (one trillion in the account currency); the API agrees
MAX_BUDGET = 1e12


GROUP_KINDS = ("networks", "segments", "periods")
_GROUP_KEYS = {"min", "max", "min_share", "max_share"}
_LINE_KEYS = {"network", "segment", "period", "min", "max", "lock"}
_TOP_KEYS = {
    "budget",
    "objective",
    "networks",
    "segments",
    "periods",
    "lines",
    "exclude",
    "max_cost_per_result",
    "pacing",
    "max_period_change",
    "results_floors",
    "min_line_spend",
    "max_active_lines",
}


def _num(value, where: str, *, lo: float | None = 0.0, hi: float | None = None) -> float:
    if isinstance(value, bool):
        raise SpecError(f"{where}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{where}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise SpecError(f"{where}: expected a finite number, got {value!r}")
    if lo is not None and v < lo:
        raise SpecError(f"{where}: must be >= {lo:g}, got {v:g}")
    if hi is not None and v > hi:
        raise SpecError(f"{where}: must be <= {hi:g}, got {v:g}")
    return v


def check_budget(value, where: str = "spec.budget") -> float:
    """Return ``value`` as a budget: a number above 0 and at most :data:`MAX_BUDGET`.

    Raises SpecError (starting with ``where``) otherwise.
    """
    b = _num(value, where, lo=None)
    if not 0 < b <= MAX_BUDGET:
        raise SpecError(
            f"{where}: budget must be above 0 and at most 1e12 (1,000,000,000,000), got {b:g}"
        )
    return b


def _opt(d: Mapping, key: str, where: str, **kw) -> float | None:
    v = d.get(key)
    return None if v is None else _num(v, f"{where}.{key}", **kw)


def _mapping(value, where: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _unknown(d: Mapping, allowed: set[str], where: str) -> None:
    extra = sorted(str(k) for k in set(d) - allowed)
    if extra:
        raise SpecError(f"{where}: unknown keys {extra}; allowed: {sorted(allowed)}")


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
        if (
            self.min_share is not None
            and self.max_share is not None
            and self.min_share > self.max_share
        ):
            raise SpecError(
                f"{where}: min_share {self.min_share:g} is above max_share {self.max_share:g}"
            )

    def to_dict(self) -> dict:
        """Return the limits that are set, as in the spec."""
        return {
            k: getattr(self, k)
            for k in ("min", "max", "min_share", "max_share")
            if getattr(self, k) is not None
        }


@dataclass(frozen=True, slots=True)
class LineRule:
    """Limits on one line's spend; ``lock`` fixes it."""

    network: str
    segment: str
    period: str
    min: float | None = None
    max: float | None = None
    lock: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Return (network, segment, period), the key of the curve line the rule is on."""
        return (self.network, self.segment, self.period)

    @property
    def label(self) -> str:
        """Return ``network/segment/period``, how messages name the line."""
        return f"{self.network}/{self.segment}/{self.period}"

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


@dataclass(frozen=True, slots=True)
class ResultsFloor:
    """At least ``min`` results of another result type, from its own curves on the same lines."""

    result_type: str
    min: float
    curves: Curves

    def to_dict(self) -> dict:
        """Return the floor as in the spec, its curves inline."""
        return {"result_type": self.result_type, "min": self.min, "curves": self.curves.to_dict()}


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """The budget and every rule of a plan. Build with :meth:`from_dict` or :func:`load_spec`."""

    budget: float
    objective: str = "results"
    networks: Mapping[str, GroupRule] = field(default_factory=dict)
    segments: Mapping[str, GroupRule] = field(default_factory=dict)
    periods: Mapping[str, GroupRule] = field(default_factory=dict)
    lines: tuple[LineRule, ...] = ()
    exclude: Exclusions = field(default_factory=Exclusions)
    max_cost_per_result: float | None = None
    pacing: Pacing | None = None
    max_period_change: float | None = None
    results_floors: tuple[ResultsFloor, ...] = ()
    min_line_spend: float | None = None
    max_active_lines: int | None = None
    #: where the spec came from (the file name for :func:`load_spec`): errors start with it
    source: str = field(default="spec", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "budget", check_budget(self.budget))
        if self.objective not in ("results", "value"):
            raise SpecError(f"spec.objective: must be 'results' or 'value', got {self.objective!r}")
        for kind in GROUP_KINDS:
            rules = dict(getattr(self, kind))
            for name, rule in rules.items():
                rule.check(f"spec.{kind}.{name}")
            object.__setattr__(self, kind, rules)
            floor = sum(r.min_share or 0.0 for r in rules.values())
            if floor > 1 + 1e-12:
                raise SpecError(
                    f"spec.{kind}: the min_share rules add up to {floor:.0%} of the total spend; "
                    "they can hold only if nothing is spent. Lower them to 100% or less in all"
                )
        seen = set()
        for ln in self.lines:
            if ln.key in seen:
                raise SpecError(f"spec.lines: line {ln.label} appears twice; merge its rules")
            seen.add(ln.key)
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "results_floors", tuple(self.results_floors))

    # ------------------------------------------------------------------ conversion
    @classmethod
    def from_dict(cls, data: Mapping, source: str = "spec") -> PlanSpec:
        """Validate ``data`` (the YAML/JSON structure) and build the spec; errors name the rule."""
        if not isinstance(data, Mapping):
            raise SpecError(
                f"{source}: expected a mapping with 'budget', got {type(data).__name__}"
            )
        try:
            return cls._from_dict(data, source)
        except SpecError as e:
            msg = str(e)
            if msg.startswith("spec"):
                msg = f"{source}: {msg}" if source != "spec" else msg
            raise SpecError(msg) from None

    @classmethod
    def _from_dict(cls, data: Mapping, source: str) -> PlanSpec:  # noqa: C901 (split in issue 10)
        _unknown(data, _TOP_KEYS, "spec")
        if "budget" not in data:
            raise SpecError("spec: 'budget' is missing; give the plan's total budget")
        budget = check_budget(data["budget"])
        groups = {}
        for kind in GROUP_KINDS:
            raw = _mapping(data.get(kind), f"spec.{kind}")
            rules = {}
            for name, r in raw.items():
                where = f"spec.{kind}.{name}"
                r = _mapping(r, where)
                _unknown(r, _GROUP_KEYS, where)
                rules[str(name)] = GroupRule(
                    min=_opt(r, "min", where),
                    max=_opt(r, "max", where),
                    min_share=_opt(r, "min_share", where, hi=1.0),
                    max_share=_opt(r, "max_share", where, hi=1.0),
                )
            groups[kind] = rules
        lines = []
        raw_lines = data.get("lines") or []
        if not isinstance(raw_lines, list):
            raise SpecError("spec.lines: expected a list of {network, segment, period, ...}")
        for i, r in enumerate(raw_lines):
            where = f"spec.lines[{i}]"
            r = _mapping(r, where)
            _unknown(r, _LINE_KEYS, where)
            missing = [k for k in ("network", "segment", "period") if k not in r]
            if missing:
                raise SpecError(f"{where}: lacks {', '.join(missing)}")
            rule = LineRule(
                network=str(r["network"]),
                segment=str(r["segment"]),
                period=str(r["period"]),
                min=_opt(r, "min", where),
                max=_opt(r, "max", where),
                lock=_opt(r, "lock", where),
            )
            if rule.lock is not None and (rule.min is not None or rule.max is not None):
                raise SpecError(f"{where}: 'lock' fixes the spend; drop 'min'/'max' or 'lock'")
            if rule.min is not None and rule.max is not None and rule.min > rule.max:
                raise SpecError(f"{where}: min {rule.min:g} is above max {rule.max:g}")
            lines.append(rule)
        ex = _mapping(data.get("exclude"), "spec.exclude")
        _unknown(ex, {"networks", "segments", "lines"}, "spec.exclude")
        ex_lines = []
        for i, r in enumerate(ex.get("lines") or []):
            r = _mapping(r, f"spec.exclude.lines[{i}]")
            missing = [k for k in ("network", "segment", "period") if k not in r]
            if missing:
                raise SpecError(f"spec.exclude.lines[{i}]: lacks {', '.join(missing)}")
            ex_lines.append((str(r["network"]), str(r["segment"]), str(r["period"])))
        for k in ("networks", "segments"):
            if not isinstance(ex.get(k) or [], list):
                raise SpecError(f"spec.exclude.{k}: expected a list of names")
        exclude = Exclusions(
            networks=tuple(str(x) for x in ex.get("networks") or ()),
            segments=tuple(str(x) for x in ex.get("segments") or ()),
            lines=tuple(ex_lines),
        )
        pacing = None
        if data.get("pacing") is not None:
            p = data["pacing"]
            if not isinstance(p, Mapping):
                p = {"tolerance": p}
            _unknown(p, {"tolerance", "weights"}, "spec.pacing")
            if "tolerance" not in p:
                raise SpecError("spec.pacing: give 'tolerance' (0.2 = each period within +-20%)")
            weights = None
            if p.get("weights") is not None:
                w = _mapping(p["weights"], "spec.pacing.weights")
                weights = {str(k): _num(v, f"spec.pacing.weights.{k}") for k, v in w.items()}
                if sum(weights.values()) <= 0:
                    raise SpecError("spec.pacing.weights: at least one weight must be above 0")
            pacing = Pacing(
                tolerance=_num(p["tolerance"], "spec.pacing.tolerance"), weights=weights
            )
        floors = []
        raw_floors = data.get("results_floors") or []
        if not isinstance(raw_floors, list):
            raise SpecError("spec.results_floors: expected a list of {result_type, min, curves}")
        for i, r in enumerate(raw_floors):
            where = f"spec.results_floors[{i}]"
            r = _mapping(r, where)
            _unknown(r, {"result_type", "min", "curves"}, where)
            missing = [k for k in ("result_type", "min", "curves") if k not in r]
            if missing:
                raise SpecError(f"{where}: lacks {', '.join(missing)}")
            c = r["curves"]
            try:
                if isinstance(c, Curves):
                    fc = c
                elif isinstance(c, Mapping):
                    fc = Curves.from_dict(c, source=f"{where}.curves")
                else:
                    p = Path(str(c))
                    if not p.is_absolute() and source not in ("spec", "") and Path(source).exists():
                        p = Path(source).parent / p
                    from .curves import load_curves

                    fc = load_curves(p)
            except CurveError as e:
                raise SpecError(f"{where}.curves: {e}") from None
            floors.append(
                ResultsFloor(
                    result_type=str(r["result_type"]),
                    min=_num(r["min"], f"{where}.min"),
                    curves=fc,
                )
            )
        mal = data.get("max_active_lines")
        if mal is not None:
            v = _num(mal, "spec.max_active_lines")
            if v != int(v):
                raise SpecError(f"spec.max_active_lines: must be a whole number, got {mal!r}")
            mal = int(v)
        return cls(
            budget=budget,
            objective=str(data.get("objective", "results")),
            networks=groups["networks"],
            segments=groups["segments"],
            periods=groups["periods"],
            lines=tuple(lines),
            exclude=exclude,
            max_cost_per_result=_opt(data, "max_cost_per_result", "spec"),
            pacing=pacing,
            max_period_change=_opt(data, "max_period_change", "spec"),
            results_floors=tuple(floors),
            min_line_spend=_opt(data, "min_line_spend", "spec"),
            max_active_lines=mal,
            source=str(source),
        )

    def to_dict(self) -> dict:
        """Return the spec as a mapping ``from_dict`` accepts; rules not set are left out."""
        d: dict = {"budget": self.budget}
        if self.objective != "results":
            d["objective"] = self.objective
        for kind in GROUP_KINDS:
            rules = getattr(self, kind)
            if rules:
                d[kind] = {k: r.to_dict() for k, r in rules.items()}
        if self.lines:
            d["lines"] = [ln.to_dict() for ln in self.lines]
        if self.exclude:
            d["exclude"] = self.exclude.to_dict()
        for k in ("max_cost_per_result", "max_period_change", "min_line_spend", "max_active_lines"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.pacing is not None:
            d["pacing"] = self.pacing.to_dict()
        if self.results_floors:
            d["results_floors"] = [f.to_dict() for f in self.results_floors]
        return d

    def with_budget(self, budget: float) -> PlanSpec:
        """Return a copy of the spec with another budget (checked like any budget)."""
        return replace(self, budget=budget)

    @property
    def is_mip(self) -> bool:
        """Return True if a rule needs on/off binaries (min_line_spend or max_active_lines)."""
        return self.min_line_spend is not None or self.max_active_lines is not None

    # ------------------------------------------------------------------ checks against curves
    def check(self, curves: Curves) -> None:  # noqa: C901 (split in issue 10)
        """Raise SpecError if a rule names a network, segment, period or line no curve has."""
        have = {
            "networks": set(curves.networks),
            "segments": set(curves.segments),
            "periods": set(curves.periods),
        }
        keys = {(ln.network, ln.segment, ln.period) for ln in curves.lines}

        src = self.source

        def unknown(kind: str, name: str, rule: str) -> SpecError:
            known = sorted(have[kind])
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            return SpecError(
                f"{src}: {rule}: no curve has {kind[:-1]} '{name}' "
                f"(known {kind}: {shown}); fix the name or drop the rule"
            )

        for kind in GROUP_KINDS:
            for name in getattr(self, kind):
                if name not in have[kind]:
                    raise unknown(kind, name, f"{kind}.{name}")
        for kind, names in (
            ("networks", self.exclude.networks),
            ("segments", self.exclude.segments),
        ):
            for name in names:
                if name not in have[kind]:
                    raise unknown(kind, name, f"exclude.{kind}")
        for key in self.exclude.lines:
            if key not in keys:
                raise SpecError(f"{src}: exclude.lines: no curve has line {'/'.join(key)}")
        for lr in self.lines:
            if lr.key not in keys:
                for kind, name in zip(GROUP_KINDS, lr.key, strict=True):
                    if name not in have[kind]:
                        raise unknown(kind, name, f"lines {lr.label}")
                raise SpecError(
                    f"{src}: lines {lr.label}: no curve has this line "
                    "(the network, segment and period exist but not together)"
                )
            if self.exclude.excludes(lr.key):
                raise SpecError(
                    f"{src}: lines {lr.label}: sets limits on a line that 'exclude' removes; "
                    "drop one of the two"
                )
        for kind in ("networks", "segments"):
            for name, rule in getattr(self, kind).items():
                if name in getattr(self.exclude, kind) and (rule.min or rule.min_share):
                    raise SpecError(
                        f"{src}: {kind}.{name}: asks for spend on a {kind[:-1]} that 'exclude' "
                        "removes; drop one of the two"
                    )
        ordered = [
            (rule, on)
            for rule, on in (
                ("pacing", self.pacing is not None),
                ("max_period_change", self.max_period_change is not None),
            )
            if on
        ]
        if ordered:
            odd = [p for p in sorted(have["periods"]) if period_kind(p) is None]
            if odd:
                line = next(ln for ln in curves.lines if ln.period == odd[0])
                raise SpecError(
                    f"{src}: {ordered[0][0]}: period '{odd[0]}' (curve line {line.label}) is "
                    "neither an ISO week (2027-W03) nor a month (2027-01), so the periods have "
                    f"no time order for {ordered[0][0]}; name the periods as weeks or months "
                    "in the curves, or drop the rule"
                )
        if self.pacing is not None and self.pacing.weights is not None:
            for p in self.pacing.weights:
                if p not in have["periods"]:
                    raise unknown("periods", p, "pacing.weights")
            missing = sorted(have["periods"] - set(self.pacing.weights))
            if missing:
                raise SpecError(
                    f"{src}: pacing.weights: no weight for periods {missing}; give every "
                    "period a weight (0 for none)"
                )
        if self.objective == "value":
            for ln in curves.lines:
                if ln.value_per_result is None and not self.exclude.excludes(ln.key):
                    raise SpecError(
                        f"{src}: objective is 'value' but curve line {ln.label} has no "
                        "value_per_result; give every line one or use objective: results"
                    )
        for i, fl in enumerate(self.results_floors):
            if fl.result_type == curves.result_type:
                raise SpecError(
                    f"{src}: results_floors[{i}] is on {fl.result_type}, the type the plan "
                    "maximises; a floor must be on another result type (use --target-results "
                    "for this one)"
                )
            for ln in fl.curves.lines:
                if ln.key not in keys:
                    raise SpecError(
                        f"{src}: results_floors[{i}] ({fl.result_type}) has a curve for line "
                        f"{ln.label}, which the plan's curves lack; floor curves must be on the "
                        "plan's lines"
                    )


def load_spec(path: str | Path) -> PlanSpec:
    """Read a plan spec from YAML or JSON; errors name the file."""
    p = Path(path)
    text = read_input(p, "the spec YAML or JSON file", SpecError)
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(
                f"{p}: line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})"
            ) from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            raise SpecError(f"{p}: {where}not valid YAML ({getattr(e, 'problem', e)})") from None
    return PlanSpec.from_dict(data, source=str(p))
