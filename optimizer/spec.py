"""The plan spec: the budget and the business rules, as a frozen, validated value.

YAML or JSON, see ``docs/optimizer.md`` for every rule. ``PlanSpec.from_dict`` checks the shape
and the numbers; ``PlanSpec.check(curves)`` checks that every network, segment, period and line a
rule names exists in the curves (a rule naming nothing is an error, not a silent no-op).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .curves import Curves, read_input, read_json
from .errors import SpecError
from .names import same_network
from .rules import (
    FAMILIES,
    SPEC_KEYS,
    Exclusions,
    GroupRule,
    LineRule,
    MarginalCeilings,
    OpenPart,
    Pacing,
    ResultsFloor,
    ResultValues,
)
from .values import (
    MAX_BUDGET,
    check_budget,
    check_document_text,
    refuse_unknown,
    too_deep,
    too_deep_message,
)

if TYPE_CHECKING:
    from .rules.onoff import RunningPeriod

GROUP_KINDS = ("networks", "segments", "periods")


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """The budget and every rule of a plan. Build with :meth:`from_dict` or :func:`load_spec`."""

    budget: float
    objective: str = "results"
    #: objective cvar: the share of worst scenarios whose mean it raises (None: 0.1)
    alpha: float | None = None
    networks: Mapping[str, GroupRule] = field(default_factory=dict)
    segments: Mapping[str, GroupRule] = field(default_factory=dict)
    periods: Mapping[str, GroupRule] = field(default_factory=dict)
    lines: tuple[LineRule, ...] = ()
    exclude: Exclusions = field(default_factory=Exclusions)
    value_per_result: ResultValues | None = None
    max_cost_per_result: float | None = None
    max_marginal_cost_per_result: MarginalCeilings | None = None
    pacing: Pacing | None = None
    max_period_change: float | None = None
    results_floors: tuple[ResultsFloor, ...] = ()
    min_line_spend: float | None = None
    #: a network's least spend a day on a line switched on (the platforms' minimums)
    min_daily_spend: Mapping[str, float] = field(default_factory=dict)
    max_active_lines: int | None = None
    #: a re-plan's open part: the period running on its as_of (set by ``for_open_part``)
    running: RunningPeriod | None = None
    #: where the spec came from (the file name for :func:`load_spec`): errors start with it
    source: str = field(default="spec", compare=False)

    def __post_init__(self) -> None:
        for kind in GROUP_KINDS:
            object.__setattr__(self, kind, dict(getattr(self, kind)))
        object.__setattr__(self, "min_daily_spend", dict(self.min_daily_spend))
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "results_floors", tuple(self.results_floors))
        for family in FAMILIES:
            family.validate(self)

    # ------------------------------------------------------------------ conversion
    @classmethod
    def from_dict(cls, data: Mapping, source: str = "spec") -> PlanSpec:
        """Validate ``data`` (the YAML/JSON structure) and build the spec; errors name the rule.

        Each rule family reads its own keys (``optimizer/rules/``).
        """
        if not isinstance(data, Mapping):
            raise SpecError(
                f"{source}: expected a mapping with 'budget', got {type(data).__name__}"
            )
        try:
            if too_deep(data):
                raise SpecError(too_deep_message("spec"))
            check_document_text(data, "spec")
            refuse_unknown(data, SPEC_KEYS, "spec")
            values: dict = {}
            for family in FAMILIES:
                values.update(family.parse(data, source))
            return cls(**values, source=str(source))
        except SpecError as e:
            msg = str(e)
            if msg.startswith("spec") and source != "spec":
                msg = f"{source}: {msg}"
            raise SpecError(msg) from None

    def to_dict(self) -> dict:
        """Return the spec as a mapping ``from_dict`` accepts; rules not set are left out."""
        d: dict = {}
        for family in FAMILIES:
            d.update(family.to_dict(self))
        return d

    def with_budget(self, budget: float) -> PlanSpec:
        """Return a copy of the spec with another budget (checked like any budget)."""
        return replace(self, budget=budget)

    def for_open_part(self, part: OpenPart) -> PlanSpec:
        """Return the spec a re-plan optimises the current and open periods under.

        Each rule family carries its rules over (``RuleFamily.rewrite``); what they change
        is added to ``part.notes``.
        """
        values: dict = {}
        for family in FAMILIES:
            values.update(family.rewrite(self, part))
        return PlanSpec(**values, source=self.source)

    @property
    def is_mip(self) -> bool:
        """Return True if a rule needs on/off binaries.

        ``min_line_spend``, a ``min_daily_spend`` above 0, or ``max_active_lines``.
        """
        daily = any(v > 0 for v in self.min_daily_spend.values())
        return self.min_line_spend is not None or daily or self.max_active_lines is not None

    def for_curves(self, curves: Curves) -> PlanSpec:
        """Return the spec with its network names matched to the networks of ``curves``.

        A network name no curve has becomes the one curve network that ingest would name the
        same (:func:`~optimizer.names.same_network`): ``facebook``, ``Facebook Ads`` or ``FB``
        reach a curve network ``meta``, ``twitter`` reaches ``x``. Every place a spec names
        networks is matched (keys of a ``networks`` mapping, items of a ``networks`` list, the
        ``network`` of an entry), except ``results_floors``, which have their own curves.

        Parameters
        ----------
        curves : Curves
            The curves the spec is planned on.

        Returns
        -------
        PlanSpec
            ``self`` when every name is a curve network or matches none (or several), else
            the spec rebuilt with the matched names.

        Raises
        ------
        SpecError
            When two names of one ``networks`` mapping become the same curve network.
        """
        last = curves.memo("for_curves", dict)  # the last spec matched, and its match
        for spec, matched in last.get("pairs", ()):
            if spec is self:
                return matched
        data = self.to_dict()
        renames = _renames(data, curves)
        matched = self
        if renames:
            try:
                data = _map_networks(data, lambda n: renames.get(n, n), "")
            except SpecError as e:
                raise SpecError(f"{self.source}: {e}") from None
            matched = PlanSpec.from_dict(data, self.source)
        # one assignment (a thread reads pairs that belong together); the match matches itself
        last["pairs"] = ((self, matched), (matched, matched))
        return matched

    def check(self, curves: Curves) -> None:
        """Raise SpecError if a rule names a network, segment, period or line no curve has.

        The names are first matched to the curves' networks (:meth:`for_curves`).
        """
        spec = self.for_curves(curves)
        for family in FAMILIES:
            family.check(spec, curves)


#: spec keys whose values hold no network name: results floors have their own curves, and
#: segments and periods map names of their own (a segment may be called ``networks``)
_NO_NETWORKS = frozenset({"results_floors", "segments", "periods"})
#: spec keys whose values are a list of networks or a mapping keyed by network
_NETWORK_KEYS = frozenset({"networks", "min_daily_spend"})


def _renames(data: Mapping, curves: Curves) -> dict[str, str]:
    """Return ``{spec name: curve network}`` for the names of ``data`` to match to ``curves``."""
    names: set[str] = set()

    def seen(name: str) -> str:
        names.add(name)
        return name

    _map_networks(data, seen, "")
    if not names:
        return {}
    have = curves.networks
    renames = {}
    for name in names - set(have):
        match = same_network(name, have)
        if len(match) == 1:
            renames[name] = match[0]
    return renames


def _map_networks(value: Any, fn: Callable[[str], str], where: str) -> Any:
    """Return ``value`` (a spec mapping, or a part of it) with ``fn`` applied to its networks.

    Network names are the keys of a ``networks`` mapping, the items of a ``networks`` list and
    the ``network`` of a mapping. SpecError when two keys of one mapping become one name.
    """
    if isinstance(value, list):
        return [_map_networks(v, fn, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, Mapping):
        return value
    out = {}
    for key, v in value.items():
        at = f"{where}.{key}" if where else str(key)
        if key in _NO_NETWORKS:
            out[key] = v
        elif key in _NETWORK_KEYS:
            out[key] = _network_names(v, fn, at)
        elif key == "network" and isinstance(v, str):
            out[key] = fn(v)
        else:
            out[key] = _map_networks(v, fn, at)
    return out


def _network_names(value: Any, fn: Callable[[str], str], where: str) -> Any:
    """Return a ``networks`` list or mapping with ``fn`` applied to its names."""
    if isinstance(value, list):
        return [fn(v) if isinstance(v, str) else v for v in value]
    if not isinstance(value, Mapping):
        return value
    out: dict = {}
    given: dict[str, str] = {}
    for name, rule in value.items():
        new = fn(str(name))
        if new in out:
            raise SpecError(
                f"{where}: '{given[new]}' and '{name}' both name the network '{new}' of the "
                "curves; merge their rules into one"
            )
        out[new], given[new] = rule, str(name)
    return out


def load_spec(path: str | Path) -> PlanSpec:
    """Read a plan spec from YAML or JSON; errors name the file."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        data = read_json(p, "the spec YAML or JSON file", SpecError)
    else:
        text = read_input(p, "the spec YAML or JSON file", SpecError)
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            raise SpecError(f"{p}: {where}not valid YAML ({getattr(e, 'problem', e)})") from None
        except RecursionError:
            raise SpecError(too_deep_message(str(p))) from None
    return PlanSpec.from_dict(data, source=str(p))


__all__ = [
    "GROUP_KINDS",
    "MAX_BUDGET",
    "Exclusions",
    "GroupRule",
    "LineRule",
    "Pacing",
    "PlanSpec",
    "ResultsFloor",
    "check_budget",
    "load_spec",
]
