"""Scenario files (YAML): the what-ifs an SMM writes, validated at the edge with pydantic.

A scenario names where the response curves come from (``curves: FILE`` or
``history: FILE`` with ``from``, ``to``, ``period`` and optionally ``result_type`` and
``cap_multiple``), the plan spec (inline or a path), ``overrides`` applied to the base and a
list of ``variants`` (each a ``name``, a ``spec`` patch deep-merged into the base spec and
more ``overrides``).
Relative paths resolve against the scenario file's folder. See docs/scenarios.md.

``from`` and ``to`` are read as every command reads ``--from`` and ``--to``
(``optimizer.periods.plan_day``: YYYY-MM-DD only; YAML timestamps are kept as text for it) and
``cap_multiple`` as ``--cap-multiple`` (:mod:`scenarios.forecast_inputs`). With ``history``, a
``response:`` mapping (``carryover``, ``season``, ``shape``, ``events``, ``priors``, ``lift``,
``results``) sets how the response is modelled, read by
``forecasting.options.response_options`` as ``--carryover`` ... ``--incremental`` are (its
files relative to the scenario file's folder).

The pydantic models below are the file format only; :func:`load_scenario` converts them
into the frozen :class:`Scenario`, :class:`Variant` and :class:`Overrides` the runs use.
Every error names the file and the key path, e.g.
``q1.yaml: variants[1].overrides.cost_per_result.tiktok: must be a number > 0 (got 0)``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from forecasting.options import DEFAULT_RESPONSE, ResponseOptions

from .errors import ScenarioFileError
from .forecast_inputs import (
    DEFAULT_CAP_MULTIPLE,
    CapMultiple,
    PlanDate,
    ResponseOptionError,
    read_response,
)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*%\s*$")

PositiveNumber = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ExcludeFile(_Model):
    """The ``exclude`` key of ``overrides``: networks and segments to plan nothing on."""

    networks: list[str] = []
    segments: list[str] = []


class OverridesFile(_Model):
    """The ``overrides`` key: cost per result multipliers, exclusions, budget change, rules."""

    cost_per_result: dict[str, PositiveNumber] = {}
    exclude: ExcludeFile = ExcludeFile()
    budget: float | str | None = None
    rules: dict[str, Any] = {}

    @field_validator("budget")
    @classmethod
    def _budget(cls, v):
        if v is None or isinstance(v, float | int):
            if v is not None and v < 0:
                raise ValueError("must be an amount >= 0 or a change in percent such as '-10%'")
            return v
        if not _PERCENT.match(v):
            raise ValueError("must be an amount >= 0 or a change in percent such as '-10%'")
        return v.strip()


class VariantFile(_Model):
    """One entry of ``variants``: a name, a spec patch and more overrides."""

    name: str = Field(pattern=NAME_PATTERN)
    spec: dict[str, Any] = {}
    overrides: OverridesFile = OverridesFile()
    description: str | None = None


class ResponseFile(_Model):
    """The ``response`` key: how the response is modelled (with ``history`` only).

    Each value is checked by ``forecasting.options.response_options``, the check of
    ``--carryover`` ... ``--incremental``: ``carryover`` auto or a decay from 0 to 0.9,
    ``season`` auto|common|network, ``shape`` auto|power|hill, ``events``, ``priors`` and
    ``lift`` files (relative to the scenario file's folder), ``results`` attributed or
    incremental (incremental needs ``lift``).
    """

    carryover: Any = None
    season: Any = None
    shape: Any = None
    events: str | None = None
    priors: str | None = None
    lift: str | None = None
    results: Any = None


class ScenarioFile(_Model):
    """A scenario file as written (``from`` and ``to`` are the aliases of start and end)."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    curves: str | None = None
    history: str | None = None
    start: PlanDate | None = Field(default=None, alias="from")
    end: PlanDate | None = Field(default=None, alias="to")
    period: Literal["week", "month"] | None = None
    result_type: str | None = None
    cap_multiple: CapMultiple | None = None
    response: ResponseFile | None = None
    spec: str | dict[str, Any]
    overrides: OverridesFile = OverridesFile()
    variants: list[VariantFile] = []


# -- the frozen objects the runs use -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a scenario or variant changes besides the spec.

    ``cost_per_result`` maps a network or segment to a multiplier of its cost per result
    (1.2 = 20% dearer: expected results are divided by 1.2); ``budget`` is an absolute
    amount or a change in percent (``"-10%"``); ``rules`` are merged into the spec.
    """

    cost_per_result: Mapping[str, float] = field(default_factory=dict)
    exclude_networks: tuple[str, ...] = ()
    exclude_segments: tuple[str, ...] = ()
    budget: float | str | None = None
    rules: Mapping[str, Any] = field(default_factory=dict)

    def then(self, other: Overrides) -> Overrides:
        """Return these overrides with ``other`` on top (a variant on its base)."""
        return Overrides(
            cost_per_result={**self.cost_per_result, **other.cost_per_result},
            exclude_networks=tuple(dict.fromkeys(self.exclude_networks + other.exclude_networks)),
            exclude_segments=tuple(dict.fromkeys(self.exclude_segments + other.exclude_segments)),
            budget=other.budget if other.budget is not None else self.budget,
            rules=deep_merge(self.rules, other.rules),
        )

    def to_dict(self) -> dict:
        """Return the overrides in the file's layout, leaving out what they do not change."""
        d: dict[str, Any] = {}
        if self.cost_per_result:
            d["cost_per_result"] = dict(self.cost_per_result)
        if self.exclude_networks or self.exclude_segments:
            d["exclude"] = {
                "networks": list(self.exclude_networks),
                "segments": list(self.exclude_segments),
            }
        if self.budget is not None:
            d["budget"] = self.budget
        if self.rules:
            d["rules"] = dict(self.rules)
        return d


@dataclass(frozen=True, slots=True)
class Variant:
    """A validated variant: its name, the patch to the base spec and its own overrides."""

    name: str
    spec_patch: Mapping[str, Any] = field(default_factory=dict)
    overrides: Overrides = field(default_factory=Overrides)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario: where the curves come from, the base spec, the variants.

    ``cap_multiple`` is where curves forecast from ``history`` end (a multiple of each line's
    highest spend in one period); curves read from a file keep their own ends. ``response``
    is how the forecast models the response (``forecasting.options.ResponseOptions``).
    """

    name: str
    spec: Mapping[str, Any]
    curves_path: Path | None = None
    history_path: Path | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    period: str | None = None
    result_type: str | None = None
    cap_multiple: float = DEFAULT_CAP_MULTIPLE
    overrides: Overrides = field(default_factory=Overrides)
    variants: tuple[Variant, ...] = ()
    response: ResponseOptions = DEFAULT_RESPONSE
    source: str = "scenario"
    description: str | None = None

    @property
    def variant_names(self) -> list[str]:
        """The base's name (the scenario's) and then each variant's."""
        return [self.name, *(v.name for v in self.variants)]


