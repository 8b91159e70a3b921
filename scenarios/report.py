"""The HTML report of a scenario run: one self-contained page, charts as embedded PNG."""

from __future__ import annotations

import json

from optimizer.plan import summed_name

from .compare import OVER_UNDER, additive
from .exports.html import (
    RESULTS_RANGE,
    chance_text,
    curve_ends_paragraph,
    curves_figure,
    esc,
    frontier_figure_html,
    headline,
    ledger_section,
    lines_section,
    page,
    period_section,
    range_text,
    ranges_paragraphs,
    rules_section,
    spend_figure,
    table,
    unspent_paragraph,
)
from .exports.plan import NOT_ADDITIVE, number, plan_rows, total_range, totals

#: the header of the chance a variant's results beat the base's, world by world
BEATS = "chance it beats the base"


def _range_cells(run, name: str) -> list[str]:
    """Return a variant's P10-P90 of total results and its chance of beating the base.

    "-" where unknown: no plan, no ranges, the base itself or a comparison without it.
    """
    v = next((v for v in run.variants if v.name == name), None)
    plan = None if v is None else v.plan
    ranges = {"ranges": getattr(plan, "ranges", None)}  # all total_range reads
    ranged = "-" if plan is None else range_text(*total_range(ranges))
    if plan is not None and not additive(plan):  # reach: no total across periods
        ranged = NOT_ADDITIVE
    comp = run.comparison
    case = next((c for c in comp["cases"] if c.get("name") == name), None)
    chance = None
    if case is not None and name != comp.get("base"):
        chance = number(case.get("beats_base_probability"))
    return [ranged, chance_text(chance)]


def _results_cells(c: dict, summed: bool) -> list:
    """Return a case's results and cost per result and their differences from the base.

    "not additive" for a case with a plan when results do not add up across periods (reach).
    """
    if not summed and "error" not in c:
        return [NOT_ADDITIVE] * 4
    d = c.get("delta") or {}
    keys = ("expected_results", "cost_per_result")
    return [x for k in keys for x in (c.get(k), d.get(k))]


def _comparison(run) -> str:
    head = [
        "variant",
        "status",
        "total spend",
        f"spend {OVER_UNDER}",
        "expected results",
        f"results {OVER_UNDER}",
        "cost per result",
        f"CPR {OVER_UNDER}",
        RESULTS_RANGE,
        BEATS,
    ]
    rows = []
    summed = run.comparison.get("results_additive") is not False
    for c in run.comparison["cases"]:
        d = c.get("delta") or {}
        rows.append(
            [
                c["name"],
                c.get("status"),
                c.get("total_spend"),
                d.get("total_spend"),
                *_results_cells(c, summed),
                *_range_cells(run, c["name"]),
            ]
        )
    parts = [table(head, rows)]
    if not summed:  # why, once (each variant's periods are in its section)
        parts.append(f'<p class="note">{esc(run.comparison.get("results_note") or "")}.</p>')
    for c in run.comparison["cases"][1:]:
        parts.append(_against_base(c, run.comparison["base"]))
    return "".join(parts)


def _against_base(c: dict, base: str) -> str:
    """Show a variant's rule changes, overrides and money moved against the base (or "")."""
    moved = (c.get("moved") or {}).get("networks") or []
    changes = c.get("spec_changes") or []
    if not (moved or changes or c.get("error")):
        return ""
    parts = [f"<h3>{esc(c['name'])} against {esc(base)}</h3>"]
    if changes:
        parts.append(
            table(
                ["rule", "base", "variant"],
                [[ch["path"], ch["base"], ch["variant"]] for ch in changes],
            )
        )
    if c.get("overrides"):
        parts.append(f"<p class=note>overrides: {esc(json.dumps(c['overrides']))}</p>")
    if moved:
        parts.append(
            table(
                ["network", "base spend", "spend", f"spend {OVER_UNDER}"],
                [[m["name"], m["base_spend"], m["spend"], m["change"]] for m in moved],
            )
        )
    return "".join(parts)


def _no_plan(v) -> str:
    """Say why a variant has no plan, with its diagnosis (the rules that cannot all hold)."""
    parts = [f"<p class=bad>No plan: {esc(v.error)}</p>"]
    items = [it if isinstance(it, dict) else {"message": str(it)} for it in v.diagnosis]
    if items:
        keys = ("rule", "needed", "available", "relax_by", "message")
        parts.append(
            table(
                ["rule", "needed", "available", "relax by", "message"],
                [[i.get(k) for k in keys] for i in items],
            )
        )
    return "".join(parts)


def _variant(run, v, first: bool) -> str:
    """Render one variant: its totals, charts, ledger, rules that bind and folded lines."""
    parts = [f"<h2>{esc(v.name)}</h2>"]
    if v.notes:
        parts.append("<p class=note>" + esc("; ".join(v.notes)) + "</p>")
    if v.plan is None:
        return "".join(parts) + _no_plan(v)
    d = v.plan.to_dict()  # the HTML edge: the Plan read once into its Plan JSON
    t = totals(d)
    rows = plan_rows(d)
    heads = ["status", "budget", "total spend", "expected results", "cost per result"]
    keys = ("status", "budget", "total_spend", "expected_results", "cost_per_result")
    cells = [*(t[k] for k in keys), *_range_cells(run, v.name)]
    if not additive(v.plan):  # reach: no total across periods (each period's below)
        cells[3:5] = [NOT_ADDITIVE, NOT_ADDITIVE]
    parts.append(table([*heads, RESULTS_RANGE, BEATS], [cells]))
    parts.append(period_section(d) + ranges_paragraphs(d, note=first))
    parts.append(unspent_paragraph(d))
    parts.append(spend_figure(rows, t["currency"], f"{v.name}: spend by network and period"))
    if first:
        what = summed_name(t["result_type"] or "results", additive(v.plan))
        parts.append(curves_figure(v.curves, rows, what))
        if any(p.get("expected_results") is not None for p in run.frontier):  # reach: none
            parts.append(frontier_figure_html(run.frontier, t["currency"], t["budget"]))
    parts += [ledger_section(d), curve_ends_paragraph(d)]
    parts.append(rules_section(d.get("constraints") or []))
    parts.append(lines_section(rows))
    return "".join(parts)


def scenario_html_text(run) -> str:
    """Render the report: comparison of the variants, then each variant (charts, rules, lines).

    It opens with the base plan's headline figures (spend, results, cost per result and
    their P10-P90) above the comparison; each variant shows only the rules that bind or
    cost something (the others folded) and labelled charts.
    """
    sc = run.scenario
    c = run.curves
    parts = [
        f"<p class=note>{esc(sc.description or '')} Currency {esc(c.currency)}, results: "
        f"{esc(c.result_type)}, {len(c.lines)} curve lines ({len(c.networks)} networks, "
        f"{len(c.segments)} segments, {len(c.periods)} periods).</p>"
    ]
    for w in run.warnings:
        parts.append(f"<p class=bad>warning: {esc(w)}</p>")
    base = run.variants[0].plan if run.variants else None
    top = "" if base is None else headline(base.to_dict())
    parts.append(f'<section id="totals"><h2>Comparison</h2>{top}{_comparison(run)}</section>')
    for i, v in enumerate(run.variants):
        parts.append(f'<section class="variant">{_variant(run, v, i == 0)}</section>')
    return page(f"adplan scenario: {sc.name}", "".join(parts))
