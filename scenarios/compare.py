"""Compare plans: money moved, change in results and cost per result, and why.

The why is the rule changes (spec diff, shadow prices) that moved the money between networks
and segments. Pure functions over Plan JSON dicts and spec dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ScenarioError
from .exports.plan import number, plan_rows, totals

#: label for a difference against the base, as finance writes it
OVER_UNDER = "Over/(under) base"


@dataclass(frozen=True, slots=True)
class PlanCase:
    """One plan to compare: its name, the spec and overrides it ran with, and its plan.

    A plan that could not be made has ``plan=None`` and the ``error`` (and ``diagnosis``)
    that stopped it.
    """

    name: str
    spec: Mapping
    plan: Mapping | None
    overrides: Mapping = field(default_factory=dict)
    error: str | None = None
    diagnosis: Sequence = ()
    source: str | None = None


def flatten(d, prefix: str = "") -> dict[str, object]:
    """Flatten nested mappings into ``{"a.b": 1, "lines": [...]}``.

    Lists are kept whole; empty mappings are dropped.
    """
    out: dict[str, object] = {}
    if isinstance(d, Mapping):
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, Mapping):  # an empty mapping is the same as none
                out.update(flatten(v, key))
            else:
                out[key] = v
    return out


def spec_diff(base: Mapping, other: Mapping) -> list[dict]:
    """List the rules added, removed or changed from ``base`` to ``other``.

    One ``{path, base, variant}`` per flattened key (see :func:`flatten`) whose value differs;
    numbers that differ only in type (``1`` and ``1.0``) are the same.
    """
    a, b = flatten(base), flatten(other)
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va != vb:
            na, nb = number(va), number(vb)
            if na is not None and nb is not None and na == nb:
                continue
            out.append({"path": k, "base": va, "variant": vb})
    return out


def spend_by(plan: Mapping, by: str) -> dict[str, float]:
    """Total the plan's spend per ``by`` (a plan line column: "network", "segment"...)."""
    out: dict[str, float] = {}
    for r in plan_rows(plan):
        out[r[by]] = out.get(r[by], 0.0) + r["spend"]
    return out


def results_by(plan: Mapping, by: str) -> dict[str, float]:
    """Total the plan's expected results per ``by`` (a plan line column)."""
    out: dict[str, float] = {}
    for r in plan_rows(plan):
        out[r[by]] = out.get(r[by], 0.0) + r["expected_results"]
    return out


def _moved(base: Mapping, other: Mapping, by: str) -> list[dict]:
    sb, so = spend_by(base, by), spend_by(other, by)
    rb, ro = results_by(base, by), results_by(other, by)
    rows: list[dict[str, Any]] = []
    for k in sorted(set(sb) | set(so)):
        b, o = sb.get(k, 0.0), so.get(k, 0.0)
        rows.append(
            {
                "name": k,
                "base_spend": round(b, 2),
                "spend": round(o, 2),
                "change": round(o - b, 2),
                "base_results": round(rb.get(k, 0.0), 4),
                "results": round(ro.get(k, 0.0), 4),
            }
        )
    rows.sort(key=lambda r: (-abs(r["change"]), r["name"]))
    return rows


def _rules(base: Mapping, other: Mapping) -> list[dict]:
    def index(p):
        return {c.get("name"): c for c in (p.get("constraints") or []) if c.get("name")}

    ib, io = index(base), index(other)
    rows = []
    for name in list(dict.fromkeys([*ib, *io])):
        cb, co = ib.get(name, {}), io.get(name, {})
        if not (cb.get("binding") or co.get("binding")):
            continue
        rows.append(
            {
                "name": name,
                "description": co.get("description") or cb.get("description"),
                "base_binding": cb.get("binding"),
                "binding": co.get("binding"),
                "base_shadow_price": number(cb.get("shadow_price")),
                "shadow_price": number(co.get("shadow_price")),
            }
        )
    return rows


def _delta(a, b):
    a, b = number(a), number(b)
    return None if a is None or b is None else round(b - a, 6)


def _same_units(cases: Sequence[PlanCase]) -> None:
    """Refuse to subtract plans in different result types or currencies."""
    planned = [(c.name, c.plan) for c in cases if c.plan is not None]
    if not planned:
        return
    first, first_plan = planned[0]
    want = (first_plan.get("result_type"), first_plan.get("currency"))
    for name, plan in planned[1:]:
        got = (plan.get("result_type"), plan.get("currency"))
        if got != want:
            raise ScenarioError(
                f"compare: {first} counts {want[0]} in {want[1]} but {name} counts "
                f"{got[0]} in {got[1]}; plans can be compared only in the same result type and "
                "currency (forecast both on the same result type, convert the currency)"
            )


def compare_plans(cases: Sequence[PlanCase]) -> dict:
    """Compare every case with the first (the base) and return a JSON-ready dict.

    ``{"base": NAME, "currency", "result_type", "cases": [{name, status, budget,
    total_spend, expected_results, cost_per_result, delta: {...}, moved: {networks,
    segments}, spec_changes, overrides, rules, error, diagnosis}]}``; ``delta`` and the
    ``change`` columns are over/(under) the base (positive = more than the base).
    """
    if not cases:
        return {"base": None, "cases": []}
    _same_units(cases)
    base = cases[0]
    bt = totals(base.plan) if base.plan is not None else None
    out_cases = []
    for c in cases:
        entry: dict = {"name": c.name, "source": c.source, "overrides": dict(c.overrides)}
        if c.plan is None:
            entry.update(
                status="infeasible" if c.diagnosis else "error",
                error=c.error,
                diagnosis=list(c.diagnosis),
                budget=number(c.spec.get("budget")),
            )
        else:
            t = totals(c.plan)
            entry.update(
                {
                    k: t[k]
                    for k in (
                        "status",
                        "budget",
                        "total_spend",
                        "expected_results",
                        "cost_per_result",
                    )
                }
            )
        if c is not base:
            # the effective spec already holds the overrides' rules, budget and exclusions
            entry["spec_changes"] = spec_diff(base.spec, c.spec) + spec_diff(
                {"overrides": {"cost_per_result": base.overrides.get("cost_per_result", {})}},
                {"overrides": {"cost_per_result": c.overrides.get("cost_per_result", {})}},
            )
        if c is not base and c.plan is not None and base.plan is not None and bt is not None:
            t = totals(c.plan)
            entry["delta"] = {
                k: _delta(bt[k], t[k])
                for k in ("budget", "total_spend", "expected_results", "cost_per_result")
            }
            entry["moved"] = {
                "networks": _moved(base.plan, c.plan, "network"),
                "segments": _moved(base.plan, c.plan, "segment"),
            }
            entry["rules"] = _rules(base.plan, c.plan)
        out_cases.append(entry)
    first = base.plan or next((c.plan for c in cases if c.plan), None) or {}
    return {
        "base": base.name,
        "currency": first.get("currency"),
        "result_type": first.get("result_type"),
        "cases": out_cases,
    }
