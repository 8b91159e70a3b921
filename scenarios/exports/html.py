"""Self-contained HTML reports: escaped tables and charts embedded as PNG data URIs."""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence

from optimizer import Curves
from optimizer.plan import summed_name

from ..money import round_half, round_to_total
from . import people
from .charts import frontier_png, response_curves_png, spend_chart_png
from .plan import (
    CSV_COLUMNS,
    NOT_ADDITIVE,
    RANGE_KINDS,
    RESPONSE_COLUMNS,
    additive,
    cost_per_result,
    curve_ends,
    has_response,
    ledger_entries,
    no_range,
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
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td:first-child{white-space:nowrap}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
.bad{color:#b00020}.note{color:#555;font-size:.9em}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:.6em 0}
.kpi{border:1px solid #d5dbe3;border-radius:6px;padding:8px 14px;min-width:200px;background:#f8fafc}
.kpi .k{font-size:.8em;color:#555}.kpi .v{font-size:1.5em;font-weight:600}
.kpi .s{font-size:.8em;color:#555}
th.g{text-align:center;background:#e4e9f0}tr.total td{font-weight:600;border-top:2px solid #999}
figure{margin:1em 0}figcaption{color:#555;font-size:.85em}
details{margin:.5em 0}summary{cursor:pointer;color:#1f4e79}
"""


#: headers of text columns shown right-aligned, as numbers are (ranges, chances, changes)
RIGHT = re.compile(r"P10-P90|chance|change")
#: what a range or a chance that is not there shows
NONE = "-"


def esc(v) -> str:
    """Escape ``v`` as HTML text (None is empty)."""
    return html.escape("" if v is None else str(v))


def fmt(v, digits: int = 2, parens: bool = False) -> str:
    """Format a cell's text; ``parens`` writes negatives as (1,234.00), the finance way.

    Numbers are rounded to ``digits`` as every export rounds (:func:`~scenarios.money.round_half`:
    halves away from zero, on the decimal form: 174.5 is 175, as in the XLSX), with
    thousands separators; booleans are yes/no and None is empty.
    """
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        v = round_half(v, digits)  # never "-0.00"
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
    out = ["<table><thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    out += [f"<tr>{cells(headers, r, digits)}</tr>" for r in rows]
    out.append("</tbody></table>")
    return "".join(out)


def cells(headers: Sequence[str], row: Sequence, digits: dict | None = None) -> str:
    """Render one table row's ``<td>`` cells as :func:`table` does."""
    digits = digits or {}
    out = []
    for h, v in zip(headers, row, strict=False):
        num = isinstance(v, int | float) and not isinstance(v, bool)
        cls = ' class="n"' if num or RIGHT.search(h) else ""
        text = fmt(v, digits.get(h, 2), parens="Over/(under)" in h)
        out.append(f"<td{cls}>{esc(text)}</td>")
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
    share = "" if ends["share"] is None else f" holding {percent(ends['share'], 0)} of spend"
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
    return NONE if x is None else percent(x)


def percent(share: float, digits: int = 1, sign: bool = False) -> str:
    """Write a share as a percentage rounded as every export rounds ("62.5%", "+5.2%")."""
    text = fmt(100 * share, digits)
    return f"+{text}%" if sign and not text.startswith("-") else f"{text}%"


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
    if t["off_plan_spend"] is not None:  # a re-plan: the budget as set, spent off the plan too
        heads.insert(2, "off-plan spend")
        row.insert(2, t["off_plan_spend"])
    summed = additive(d)
    if not summed:  # reach: no total across periods (each period's in "Results by period")
        at = heads.index("expected results")
        row[at : at + 2] = [NOT_ADDITIVE, NOT_ADDITIVE]
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
            None if i is None or r is None else round_half(r - i, 2)
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
    return None if any(v is None for v in shown) else round_half(math.fsum(v for v in shown if v))


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
        [p["period"], s_, round_half(p["expected_results"], 2), p["cost_per_result"]]
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
    """Render "Ranges (P10-P90)": how the ranges were made, then the ranges by group.

    By network and by segment the spend, the expected results and their P10-P90 (by period
    when results do not add up across periods). Empty when the plan has no ranges. The
    chance of reaching a target and a cvar plan's risk are in the totals (:func:`totals_section`).
    """
    d = plan_dict(plan)
    if ranges_in(d) is None:
        return ""
    head = ["<h3>Ranges (P10-P90)</h3>", f'<p class="note">{esc(ranges_note(d))}.</p>']
    if additive(d):
        tables = range_table(d, "network") + range_table(d, "segment")
        what = "by network and by segment"
    else:  # a network's or segment's results are sums across periods: each period's only
        tables, what = range_table(d, "period"), "by period"
    return "".join(head) + _fold(tables, f"spend, expected results and P10-P90 {what}")


def money(v, currency: str = "", digits: int = 0) -> str:
    """Write an amount for people: "250,000 EUR" (``digits`` decimals, "-" when unknown)."""
    x = number(v)
    if x is None:
        return NONE
    return f"{fmt(x, digits)} {currency}".strip()


def kpi(label: str, value: str, sub: str = "") -> str:
    """Render one headline figure: its label, its value and a line under it."""
    under = f'<div class="s">{esc(sub)}</div>' if sub else ""
    return f'<div class="kpi"><div class="k">{esc(label)}</div><div class="v">{esc(value)}</div>{under}</div>'


def _range_words(d: Mapping, kind: str) -> str:
    """Say the P10-P90 of the total results or the cost per result ("" without ranges)."""
    if ranges_in(d) is None:
        return ""
    if no_range(d):
        return "no range: the curves carry no uncertainty"
    if kind == "total":
        return f"P10-P90 {range_text(*total_range(d))}"
    cpr = quantiles_of(shown_ranges(d).get("cost_per_result"))
    return f"P10-P90 {range_text(cpr[0], cpr[2], 2)}"


def headline(plan) -> str:
    """Render the plan's headline figures: spend, results and cost per result with ranges.

    With a ``previous`` period, its actual spend and results too. Results that do not add
    up across periods (reach) show "not additive" and why.
    """
    d = plan_dict(plan)
    t = totals(d)
    cur, what = t["currency"], t["result_type"] or "results"
    cents = 2 if isinstance(d.get("replan"), Mapping) else 0  # beside its off-plan cents
    parts = [kpi("total spend", money(t["total_spend"], cur, cents), _budget_words(d))]
    if additive(d):
        parts.append(
            kpi(f"expected {what}", fmt(t["expected_results"], 0), _range_words(d, "total"))
        )
        cpr = money(t["cost_per_result"], cur, 2)
        parts.append(kpi("cost per result", cpr, _range_words(d, "cpr")))
    else:
        parts.append(kpi(f"expected {what}", NOT_ADDITIVE, results_note(d) or ""))
    prev = previous_in(d)
    if prev is not None:
        sub = f"{prev['from']} to {prev['to']}"
        if additive(d):
            sub = f"{fmt(prev['total']['results'], 0)} {what}; " + sub
        parts.append(kpi("previous period, actual spend", money(prev["total"]["spend"], cur), sub))
    return f'<div class="kpis">{"".join(parts)}</div>'


def _budget_words(d: Mapping) -> str:
    """Say the budget under the total spend; for a re-plan the off-plan spend and the budget as set.

    A re-plan's figures are in cents, as its tables and its workbook show them
    (:func:`.replan.replan_shown`).
    """
    cur = totals(d)["currency"]
    if isinstance(d.get("replan"), Mapping):
        from .replan import replan_shown

        items = {b["item"]: b["amount"] for b in replan_shown(d)[0]}
        return (
            f"plus {money(items['off-plan spend'], cur, 2)} off-plan, of a "
            f"{money(items['budget as set'], cur, 2)} budget as set"
        )
    budget = totals(d)["budget"]
    return "" if budget is None else f"of a {money(budget, cur)} budget"


def previous_in(plan) -> dict | None:
    """Return the plan's ``previous`` period (:mod:`scenarios.previous`), None without one.

    Its totals and groups are read as numbers (missing ones 0).
    """
    p = plan_dict(plan).get("previous")
    if not isinstance(p, Mapping) or not isinstance(p.get("total"), Mapping):
        return None

    def figures(x) -> dict[str, float]:
        x = x if isinstance(x, Mapping) else {}
        return {k: number(x.get(k)) or 0.0 for k in ("spend", "results")}

    out = dict(p)
    out["total"] = figures(p["total"])
    for key in ("networks", "segments"):
        groups = p.get(key)
        items = groups.items() if isinstance(groups, Mapping) else ()
        out[key] = {str(n): figures(v) for n, v in items}
    return out


def previous_paragraph(plan) -> str:
    """Say what the previous period is and what it spent, or that no history was given."""
    d = plan_dict(plan)
    prev = previous_in(d)
    if prev is None:
        return (
            '<p class="note">No history was given with this plan, so it is not compared with '
            "the previous period's actual spend (a plan made from ad history carries it: "
            'its key "previous").</p>'
        )
    t = totals(d)
    cur, what = t["currency"], prev.get("result_type") or t["result_type"] or "results"
    text = (
        f"Previous period: {prev['from']} to {prev['to']}, the days just before the plan's "
        f"first day, as many as the plan has; {prev.get('rows', 0):,} history rows of {what}: "
        f"{money(prev['total']['spend'], cur)} spent"
    )
    if additive(d):
        text += f", {fmt(prev['total']['results'], 0)} {what}"
        cpr = cost_per_result(prev["total"]["spend"], prev["total"]["results"])
        if cpr is not None:
            text += f" at {money(cpr, cur, 2)} each"
    if not prev.get("rows"):
        text += " (the history has no rows in that period)"
    return f"<p>{esc(text)}.</p>"


def totals_section(plan) -> str:
    """Render the report's opening: headline figures, the totals table, chance, risk.

    Then the previous period, the budget left unspent and, for results that do not add up
    across periods, each period's results.
    """
    d = plan_dict(plan)
    parts = [
        '<section id="totals"><h2>Totals</h2>',
        headline(d),
        summary_table(d),
        ranges_paragraphs(d, note=False),
        previous_paragraph(d),
        unspent_paragraph(d),
        period_section(d),
        "</section>",
    ]
    return "".join(parts)


def change_text(new: float, old: float, digits: int = 0) -> str:
    """Write a change: "+12,345 (+5.2%)"; "(new)" when there was nothing before.

    Rounded as every export rounds (:func:`fmt`): the change to ``digits`` decimals, its
    share of ``old`` to one.
    """
    diff = round_half(new - old, digits)
    text = fmt(diff, digits)
    text = text if text.startswith("-") else f"+{text}"
    if old:
        return f"{text} ({percent(diff / old, sign=True)})"
    return text if not new else f"{text} (new)"


def group_figures(plan, field: str) -> list[dict]:
    """Return per ``field`` (network, segment) the planned and previous spend and results.

    Each row: ``name``, ``spend``, ``results`` (the plan's), ``previous_spend``,
    ``previous_results`` (0 without a previous period or a row in it); the plan's groups by
    planned spend (most first), then the previous period's others by name.
    """
    d = plan_dict(plan)
    planned: dict[str, list[float]] = {}
    for r in plan_rows(d):
        acc = planned.setdefault(r[field], [0.0, 0.0])
        acc[0] += r["spend"]
        acc[1] += r["expected_results"]
    prev = (previous_in(d) or {}).get(f"{field}s") or {}
    names = sorted(planned, key=lambda n: (-planned[n][0], n))
    names += sorted(n for n in prev if n not in planned)
    return [
        {
            "name": n,
            "spend": planned.get(n, [0.0, 0.0])[0],
            "results": planned.get(n, [0.0, 0.0])[1],
            "previous_spend": prev.get(n, {}).get("spend", 0.0),
            "previous_results": prev.get(n, {}).get("results", 0.0),
        }
        for n in names
    ]


def group_table(plan, field: str) -> str:
    """Tabulate per ``field`` the plan against the previous period's actuals, with a total.

    Planned spend and results (and the results' P10-P90 when the plan has ranges), the
    previous period's actual spend and results and the change. Each column is rounded to
    whole units by largest remainder, so the shown rows add up to the shown total and the
    changes are those of the shown figures. Results that do not add up across periods
    (reach) show spend only.
    """
    d = plan_dict(plan)
    t, rows = totals(d), group_figures(d, field)
    cur, what = t["currency"], t["result_type"] or "results"
    keys = ["spend", "results", "previous_spend", "previous_results"]
    if not additive(d):
        keys = ["spend", "previous_spend"]
    shown = {k: round_to_total([r[k] for r in rows], 0) for k in keys}
    total = {k: float(sum(shown[k])) for k in keys}
    ranges = shown_ranges(d).get(f"{field}s") if ranges_in(d) is not None else None
    with_prev = previous_in(d) is not None
    body = [
        _group_cells(r["name"], {k: shown[k][i] for k in keys}, ranges, with_prev)
        for i, r in enumerate(rows)
    ]
    body.append(
        _group_cells(
            "total",
            total,
            None if ranges is None else {"total": shown_ranges(d).get("total")},
            with_prev,
        )
    )
    heads, groups = _group_heads(field, cur, what, keys, ranges is not None, with_prev)
    return grouped_table(groups, heads, body)


def _group_heads(
    field, cur, what, keys, ranged, with_prev
) -> tuple[list[str], list[tuple[str, int]]]:
    """Return the group table's headers and its header groups (planned, previous, change)."""
    money_h, res_h = f"spend ({cur})" if cur else "spend", what
    planned = (
        [money_h] + ([res_h] if "results" in keys else []) + (["results P10-P90"] if ranged else [])
    )
    heads, groups = [field, *planned], [("", 1), ("planned", len(planned))]
    if with_prev:
        prev = [money_h] + ([res_h] if "results" in keys else [])
        change = ["spend change"] + ([f"{what} change"] if "results" in keys else [])
        heads += [*prev, *change]
        groups += [("previous period (actual)", len(prev)), ("change", len(change))]
    return heads, groups


def _group_cells(name: str, v: Mapping, ranges, with_prev: bool) -> list:
    """Return one row of the group table: shown figures, range and changes."""
    row: list = [name, v["spend"]]
    if "results" in v:
        row.append(v["results"])
    if ranges is not None:
        key = "total" if name == "total" and "total" in ranges else name
        p10, _, p90 = quantiles_of(ranges.get(key))
        row.append(range_text(p10, p90))
    if with_prev:
        row.append(v["previous_spend"])
        if "results" in v:
            row.append(v["previous_results"])
        row.append(change_text(v["spend"], v["previous_spend"]))
        if "results" in v:
            row.append(change_text(v["results"], v["previous_results"]))
    return row


def grouped_table(
    groups: Sequence[tuple[str, int]], heads: Sequence[str], rows: Sequence[Sequence]
) -> str:
    """Render a table under two header rows: the groups (text, columns) and the headers.

    Numbers are shown whole (0 decimals); the last row is the total, shown bold.
    """
    top = "".join(
        f'<th class="g" colspan="{n}">{esc(g)}</th>' if g else "<th></th>" for g, n in groups
    )
    out = [f"<table><thead><tr>{top}</tr><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    digits = dict.fromkeys(heads, 0)
    for i, r in enumerate(rows):
        cls = ' class="total"' if i == len(rows) - 1 else ""
        out.append(f"<tr{cls}>{cells(heads, r, digits)}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def groups_section(plan) -> str:
    """Render "By network and segment": the plan against the previous period's actuals."""
    d = plan_dict(plan)
    if not plan_rows(d):
        return ""
    title = "By network and segment"
    if previous_in(d) is not None:
        title += ": plan against the previous period's actual spend"
    note = (
        '<p class="note">Whole units, each column rounded by largest remainder so the rows '
        "add up to the total shown; changes are planned less previous.</p>"
    )
    return (
        f'<section id="groups"><h2>{esc(title)}</h2>{note}'
        f"{group_table(d, 'network')}{group_table(d, 'segment')}</section>"
    )


def figure(png: bytes, alt: str, caption: str) -> str:
    """Embed a chart with its alt text (what its axes are) and a caption under it."""
    return f"<figure>{img(png, alt)}<figcaption>{esc(caption)}</figcaption></figure>"


def spend_figure(rows: list[dict], cur: str, title: str = "Spend by network and period") -> str:
    """Embed the chart of the spend per period and network (stacked bars)."""
    alt = f"{title}: stacked bars, x axis period, y axis spend ({cur}) from 0"
    return figure(spend_chart_png(rows, cur, title), alt, f"{title} ({cur}).")


def curves_figure(curves: Curves, rows: list[dict], what: str) -> str:
    """Embed the response curves: one panel per network, planned point and cap marked."""
    cur = curves.currency
    alt = (
        f"Response curves by network: x axis spend ({cur}) from 0, y axis {what} from 0; "
        "on each the planned point and the curve's cap (its end) are marked and labelled"
    )
    caption = (
        f"Each network's curve: the most {what} its lines (every segment and period) bring "
        "for each spend, cheapest first; the red dot is the plan, the grey square the cap. "
        "A dot below its curve is what the rules cost that network."
    )
    return figure(response_curves_png(curves, rows, results_name=what), alt, caption)


def frontier_figure_html(points: Sequence[Mapping], cur: str, budget) -> str:
    """Embed the budget frontier: budget against expected results, both axes from zero."""
    alt = (
        f"Budget frontier: x axis budget ({cur}) from 0, y axis expected results from 0, "
        f"right axis marginal cost per result ({cur}); the chosen budget dotted"
    )
    caption = "What each budget would bring, with the P10-P90 band where the plan has ranges."
    return figure(frontier_png(points, cur, budget), alt, caption)


def charts_section(plan, curves: Curves | None, frontier: Sequence[Mapping] | None) -> str:
    """Render "Charts": the spend, the response curves (with ``curves``), the frontier."""
    d = plan_dict(plan)
    rows, t = plan_rows(d), totals(d)
    cur = t["currency"]
    what = summed_name(t["result_type"] or "results", additive(d))
    parts = ['<section id="charts"><h2>Charts</h2>']
    if rows:
        parts.append(spend_figure(rows, cur))
    if curves is not None:
        parts.append(curves_figure(curves, rows, what))
    else:
        parts.append(
            '<p class="note">No response curves: this report was made from the plan alone '
            "(pass the curves: plan_html_text(plan, curves=...)).</p>"
        )
    if frontier and any(number(p.get("expected_results")) is not None for p in frontier):
        parts.append(frontier_figure_html(frontier, cur, t["budget"]))
    parts.append("</section>")
    return "".join(parts)


#: a shadow price or a gain smaller than this is no cost
EPS = 1e-9


def costs_something(c: Mapping) -> bool:
    """Say whether a rule binds or costs something (a shadow price or a gain if removed)."""
    if c.get("binding"):
        return True
    return any(abs(number(c.get(k)) or 0.0) > EPS for k in ("shadow_price", "gain_if_removed"))


def rules_section(constraints: Sequence[Mapping]) -> str:
    """Render "Rules": those that bind or cost something, the others folded with a count."""
    if not constraints:
        return ""
    shown = [c for c in constraints if costs_something(c)]
    rest = [c for c in constraints if not costs_something(c)]
    parts = ["<h3>Rules</h3>"]
    if shown:
        parts.append(
            f'<p class="note">{len(shown)} of {len(constraints)} rules bind or cost something.</p>'
        )
        parts.append(rules_table(shown))
    else:
        parts.append(f'<p class="note">None of the {len(constraints)} rules binds.</p>')
    if rest:
        n = len(rest)
        parts.append(
            f"<details><summary>{n} rule{'' if n == 1 else 's'} that do not bind and cost "
            f"nothing</summary>{rules_table(rest)}</details>"
        )
    return "".join(parts)


def lines_section(rows: Sequence[Mapping]) -> str:
    """Render "Lines": the plan lines' table (:func:`lines_table`), folded with a count."""
    n = len(rows)
    return (
        f"<h3>Lines</h3><details><summary>{n:,} plan line{'' if n == 1 else 's'} with why "
        f"each gets no more</summary>{lines_table(rows)}</details>"
    )


def replan_section(plan) -> str:
    """Render "Plan against actual" for a re-plan ("" for any other plan).

    The budget as the user set it and where it goes (off-plan spend on its own line), then
    per period and per line the planned, actual and re-planned spend and the variance, and
    the actual results of the elapsed periods. Money rounded by largest remainder.
    """
    from .replan import is_replan, replan_shown

    d = plan_dict(plan)
    if not is_replan(d):
        return ""
    cur = str(d.get("currency") or "")
    sec = d["replan"]
    budget, periods, lines = replan_shown(d)
    rows = [[b["item"], b["amount"]] for b in budget]
    parts = [
        f'<section id="replan"><h2>Plan against actual, as of {esc(sec.get("as_of", ""))}</h2>',
        f'<p class="note">Money in {esc(cur)}; the items under the budget as set add up to '
        "it. Variance: re-planned less planned; actual results are those of the elapsed "
        "periods.</p>",
        table(["budget", "amount"], rows, {"amount": people.decimals("amount")}),
        "<h3>By period</h3>",
        _replan_table(periods, ["period", "status"]),
        "<h3>By line</h3>",
        _fold(
            _replan_table(lines, ["network", "segment", "period", "status"]),
            "lines and periods",
        ),
        "</section>",
    ]
    return "".join(parts)


#: the re-plan tables' figures: (header, key of :func:`.replan.replan_lines`)
REPLAN_HEADS = (
    ("planned spend", "planned_spend"),
    ("actual spend", "actual_spend"),
    ("re-planned spend", "replanned_spend"),
    ("spend Over/(under) plan", "spend_variance"),
    ("planned results", "planned_results"),
    ("actual results", "actual_results"),
    ("re-planned results", "replanned_results"),
    ("results Over/(under) plan", "results_variance"),
)


def _replan_table(rows: list[dict], names: list[str]) -> str:
    """Tabulate re-plan rows as shown (:func:`.replan.replan_shown`), then their total.

    Each figure with the decimals its kind is shown with everywhere
    (:func:`.people.decimals`: money in cents, results in tenths).
    """
    digits = {h: people.decimals(k) for h, k in REPLAN_HEADS}
    total = {h: _known_total([r[k] for r in rows], digits[h]) for h, k in REPLAN_HEADS}
    body = [[*(r[n] for n in names), *(r[k] for _, k in REPLAN_HEADS)] for r in rows]
    body.append(["total", *[""] * (len(names) - 1), *(total[h] for h, _ in REPLAN_HEADS)])
    return table([*names, *(h for h, _ in REPLAN_HEADS)], body, digits)


def _known_total(shown: list[float | None], digits: int | None) -> float | None:
    """Return the sum of a column's known shown values (open periods have no actuals)."""
    known = [v for v in shown if v is not None]
    return round_half(math.fsum(known), digits or 0) if known else None


def _fold(html_text: str, what: str) -> str:
    """Fold a long table inside ``<details>``."""
    return f"<details><summary>{esc(what)}</summary>{html_text}</details>"


def plan_sections(
    plan, *, curves: Curves | None = None, frontier: Sequence[Mapping] | None = None
) -> str:
    """Render the HTML body of one plan, the totals first.

    Totals and ranges (with the chance of a target, a cvar plan's risk, the previous
    period, the unspent budget); for a re-plan, plan against actual; by network and segment
    against the previous period's actuals; the charts (spend; with ``curves`` the response
    curves; with ``frontier`` the budget frontier); then the details: results inside and
    after the plan, the ranges by group, what each rule costs (the ledger), the ends of
    curves, the rules that bind (the others folded) and the lines (folded).
    """
    d = plan_dict(plan)
    rows = plan_rows(d)
    parts = [
        totals_section(d),
        replan_section(d),
        groups_section(d),
        charts_section(d, curves, frontier),
        '<section id="details"><h2>Details</h2>',
        response_section(d),
        ranges_section(d),
        ledger_section(d),
        curve_ends_paragraph(d),
        rules_section(d.get("constraints") or []),
        lines_section(rows),
        "</section>",
    ]
    return "".join(parts)


def plan_html_text(
    plan,
    *,
    curves: Curves | None = None,
    frontier: Sequence[Mapping] | None = None,
    title: str = "adplan: plan",
) -> str:
    """Render a self-contained HTML page for one plan (no external files, charts inline).

    ``plan`` is a :class:`~optimizer.Plan` (or its Plan JSON dict, with its ``previous``
    period when it has one: :mod:`scenarios.previous`); ``curves`` adds the response
    curves, ``frontier`` (points of ``adplan frontier``) the budget frontier.
    """
    return page(title, plan_sections(plan, curves=curves, frontier=frontier))
