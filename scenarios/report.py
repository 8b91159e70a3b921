"""The HTML report of a scenario run: one self-contained page, charts as embedded PNG."""

from __future__ import annotations

import json

from .compare import OVER_UNDER
from .exports.charts import frontier_png, response_curves_png, spend_chart_png
from .exports.html import (
    curve_ends_paragraph,
    esc,
    img,
    ledger_section,
    lines_table,
    page,
    rules_table,
    table,
    unspent_paragraph,
)
from .exports.plan import plan_rows, totals


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
    ]
    rows = []
    for c in run.comparison["cases"]:
        d = c.get("delta") or {}
        rows.append(
            [
                c["name"],
                c.get("status"),
                c.get("total_spend"),
                d.get("total_spend"),
                c.get("expected_results"),
                d.get("expected_results"),
                c.get("cost_per_result"),
                d.get("cost_per_result"),
            ]
        )
    parts = [table(head, rows)]
    for c in run.comparison["cases"][1:]:
        moved = (c.get("moved") or {}).get("networks") or []
        changes = c.get("spec_changes") or []
        if not (moved or changes or c.get("error")):
            continue
        parts.append(f"<h3>{esc(c['name'])} against {esc(run.comparison['base'])}</h3>")
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


def _variant(run, v, first: bool) -> str:
    parts = [f"<h2>{esc(v.name)}</h2>"]
    if v.notes:
        parts.append("<p class=note>" + esc("; ".join(v.notes)) + "</p>")
    if v.plan is None:
        parts.append(f"<p class=bad>No plan: {esc(v.error)}</p>")
        items = [it if isinstance(it, dict) else {"message": str(it)} for it in v.diagnosis]
        if items:
            parts.append(
                table(
                    ["rule", "needed", "available", "relax by", "message"],
                    [
                        [
                            i.get("rule"),
                            i.get("needed"),
                            i.get("available"),
                            i.get("relax_by"),
                            i.get("message"),
                        ]
                        for i in items
                    ],
                )
            )
        return "".join(parts)
    d = v.plan.to_dict()  # the HTML edge: the Plan read once into its Plan JSON
    t = totals(d)
    rows = plan_rows(d)
    parts.append(
        table(
            ["status", "budget", "total spend", "expected results", "cost per result"],
            [
                [
                    t["status"],
                    t["budget"],
                    t["total_spend"],
                    t["expected_results"],
                    t["cost_per_result"],
                ]
            ],
        )
    )
    parts.append(
        img(
            spend_chart_png(rows, t["currency"], f"{v.name}: spend by network and period"),
            f"{v.name} spend",
        )
    )
    if first:
        parts.append(img(response_curves_png(v.curves, rows), "response curves"))
        if run.frontier:
            parts.append(
                img(frontier_png(run.frontier, t["currency"], t["budget"]), "budget frontier")
            )
    parts += [unspent_paragraph(d), ledger_section(d), curve_ends_paragraph(d)]
    cons = d.get("constraints") or []
    if cons:
        parts.append(rules_table(cons))
    parts.append(f"<details><summary>{len(rows)} plan lines</summary>")
    parts.append(lines_table(rows) + "</details>")
    return "".join(parts)


def scenario_html_text(run) -> str:
    """Render the report: comparison of the variants, then each variant (charts, rules, lines)."""
    sc = run.scenario
    c = run.curves
    parts = [
        f"<p class=note>{esc(sc.description or '')} Currency {esc(c.currency)}, results: "
        f"{esc(c.result_type)}, {len(c.lines)} curve lines ({len(c.networks)} networks, "
        f"{len(c.segments)} segments, {len(c.periods)} periods).</p>"
    ]
    for w in run.warnings:
        parts.append(f"<p class=bad>warning: {esc(w)}</p>")
    parts.append("<h2>Comparison</h2>" + _comparison(run))
    for i, v in enumerate(run.variants):
        parts.append(_variant(run, v, i == 0))
    return page(f"adplan scenario: {sc.name}", "".join(parts))
