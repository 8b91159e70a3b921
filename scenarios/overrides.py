"""Apply a scenario's overrides to curves and spec (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

from optimizer import CurveLine, Curves

from .errors import ScenarioFileError
from .files import Overrides, apply_budget_change, deep_merge


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
        lines.append(
            CurveLine(
                network=ln.network,
                segment=ln.segment,
                period=ln.period,
                points=scaled(ln.points, m),
                value_per_result=ln.value_per_result,
                low=scaled(ln.low, m),
                high=scaled(ln.high, m),
                flags=ln.flags,
            )
        )
    return Curves(
        lines=tuple(lines),
        currency=curves.currency,
        result_type=curves.result_type,
        meta=curves.meta,
    )


def apply_overrides(  # noqa: C901 (split in issue 10)
    curves: Curves, spec: Mapping, overrides: Overrides, source: str = "overrides"
) -> tuple[Curves, dict, list[str]]:
    """Return (curves, spec dict, notes) after ``overrides``.

    The extra rules are merged into the spec, the budget changed, networks/segments excluded
    (their rules dropped, with a note) and the cost per result scaled.
    """
    notes: list[str] = []
    spec = deep_merge(spec, overrides.rules)
    if overrides.budget is not None:
        if "budget" not in spec:
            raise ScenarioFileError(
                f"{source}.budget: the spec has no budget to change", key=f"{source}.budget"
            )
        old = spec["budget"]
        spec["budget"] = round(apply_budget_change(old, overrides.budget), 2)
        notes.append(f"budget {overrides.budget} -> {spec['budget']:,.2f} (was {float(old):,.2f})")
    for kind, names in (
        ("networks", overrides.exclude_networks),
        ("segments", overrides.exclude_segments),
    ):
        if not names:
            continue
        have = set(curves.networks if kind == "networks" else curves.segments)
        for n in names:
            if n not in have:
                raise ScenarioFileError(
                    f"{source}.exclude.{kind}: no {kind[:-1]} '{n}' in the curves "
                    f"(known: {', '.join(sorted(have))})",
                    key=f"{source}.exclude.{kind}",
                )
        ex = dict(spec.get("exclude") or {})
        ex[kind] = list(dict.fromkeys([*(ex.get(kind) or []), *names]))
        spec["exclude"] = ex
        rules = dict(spec.get(kind) or {})
        for n in names:
            if n in rules:
                del rules[n]
                notes.append(f"rule {kind}.{n} dropped: {n} is excluded")
        if rules:
            spec[kind] = rules
        else:
            spec.pop(kind, None)
        idx = 0 if kind == "networks" else 1
        kept = []
        for ln in spec.get("lines") or []:
            key = (ln.get("network"), ln.get("segment"))
            if key[idx] in names:
                notes.append(
                    f"line rule {ln.get('network')}/{ln.get('segment')}/{ln.get('period')} dropped: excluded"
                )
            else:
                kept.append(ln)
        if "lines" in spec:
            spec["lines"] = kept
        notes.append(f"excluded {kind}: {', '.join(names)}")
    curves = scale_results(curves, overrides.cost_per_result, f"{source}")
    for name, m in overrides.cost_per_result.items():
        notes.append(f"cost per result of {name} x{m:g}")
    return curves, spec, notes