# -- helpers -------------------------------------------------------------------------------


def deep_merge(base: Mapping | None, patch: Mapping | None) -> dict:
    """Return ``base`` with ``patch`` merged in: mappings recursively, anything else replaced.

    A ``None`` (YAML ``null``) in the patch removes the key. Neither argument is modified.
    """
    out = dict(base or {})
    for k, v in (patch or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def apply_budget_change(budget, change) -> float:
    """Return ``budget`` after ``change``: an absolute amount or ``"+5%"`` / ``"-10%"`` of it.

    A ``None`` change leaves ``budget`` as it is.
    """
    if change is None:
        return budget
    if isinstance(change, int | float):
        return float(change)
    m = _PERCENT.match(change)
    if m is None:  # the file format refuses it; an Overrides built in code may not
        raise ScenarioFileError(
            f"budget: {change!r} is not an amount or a change in percent such as '-10%'",
            key="budget",
        )
    return float(budget) * (1 + float(m.group(1)) / 100.0)


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _unwrap(tp):
    """Return the model class reached through Optional / list / dict annotations, if any."""
    while True:
        origin = get_origin(tp)
        if origin in (list, dict):
            tp = get_args(tp)[-1]
        elif origin is Union or (origin is not None and type(None) in get_args(tp)):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return None
            tp = args[0]
        elif origin is Annotated:
            tp = get_args(tp)[0]
        else:
            return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _allowed_keys(loc: tuple) -> list[str]:
    model: Any = ScenarioFile
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        f = model.model_fields.get(part) or next(
            (fi for fi in model.model_fields.values() if fi.alias == part), None
        )
        if f is None:
            return []
        model = _unwrap(f.annotation)
    if model is None:
        return []
    return sorted(fi.alias or n for n, fi in model.model_fields.items())


def _message(err: ErrorDetails) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(err["loc"]))
        return "unknown key" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "is required"
    if kind in ("greater_than", "greater_than_equal"):
        op = ">" if kind == "greater_than" else ">="
        return f"must be a number {op} {ctx.get('gt', ctx.get('ge')):g} (got {got!r})"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"must be a number (got {got!r})"
    if kind == "string_pattern_mismatch":
        return (
            f"{got!r} is not a valid name: use letters, digits, '.', '_' or '-' "
            "(it becomes a folder name)"
        )
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')} (got {got!r})"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def _validation_error(e: ValidationError, source: str) -> ScenarioFileError:
    errs = e.errors()
    # one message per key path; union alternatives (budget: number | text) collapse
    seen: dict[str, str] = {}
    for er in errs:
        loc = tuple(p for p in er["loc"] if p not in ("float", "str", "int", "dict[str,any]"))
        key = _loc_text(loc)
        seen.setdefault(key, _message(er))
    first_key, first_msg = next(iter(seen.items()))
    lines = [f"{source}: {k}: {m}" for k, m in seen.items()]
    return ScenarioFileError("\n".join(lines), file=source, key=first_key)


