"""Apply a scenario's overrides to curves and spec (pure functions, no I/O).

A variant's spec is a mapping until here (the base spec as the scenario writes it, the
variant's patch merged in): :func:`apply_overrides` merges the overrides' rules, budget and
exclusions into it and reads the result into a :class:`~optimizer.PlanSpec`, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from optimizer import Curves, PlanSpec

from .errors import ScenarioFileError
from .files import Overrides, apply_budget_change, deep_merge
from .inputs import spec_from_mapping


def scale_results(
    curves: Curves, multipliers: Mapping[str, float], source: str = "overrides"
) -> Curves:
    """Return curves whose cost per result is multiplied per network and segment.

    A line's multiplier is that of its network times that of its segment; its expected
    results are divided by it (a 1.2 makes results 20% dearer). A name that is not in the
    curves, or is both a network and a segment, raises ScenarioFileError.
    """
    if not multipliers:
        return curves
    nets, segs = set(curves.networks), set(curves.segments)
    for name in multipliers:
        if name in nets and name in segs:
            raise ScenarioFileError(
                f"{source}.cost_per_result.{name}: '{name}' is both a network and a segment; "
                "rename one of them in the curves",
                key=f"{source}.cost_per_result.{name}",
            )
        if name not in nets and name not in segs:
            known = ", ".join(sorted(nets | segs)[:16])
            raise ScenarioFileError(
                f"{source}.cost_per_result.{name}: no network or segment '{name}' in the "
                f"curves (known: {known}); fix the name or drop it",
                key=f"{source}.cost_per_result.{name}",
            )

    def scaled(points, m):
        return None if points is None else tuple((x, y / m) for x, y in points)

    lines = []
    for ln in curves.lines:
        m = multipliers.get(ln.network, 1.0) * multipliers.get(ln.segment, 1.0)
        if m == 1.0:
            lines.append(ln)
            continue
        # every other field (value, flags, the forecast's spread) is the line's own
        lines.append(
            replace(ln, points=scaled(ln.points, m), low=scaled(ln.low, m), high=scaled(ln.high, m))
        )
    return Curves(
        lines=tuple(lines),
        currency=curves.currency,
        result_type=curves.result_type,
        meta=curves.meta,
    )


@dataclass(frozen=True, slots=True)
class Overridden:
    """A variant's curves and spec after its overrides, and what the overrides did.

    ``spec`` is the :class:`~optimizer.PlanSpec` the variant is solved with. ``written`` is
    the same spec as the scenario writes it (the base spec, the variant's patch and the
    overrides' rules, budget and exclusions merged, the numbers as given): what the JSON,
    the comparison and the service show. ``notes`` say what the overrides changed.
    """

    curves: Curves
    spec: PlanSpec
    written: Mapping[str, Any]
    notes: list[str] = field(default_factory=list)


def apply_overrides(
    curves: Curves,
    written: Mapping,
    overrides: Overrides,
    source: str = "overrides",
    *,
    spec_source: str = "spec",
) -> Overridden:
    """Return the curves and the spec after ``overrides``, and notes on what they changed.

    ``written`` is the spec as the scenario writes it (a variant's patch already merged in):
    the extra rules are merged into it, the budget changed, networks/segments excluded (their
    rules dropped, with a note) and the cost per result scaled. The result is then read into
    a :class:`~optimizer.PlanSpec` once, named ``spec_source`` in its errors (SpecError).
    Errors in the overrides themselves are ScenarioFileError naming ``source``.
    """
    notes: list[str] = []
    doc = deep_merge(written, overrides.rules)
    if overrides.budget is not None:
        _change_budget(doc, overrides.budget, source, notes)
    for kind, names in (
        ("networks", overrides.exclude_networks),
        ("segments", overrides.exclude_segments),
    ):
        if names:
            _exclude(doc, curves, kind, names, source, notes)
    scaled = scale_results(curves, overrides.cost_per_result, f"{source}")
    for name, m in overrides.cost_per_result.items():
        notes.append(f"cost per result of {name} x{m:g}")
    spec = spec_from_mapping(doc, source=spec_source)
    return Overridden(curves=scaled, spec=spec, written=doc, notes=notes)


def _change_budget(doc: dict, change: float | str, source: str, notes: list[str]) -> None:
    """Change the budget of the spec mapping ``doc`` in place (an amount or a percentage)."""
    if "budget" not in doc:
        raise ScenarioFileError(
            f"{source}.budget: the spec has no budget to change", key=f"{source}.budget"
        )
    old = doc["budget"]
    doc["budget"] = round(apply_budget_change(old, change), 2)
    notes.append(f"budget {change} -> {doc['budget']:,.2f} (was {float(old):,.2f})")


def _exclude(
    doc: dict, curves: Curves, kind: str, names: tuple[str, ...], source: str, notes: list[str]
) -> None:
    """Exclude the networks or segments ``names`` (``kind``) in the spec mapping ``doc``.

    They are added to ``exclude`` and the rules on them dropped, each with a note.
    """
    have = set(curves.networks if kind == "networks" else curves.segments)
    for n in names:
        if n not in have:
            raise ScenarioFileError(
                f"{source}.exclude.{kind}: no {kind[:-1]} '{n}' in the curves "
                f"(known: {', '.join(sorted(have))})",
                key=f"{source}.exclude.{kind}",
            )
    ex = dict(doc.get("exclude") or {})
    ex[kind] = list(dict.fromkeys([*(ex.get(kind) or []), *names]))
    doc["exclude"] = ex
    _drop_group_rules(doc, kind, names, notes)
    _drop_line_rules(doc, 0 if kind == "networks" else 1, names, notes)
    notes.append(f"excluded {kind}: {', '.join(names)}")


def _drop_group_rules(doc: dict, kind: str, names: tuple[str, ...], notes: list[str]) -> None:
    """Drop the ``kind`` rules (networks: or segments:) on ``names``, each with a note."""
    rules = dict(doc.get(kind) or {})
    for n in names:
        if n in rules:
            del rules[n]
            notes.append(f"rule {kind}.{n} dropped: {n} is excluded")
    if rules:
        doc[kind] = rules
    else:
        doc.pop(kind, None)


def _drop_line_rules(doc: dict, idx: int, names: tuple[str, ...], notes: list[str]) -> None:
    """Drop the line rules whose network (``idx`` 0) or segment (1) is in ``names``."""
    kept = []
    for ln in doc.get("lines") or []:
        key = (ln.get("network"), ln.get("segment"))
        if key[idx] in names:
            notes.append(
                f"line rule {ln.get('network')}/{ln.get('segment')}/{ln.get('period')} dropped: excluded"
            )
        else:
            kept.append(ln)
    if "lines" in doc:
        doc["lines"] = kept
