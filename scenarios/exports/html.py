"""Self-contained HTML reports: escaped tables and charts embedded as PNG data URIs."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence

from optimizer import Curves

from .charts import frontier_png, response_curves_png, spend_chart_png
from .plan import plan_dict, plan_rows, totals

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222;
background:#fff}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:3px 8px}th{background:#f0f3f7;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
.bad{color:#b00020}.note{color:#555;font-size:.9em}
"""


def esc(v) -> str:
    """Escape ``v`` as HTML text (None is empty)."""
    return html.escape("" if v is None else str(v))


def fmt(v, digits: int = 2, parens: bool = False) -> str:
    """Format a cell's text; ``parens`` writes negatives as (1,234.00), the finance way.

    Numbers are rounded to ``digits`` with thousands separators, booleans are yes/no and
    None is empty.
    """
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        v = round(v, digits) + 0.0  # no "-0.00"
        if parens and v < 0:
            return f"({-v:,.{digits}f})"
        return f"{v:,.{digits}f}"
    return str(v)


def table(headers: Sequence[str], rows: Sequence[Sequence], digits: dict | None = None) -> str:
    """Render an HTML table of escaped cells, numbers right-aligned.

    Numbers get 2 decimal places unless ``digits`` maps their header to another number; a
    column whose header holds "Over/(under)" shows negatives in parentheses.
    """
    digits = digits or {}
    out = ["<table><thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for h, v in zip(headers, r, strict=False):
            num = isinstance(v, int | float) and not isinstance(v, bool)
            cls = ' class="n"' if num else ""
            text = fmt(v, digits.get(h, 2), parens="Over/(under)" in h)
            out.append(f"<td{cls}>{esc(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def img(png: bytes, alt: str) -> str:
    """Embed PNG bytes as an ``<img>`` with a data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def page(title: str, body: str) -> str:
    """Wrap ``body`` in a whole HTML page with the report's CSS and ``title`` as heading."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>{body}</body></html>\n"
    )


SHADOW = "shadow price (results per extra unit)"
LINE_COLUMNS = (
    "network",
    "segment",
    "period",
    "spend",
    "expected_results",
    "cost_per_result",
    "marginal_cost_per_result",
)


def rules_table(constraints: Sequence[Mapping]) -> str:
    """Tabulate the plan's rules: name, description, binding and shadow price."""
    return table(
        ["rule", "description", "binding", SHADOW],
        [
            [c.get("name"), c.get("description"), c.get("binding"), c.get("shadow_price")]
            for c in constraints
        ],
        {SHADOW: 6},
    )


def lines_table(rows: Sequence[Mapping]) -> str:
    """Tabulate the plan lines (``plan_rows``) in the columns of the CSV."""
    return table(list(LINE_COLUMNS), [[r[h] for h in LINE_COLUMNS] for r in rows])


def plan_sections(
    plan, *, curves: Curves | None = None, frontier: Sequence[Mapping] | None = None
) -> str:
    """Render the HTML body of one plan: totals, charts, rules and lines."""
    d = plan_dict(plan)
    rows = plan_rows(d)
    t = totals(d)
    cur = t["currency"]
    parts = [
        table(
            [
                "status",
                "budget",
                "total spend",
                "expected results",
                "cost per result",
                "currency",
                "result type",
            ],
            [
                [
                    t["status"],
                    t["budget"],
                    t["total_spend"],
                    t["expected_results"],
                    t["cost_per_result"],
                    cur,
                    t["result_type"],
                ]
            ],
        )
    ]
    if rows:
        parts.append(img(spend_chart_png(rows, cur, "Spend by network and period"), "spend"))
    if curves is not None:
        parts.append(img(response_curves_png(curves, rows), "response curves"))
    if frontier:
        parts.append(img(frontier_png(frontier, cur, t["budget"]), "budget frontier"))
    cons = d.get("constraints") or []
    if cons:
        parts.append("<h3>Rules</h3>" + rules_table(cons))
    parts.append("<h3>Lines</h3>" + lines_table(rows))
    return "".join(parts)


def plan_html_text(
    plan,
    *,
    curves: Curves | None = None,
    frontier: Sequence[Mapping] | None = None,
    title: str = "adplan: plan",
) -> str:
    """Render a self-contained HTML page for one plan (no external files, charts inline).

    ``plan`` is a :class:`~optimizer.Plan` (or its Plan JSON dict); ``curves`` adds the
    response-curve chart.
    """
    return page(title, plan_sections(plan, curves=curves, frontier=frontier))
