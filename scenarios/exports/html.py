"""Self-contained HTML reports: escaped tables and charts embedded as PNG data URIs."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence

from optimizer import Curves
from optimizer.plan import summed_name

from ..money import round_to_total
from .charts import frontier_png, response_curves_png, spend_chart_png
from .plan import (
    CSV_COLUMNS,
    NOT_ADDITIVE,
    RANGE_KINDS,
    RESPONSE_COLUMNS,
    additive,
    curve_ends,
    has_response,
    ledger_entries,
    number,
    objective_labels,
    period_rows,
    plan_dict,
    plan_rows,
    quantiles_of,
    ranges_in,
    ranges_note,
    response_rows,
    results_note,
    shadow_note,
    shown_ranges,
    stopped_words,
    total_range,
    totals,
    unspent_in,
)

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


#: headers of text columns shown right-aligned, as numbers are (ranges, chances)
RIGHT = re.compile(r"P10-P90|chance")
#: what a range or a chance that is not there shows
NONE = "-"


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
    column whose header holds "Over/(under)" shows negatives in parentheses; one whose header
    holds "P10-P90" or "chance" is right-aligned too (its cells are ranges or shares as text).
    """
    digits = digits or {}
    out = ["<table><thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for h, v in zip(headers, r, strict=False):
            num = isinstance(v, int | float) and not isinstance(v, bool)
            cls = ' class="n"' if num or RIGHT.search(h) else ""
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
#: the lines table's columns: the CSV's (with the P10 and P90 of each line's results); then,
#: when the lines carry them, results inside the plan, attributed and incremental
LINE_COLUMNS = CSV_COLUMNS


def rules_table(constraints: Sequence[Mapping]) -> str:
    """Tabulate the plan's rules: id, the rule in words, binding and shadow price."""
    return table(
        ["rule", "description", "binding", SHADOW],
        [
            [
                c.get("name"),
                c.get("words") or c.get("description"),
                c.get("binding"),
                c.get("shadow_price"),
            ]
            for c in constraints
        ],
        {SHADOW: 6},
    )


#: the lines table's last column: why the line gets no more (``limited_by.words``)
WHY = "why no more"


def lines_table(rows: Sequence[Mapping]) -> str:
    """Tabulate the plan lines (``plan_rows``): the columns of the CSV, then why no more."""
    carried = any(r.get(k) is not None for r in rows for k in RESPONSE_COLUMNS)
    columns = [*LINE_COLUMNS, *(RESPONSE_COLUMNS if carried else ())]
    return table([*columns, WHY], [[*(r.get(h) for h in columns), r.get("why")] for r in rows])


def ledger_table(plan) -> str:
    """Tabulate what each rule costs, the most costly first (the plan's ledger).

    Columns: the rule in words, its id, what removing it gains (measured by an exact
    re-solve), whether that is proven (no: a lower bound), the shadow price per 1,000 of
    currency and, under objective results, the cost of the result one more unit of room buys.
    """
    lab = objective_labels(plan)
    heads = ["rule", "id", lab["gain"], "proven", f"shadow price: {lab['per_1000']}"]
    keys = ["gain_if_removed", "gain_proven", "per_1000"]
    if lab["what"] not in ("value", "profit"):  # the cost of the next result: results only
        heads.append(lab["next"])
        keys.append("next_result_cost")
    rows = [
        [e.get("words"), e.get("rule"), *(_cell(e.get(k)) for k in keys)]
        for e in ledger_entries(plan)
    ]
    return table(heads, rows)


def _cell(v):
    """Return a number as a float (None if not finite), a boolean or None as it is."""
    return v if v is None or isinstance(v, bool) else number(v)


def ledger_section(plan) -> str:
    """Render "What each rule costs": what a shadow price is, then the ledger table.

    Empty when the plan has no binding rule.
    """
    if not ledger_entries(plan):
        return ""
    head = f'<h3>What each rule costs</h3><p class="note">{esc(shadow_note(plan))}</p>'
    return head + ledger_table(plan)


def unspent_paragraph(plan) -> str:
    """Say how much of the budget is left unspent and what stopped more spend (or nothing)."""
    amount, groups = unspent_in(plan)
    if amount <= 0:
        return ""
    t = totals(plan)
    cur = t["currency"]
    text = f"{fmt(amount)} {cur} of the {fmt(t['budget'])} {cur} budget is left unspent"
    if groups:
        text += f"; more spend is stopped by {stopped_words(groups)}"
    return f"<p><strong>Unspent:</strong> {esc(text)}.</p>"


def curve_ends_paragraph(plan) -> str:
    """Say how many lines, holding what share of spend, are at the end of their curves."""
    ends = curve_ends(plan)
    if ends is None:
        return ""
    n = ends["lines"]
    share = "" if ends["share"] is None else f" holding {100 * ends['share']:.0f}% of spend"
    at = "is at the end of its curve (the forecast's cap)"
    if n != 1:
        at = "are at the end of their curves (the forecast's caps)"
    text = f"{n:,} line{'' if n == 1 else 's'}{share} {at}"
    if ends["top_per_1000"]:
        lab, cur = objective_labels(plan), totals(plan)["currency"]
        top = fmt(ends["top_per_1000"])
        what = f"{cur} of {lab['what']}" if lab["what"] in ("value", "profit") else lab["what"]
        text += (
            f"; the most one more 1,000 {cur} would bring there, if its curve went on, is "
            f"{top} {what} ({ends['top_line']})"
        )
    return f'<p class="note">{esc(text)}.</p>'


def range_text(p10, p90, digits: int = 0) -> str:
    """Write a P10-P90 range for display ("1,943 – 2,428"); "-" when either end is missing."""
    if number(p10) is None or number(p90) is None:
        return NONE
    return f"{fmt(number(p10), digits)} – {fmt(number(p90), digits)}"


def chance_text(p) -> str:
    """Write a probability as a percentage with one decimal ("62.5%"); "-" when missing."""
    x = number(p)
    return NONE if x is None else f"{100 * x:.1f}%"


#: the headers of the ranges of the total results and of the cost per result
RESULTS_RANGE, CPR_RANGE = "results P10-P90", "cost per result P10-P90"


def summary_table(plan) -> str:
    """Tabulate the plan's totals (and its expected value and profit when it has them).

    A plan with ranges shows the P10-P90 of its total results and of its cost per result
    (low cost first: spend / P90 results) beside them.
    """
    d = plan_dict(plan)
    t = totals(d)
    heads = ["status", "budget", "total spend", "expected results", "cost per result"]
    row = [t[k] for k in ("status", "budget", "total_spend", "expected_results")]
    row.append(t["cost_per_result"])
    summed = additive(d)
    if not summed:  # reach: no total across periods (each period's in "Results by period")
        row[3:5] = [NOT_ADDITIVE, NOT_ADDITIVE]
    if ranges_in(d) is not None:
        cpr = quantiles_of(shown_ranges(d).get("cost_per_result"))
        heads += [RESULTS_RANGE, CPR_RANGE]
        row += [range_text(*total_range(d)), range_text(cpr[0], cpr[2], 2)]
    row += [t["currency"], t["result_type"]]
    heads += ["currency", "result type"]
    for k in ("expected_value", "expected_profit"):
        if number(d.get(k)) is not None:
            heads.append(k.replace("_", " "))
            row.append(number(d.get(k)))
    return table(heads, [row])


def ranges_paragraphs(plan, *, note: bool = True) -> str:
    """Say how the ranges were made, the chance of reaching the target and a cvar plan's risk.

    ``note=False`` leaves out how the ranges were made (said once for many plans).
    """
    d = plan_dict(plan)
    parts = [f'<p class="note">{esc(ranges_note(d))}.</p>'] if note else []
    chance = number(d.get("target_probability"))
    if chance is not None:
        t = totals(d)
        what = t["result_type"] or "results"
        if d.get("results_additive") is False:  # a target of reach is added over periods
            what = summed_name(what, False)
        text = f"{chance_text(chance)} that the plan reaches its target of "
        text += f"{fmt(number(d.get('target_results')), 0)} {what}"
        asked = number(d.get("target_confidence"))
        if asked is not None:
            text += f" (asked for: {chance_text(asked)})"
        parts.append(f"<p><strong>Chance of reaching the target:</strong> {esc(text)}.</p>")
    risk = d.get("risk")
    if isinstance(risk, Mapping) and risk.get("words"):
        parts.append(f"<p><strong>Risk:</strong> {esc(risk['words'])}.</p>")
    return "".join(parts)


#: the response table's columns: (header, key of :func:`~.plan.response_rows`)
RESPONSE_HEADS = (
    ("expected results", "expected_results"),
    ("inside the plan", "results_inside"),
    ("after the plan", "results_after"),
    ("attributed", "results_attributed"),
    ("incremental", "results_incremental"),
)


def response_section(plan) -> str:
    """Render "Results inside the plan and after it; attributed and incremental".

    Per network with a total row, or per period when results do not add up across periods
    (no total then). Each column is rounded by largest remainder, so the shown rows add up to
    the shown total; results after the plan are the shown results less the shown ones
    inside. Empty when the plan's lines carry neither carry-over nor lift.
    """
    d = plan_dict(plan)
    if not has_response(d):
        return ""
    summed = additive(d)
    field = "network" if summed else "period"
    groups = response_rows(d, field)
    heads = [(h, k) for h, k in RESPONSE_HEADS if any(g[k] is not None for g in groups)]
    shown = {k: _shown(g[k] for g in groups) for _, k in heads}
    if "results_after" in shown:  # after = results - inside, as shown
        shown["results_after"] = [
            None if i is None or r is None else round(r - i, 2)
            for r, i in zip(shown["expected_results"], shown["results_inside"], strict=True)
        ]
    rows = [[g["name"], *(shown[k][i] for _, k in heads)] for i, g in enumerate(groups)]
    if summed:
        rows.append(["total", *(_total(shown[k]) for _, k in heads)])
    t = totals(d)
    what, basis = t["result_type"] or "results", d.get("results_basis") or "attributed"
    text = f"the plan maximises {basis} {what}"
    if "results_inside" in shown:
        text += (
            "; a line's results count what its spend brings over its whole lifetime: "
            "inside the plan's dates, and after them (carry-over)"
        )
    if t["cost_per_incremental_result"] is not None:
        text += f"; cost per incremental result {fmt(t['cost_per_incremental_result'])}"
        text += f" {t['currency']}"
    return (
        "<h3>Results inside the plan and after it; attributed and incremental</h3>"
        f'<p class="note">{esc(text)}.</p>' + table([field, *(h for h, _ in heads)], rows)
    )


def _shown(values) -> list[float | None]:
    """Round a column for display by largest remainder (None where unknown)."""
    vals = list(values)
    known = [v for v in vals if v is not None]
    it = iter(round_to_total(known, 2))
    return [None if v is None else next(it) for v in vals]


def _total(shown: list[float | None]) -> float | None:
    """Return the shown total of a shown column (None when a row is unknown)."""
    return None if any(v is None for v in shown) else round(sum(v for v in shown if v), 2)


def period_section(plan) -> str:
    """Render "Results by period" for results that do not add up across periods (reach).

    The note saying why no total is shown, then each period's spend, results and cost per
    result (spend and results rounded by largest remainder). Empty when results add up.
    """
    d = plan_dict(plan)
    if additive(d):
        return ""
    periods = period_rows(d)
    spend = round_to_total([p["spend"] for p in periods], 2)
    rows = [
        [p["period"], s_, round(p["expected_results"], 2), p["cost_per_result"]]
        for p, s_ in zip(periods, spend, strict=True)
    ]
    return f'<h3>Results by period</h3><p class="note">{esc(results_note(d))}.</p>' + table(
        ["period", "spend", "expected results", "cost per result"], rows
    )


def range_table(plan, field: str) -> str:
    """Tabulate per ``field`` (network, segment...) the spend, expected results, P10-P90."""
    d = plan_dict(plan)
    key = dict((f, k) for k, f in RANGE_KINDS)[field]
    ranges = shown_ranges(d).get(key) or {}
    spend: dict[str, float] = {}
    results: dict[str, float] = {}
    for r in plan_rows(d):
        spend[r[field]] = spend.get(r[field], 0.0) + r["spend"]
        results[r[field]] = results.get(r[field], 0.0) + r["expected_results"]
    names = sorted(spend)
    # rounded for display by largest remainder: the shown lines add up to the shown total
    shown_spend = round_to_total([spend[n] for n in names], 2)
    shown_results = round_to_total([results[n] for n in names], 2)
    rows = []
    for name, s_, r_ in zip(names, shown_spend, shown_results, strict=True):
        p10, _, p90 = quantiles_of(ranges.get(name))
        rows.append([name, s_, r_, range_text(p10, p90)])
    return table([field, "spend", "expected results", RESULTS_RANGE], rows)


def ranges_section(plan) -> str:
    """Render "Ranges (P10-P90)": the ranges' note, the target's chance and a cvar plan's risk.

    Then by network and by segment the spend, the expected results and their P10-P90.
    Empty when the plan has no ranges.
    """
    d = plan_dict(plan)
    if ranges_in(d) is None and number(d.get("target_probability")) is None:
        return ""
    parts = ["<h3>Ranges (P10-P90)</h3>", ranges_paragraphs(d)]
    if additive(d):
        parts += [range_table(d, "network"), range_table(d, "segment")]
    else:  # a network's or segment's results are sums across periods: each period's only
        parts.append(range_table(d, "period"))
    return "".join(parts)


def plan_sections(
    plan, *, curves: Curves | None = None, frontier: Sequence[Mapping] | None = None
) -> str:
    """Render the HTML body of one plan.

    Totals, the unspent budget and what stopped it, the ranges (P10-P90, the target's
    chance, a cvar plan's risk), charts, what each rule costs (the ledger), the ends of
    curves, the rules and the lines with why each gets no more.
    """
    d = plan_dict(plan)
    rows = plan_rows(d)
    t = totals(d)
    cur = t["currency"]
    parts = [summary_table(d), period_section(d), unspent_paragraph(d), response_section(d)]
    parts.append(ranges_section(d))
    if rows:
        parts.append(img(spend_chart_png(rows, cur, "Spend by network and period"), "spend"))
    if curves is not None:
        parts.append(img(response_curves_png(curves, rows), "response curves"))
    if frontier:
        parts.append(img(frontier_png(frontier, cur, t["budget"]), "budget frontier"))
    parts += [ledger_section(d), curve_ends_paragraph(d)]
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