class _TextDates(yaml.SafeLoader):
    """YAML's safe loader without timestamps: ``from: 2027-01-04`` stays text.

    So a scenario's dates are read by ``plan_day`` as ``--from`` is: ``2027-01-02T00:00:00Z``
    is refused there, not turned into a datetime by YAML first.
    """


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_mapping(path: Path, what: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(f"{path}: {what} file not found", file=str(path)) from None
    except OSError as e:
        raise ScenarioFileError(
            f"{path}: cannot read the {what} file ({e})", file=str(path)
        ) from None
    try:
        data = yaml.load(text, Loader=_TextDates)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioFileError(
            f"{path}: {where}not valid YAML ({problem})", file=str(path)
        ) from None
    if not isinstance(data, dict):
        raise ScenarioFileError(
            f"{path}: expected a mapping of keys (name, curves, spec, ...), "
            f"got {type(data).__name__}",
            file=str(path),
        )
    return data


def _spec_file(path: Path, source: str) -> dict:
    """Read a scenario's spec file as ``adplan optimize --spec`` reads it (``read_spec``).

    The errors are the optimizer's, word for word (a ScenarioFileError here); the spec comes
    back as the mapping ``PlanSpec.from_dict`` reads, for the variants to patch.
    """
    from optimizer import SpecError

    from .inputs import read_spec

    try:
        return read_spec(path).to_dict()
    except SpecError as e:
        raise ScenarioFileError(str(e), file=source, key="spec") from None


def _overrides(o: OverridesFile) -> Overrides:
    return Overrides(
        cost_per_result=dict(o.cost_per_result),
        exclude_networks=tuple(o.exclude.networks),
        exclude_segments=tuple(o.exclude.segments),
        budget=o.budget,
        rules=dict(o.rules),
    )


def _refuse_budget_removal(patch: Mapping, where: str, source: str) -> None:
    """Refuse ``budget: null`` in ``patch``: the budget is required.

    A ``null`` removes a key when merged (``deep_merge``), so the spec would have no budget.
    """
    if "budget" in patch and patch["budget"] is None:
        key = f"{where}.budget"
        raise ScenarioFileError(
            f"{source}: {key}: the budget cannot be removed; give a number (an amount), or "
            "change it with overrides.budget ('-10%')",
            file=source,
            key=key,
        )


def scenario_from_dict(
    data: Mapping, *, source: str = "scenario", folder: Path | None = None
) -> Scenario:
    """Validate a scenario mapping (the parsed YAML) and resolve its paths against ``folder``."""
    if not isinstance(data, Mapping):
        raise ScenarioFileError(f"{source}: expected a mapping, got {type(data).__name__}")
    try:
        m = ScenarioFile.model_validate(dict(data))
    except ValidationError as e:
        raise _validation_error(e, source) from None
    folder = folder or Path.cwd()
    _check_inputs(m, source)
    if isinstance(m.spec, str):
        spec = _spec_file(_resolve(m.spec, folder), source)
    else:
        spec = dict(m.spec)
    _check_variants(m, source)
    return Scenario(
        name=m.name,
        description=m.description,
        spec=spec,
        curves_path=_resolve(m.curves, folder) if m.curves else None,
        history_path=_resolve(m.history, folder) if m.history else None,
        start=m.start,
        end=m.end,
        period=m.period,
        result_type=m.result_type,
        cap_multiple=DEFAULT_CAP_MULTIPLE if m.cap_multiple is None else m.cap_multiple,
        response=_response(m.response, source, folder),
        overrides=_overrides(m.overrides),
        variants=tuple(
            Variant(
                name=v.name,
                spec_patch=dict(v.spec),
                overrides=_overrides(v.overrides),
                description=v.description,
            )
            for v in m.variants
        ),
        source=source,
    )


def _response(r: ResponseFile | None, source: str, folder: Path) -> ResponseOptions:
    """Return the scenario's response options, its files resolved against ``folder``.

    Read by ``forecasting.options.response_options`` (through ``read_response``); a refusal
    names the file and the key (``q1.yaml: response.carryover: ...``).
    """
    if r is None:
        return DEFAULT_RESPONSE
    values = r.model_dump()
    for key in ("events", "priors", "lift"):
        if values[key] is not None:
            values[key] = _resolve(values[key], folder)
    try:
        return read_response(values)
    except ResponseOptionError as e:
        key = "response" if e.key is None else f"response.{e.key}"
        raise ScenarioFileError(f"{source}: {key}: {e}", file=source, key=key) from None


def _resolve(p: str, folder: Path) -> Path:
    """Return the path ``p`` of a scenario file, relative ones against its ``folder``."""
    q = Path(p).expanduser()
    return q if q.is_absolute() else folder / q


def _check_inputs(m: ScenarioFile, source: str) -> None:
    """Refuse a scenario without exactly one of curves or history, or a bad history window."""
    if (m.curves is None) == (m.history is None):
        raise ScenarioFileError(
            f"{source}: give exactly one of 'curves' (a curves JSON file) or 'history' "
            "(an ad history file, with 'from', 'to' and 'period')",
            file=source,
            key="curves",
        )
    if m.history is None:
        if m.cap_multiple is not None:
            raise ScenarioFileError(
                f"{source}: cap_multiple: applies to curves forecast from 'history'; curves "
                "read from a file keep their own ends (remove cap_multiple, or use history)",
                file=source,
                key="cap_multiple",
            )
        if m.response is not None:
            raise ScenarioFileError(
                f"{source}: response: applies to curves forecast from 'history'; curves read "
                "from a file are already made (remove response, or use history)",
                file=source,
                key="response",
            )
        return
    missing = [k for k, v in (("from", m.start), ("to", m.end), ("period", m.period)) if v is None]
    if missing:
        raise ScenarioFileError(
            f"{source}: {missing[0]}: is required with 'history' (the forecast needs "
            "'from', 'to' and 'period': week or month)",
            file=source,
            key=missing[0],
        )
    if m.start is not None and m.end is not None and m.end < m.start:
        raise ScenarioFileError(
            f"{source}: to: {m.end} is before from: {m.start}", file=source, key="to"
        )


def _check_variants(m: ScenarioFile, source: str) -> None:
    """Refuse a budget removed by the overrides or a variant, and variant names used twice."""
    _refuse_budget_removal(m.overrides.rules, "overrides.rules", source)
    for i, v in enumerate(m.variants):
        _refuse_budget_removal(v.spec, f"variants[{i}].spec", source)
        _refuse_budget_removal(v.overrides.rules, f"variants[{i}].overrides.rules", source)
    names = [m.name]
    for i, v in enumerate(m.variants):
        if v.name in names:
            raise ScenarioFileError(
                f"{source}: variants[{i}].name: {v.name!r} is already used (the base is "
                f"named after the scenario, {m.name!r}); give each variant its own name",
                file=source,
                key=f"variants[{i}].name",
            )
        names.append(v.name)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file; errors name the file and the key path."""
    p = Path(path)
    data = _read_mapping(p, "scenario")
    return scenario_from_dict(data, source=p.name, folder=p.resolve().parent)
