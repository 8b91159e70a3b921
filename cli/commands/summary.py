"""The plan as ``adplan optimize`` prints it: totals, splits, what each rule costs, and why.

Money is rounded for display only, by largest remainder (``scenarios.money``), so the shown
spend of the networks (or segments) adds up to the shown total spend.
"""

from __future__ import annotations

from collections import Counter

from rich.markup import escape
from rich.table import Table

from cli.commands._common import out

#: rows of the split and ledger tables shown (the JSON has them all)
MAX_ROWS = 20
MAX_LEDGER = 8


def fmt(v, digits: int = 0) -> str:
    """Return a number as the CLI shows it: ``12,345`` (``digits`` decimals), ``-`` for None."""
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def print_plan(plan) -> None:
    """Print the plan's summary: the head line, splits, the ledger, curve ends and unfunded.

    Results that cannot be added across periods (reach) show no total: each period's, and
    the note that says why.
    """
    lifted = _lifted(plan)  # (one pass over the lines: 0.15 s at 208,000 lines)
    _head(plan, lifted)
    for kind, title in (("network", "By network"), ("segment", "By segment")):
        out.print(_split(plan, kind, title, lifted))
    if not _additive(plan):
        out.print(_by_period(plan))
    if plan.ledger():
        out.print(_ledger(plan))
    _curve_ends(plan)
    _unfunded(plan)


def _additive(plan) -> bool:
    """Return whether the plan's results add up across periods (reach does not)."""
    return getattr(plan, "results_additive", True) is not False


def summed(plan) -> str:
    """Name a total across periods of the plan's results: reach's is person-periods."""
    rtype = escape(plan.result_type)
    from optimizer.plan import summed_name

    return summed_name(rtype, _additive(plan))


def _head(plan, lifted: bool) -> None:
    cur, rtype = escape(plan.currency), escape(plan.result_type)
    solver = f"({plan.solver.get('name')}, {plan.solver.get('seconds', 0):.2f} s)"
    if not _additive(plan):
        out.print(
            f"[bold]{plan.status}[/]: spend {fmt(plan.total_spend)} {cur} of "
            f"{fmt(plan.budget)} -> {rtype}: not additive across periods, see each period "
            f"below {solver}",
            highlight=False,
        )
        out.print(escape(plan.results_note), highlight=False)
    else:
        out.print(
            f"[bold]{plan.status}[/]: spend {fmt(plan.total_spend)} {cur} of "
            f"{fmt(plan.budget)} -> {fmt(plan.expected_results, 1)} {rtype} at "
            f"{fmt(plan.cost_per_result, 2)} {cur} each {solver}",
            highlight=False,
        )
        _response(plan, lifted)
    _ranges(plan)
    if plan.expected_value is not None:
        out.print(f"expected value: {fmt(plan.expected_value, 2)} {cur}", highlight=False)
    if plan.expected_profit is not None:
        out.print(
            f"expected profit (value - spend): {fmt(plan.expected_profit, 2)} {cur}",
            highlight=False,
        )


def _response(plan, lifted: bool) -> None:
    """Print the results inside the plan and after it, and attributed beside incremental."""
    rtype, cur = escape(plan.result_type), escape(plan.currency)
    inside, after = getattr(plan, "results_inside", None), getattr(plan, "results_after", None)
    if inside is not None:
        from scenarios.money import round_to_total

        # rounded together, so that the two add up to the headline's results as shown there
        shown_in, shown_after = round_to_total([inside, after or 0.0], 1)
        gap = round(float(f"{plan.expected_results:.1f}") - (shown_in + shown_after), 1)
        if gap:  # the headline rounds a half to even, largest remainder rounds it up
            shown_in, shown_after = (
                (shown_in + gap, shown_after)
                if shown_in >= shown_after
                else (shown_in, shown_after + gap)
            )
        out.print(
            f"{rtype} inside the plan's dates: {shown_in:,.1f}; after them (carry-over): "
            f"{shown_after:,.1f}",
            highlight=False,
        )
    att = getattr(plan, "results_attributed", None)
    inc = getattr(plan, "results_incremental", None)
    if att is None and inc is None and not lifted:
        return
    basis = getattr(plan, "results_basis", "attributed")
    cpi = getattr(plan, "cost_per_incremental_result", None)
    out.print(
        f"attributed {rtype}: {fmt(att, 1)} | incremental {rtype}: {fmt(inc, 1)} at "
        f"{fmt(cpi, 2)} {cur} each (the plan maximises {basis} {rtype})",
        highlight=False,
    )


def _lifted(plan) -> bool:
    """Return whether any line of the plan shows attributed or incremental results."""
    return any(
        getattr(ln, "results_attributed", None) is not None
        or getattr(ln, "results_incremental", None) is not None
        for ln in plan.lines
    )


def _by_period(plan) -> Table:
    """Return each period's spend and results (with inside / attributed / incremental)."""
    from scenarios.money import round_to_total

    cur, rtype = escape(plan.currency), escape(plan.result_type)
    periods = sorted(plan.by_period().items())
    shown = round_to_total([v["spend"] for _, v in periods])
    extra = [
        (key, words)
        for key, words in (
            ("results_inside", "inside the plan"),
            ("results_attributed", "attributed"),
            ("results_incremental", "incremental"),
        )
        if any(key in v for _, v in periods)
    ]
    title = f"By period ({rtype} per period: not additive across periods)"
    t = Table(title=title, title_justify="left")
    for name, justify in (("period", "left"), (f"spend ({cur})", "right"), (rtype, "right")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    t.add_column("P10-P90", justify="right")
    t.add_column("cost/result", justify="right")
    for _, words in extra:
        t.add_column(words, justify="right")
    for (name, v), s in list(zip(periods, shown, strict=True))[:MAX_ROWS]:
        t.add_row(
            escape(name),
            fmt(s),
            fmt(v["expected_results"], 1),
            _band(plan, "period", name),
            fmt(v["cost_per_result"], 2),
            *(fmt(v.get(key), 1) for key, _ in extra),
        )
    if len(periods) > MAX_ROWS:
        t.caption = f"... and {len(periods) - MAX_ROWS} more"
    return t


def _ranges(plan) -> None:
    """Print the total's P10-P90, the cost per result's, and the chance of the target."""
    r, rtype, cur = plan.ranges, escape(plan.result_type), escape(plan.currency)
    if r is None or "total" not in r:
        return
    t, c = r["total"], r["cost_per_result"]
    if r["source"] == "none":
        out.print(escape(r["note"]), highlight=False)
    elif _additive(plan):  # (no total across periods otherwise: each period's band below)
        out.print(
            f"P10-P90: {fmt(t['p10'])} to {fmt(t['p90'])} {rtype} (median {fmt(t['p50'])}); "
            f"cost per result {fmt(c['p10'], 2)} to {fmt(c['p90'], 2)} {cur} "
            f"({r['scenarios']:,} simulated scenarios)",
            highlight=False,
        )
    if plan.target_probability is not None:
        out.print(
            f"chance of reaching {fmt(plan.target_results)} {summed(plan)}: "
            f"{plan.target_probability:.1%}",
            highlight=False,
        )
    if plan.risk is not None:
        out.print(escape(plan.risk["words"]), highlight=False)


def _band(plan, kind: str, name: str) -> str:
    """Return a group's P10-P90 of results as the split tables show it."""
    r = (plan.ranges or {}).get(kind + "s", {}).get(name)
    if r is None or (plan.ranges or {}).get("source") == "none":
        return "-"
    return f"{fmt(r['p10'])}-{fmt(r['p90'])}"


def _split(plan, kind: str, title: str, lifted: bool) -> Table:
    """Return the spend, share, results and cost per result of each network (or segment).

    With lines that show attributed and incremental results, both columns; with results
    that do not add up across periods (reach), spend and share only.
    """
    from scenarios.money import round_to_total

    cur = escape(plan.currency)
    totals = sorted(plan.totals_by(kind).items(), key=lambda kv: -kv[1]["spend"])
    shown = round_to_total([v["spend"] for _, v in totals])
    t = Table(title=title, title_justify="left")
    for name, justify in ((kind, "left"), (f"spend ({cur})", "right"), ("share", "right")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    additive = _additive(plan)
    if additive:
        t.add_column(escape(plan.result_type), justify="right")
        t.add_column("P10-P90", justify="right")
        t.add_column("cost/result", justify="right")
        if lifted:
            t.add_column("attributed", justify="right")
            t.add_column("incremental", justify="right")
    side = _side_by_side(plan, kind) if additive and lifted else {}
    for (name, v), s in list(zip(totals, shown, strict=True))[:MAX_ROWS]:
        share = v["spend"] / plan.total_spend if plan.total_spend else 0.0
        if not additive:
            t.add_row(escape(name), fmt(s), f"{share:.1%}")
            continue
        cpr = v["spend"] / v["expected_results"] if v["expected_results"] > 0 else None
        t.add_row(
            escape(name),
            fmt(s),
            f"{share:.1%}",
            fmt(v["expected_results"], 1),
            _band(plan, kind, name),
            fmt(cpr, 2),
            *([fmt(x, 1) for x in side.get(name, (None, None))] if lifted else []),
        )
    if len(totals) > MAX_ROWS:
        t.caption = f"... and {len(totals) - MAX_ROWS} more"
    return t


def _side_by_side(plan, kind: str) -> dict[str, tuple[float | None, float | None]]:
    """Return each network's (or segment's) attributed and incremental results.

    None where a funded line of the group lacks them (no lift test; a ratio of 0).
    """
    from optimizer.plan import known_sum

    groups: dict[str, list] = {}
    for ln in plan.lines:
        groups.setdefault(getattr(ln, kind), []).append(ln)
    return {
        name: (known_sum(lines, "results_attributed"), known_sum(lines, "results_incremental"))
        for name, lines in groups.items()
    }


def _cvar_ledger(plan) -> Table:
    """Return the rules binding a risk-aware plan and their prices (not re-solved)."""
    cur = escape(plan.currency)
    t = Table(title="The rules that bind the risk-aware plan", title_justify="left")
    rules = plan.ledger()
    t.add_column("rule")
    t.add_column("id", no_wrap=True, min_width=max(len(c.name) for c in rules[:MAX_LEDGER]))
    t.add_column("worst-scenario price", justify="right")
    for c in rules[:MAX_LEDGER]:
        per = (
            f"{c.shadow_price * 1000:+,.1f} per 1,000 {cur}"
            if c.unit == plan.currency
            else (f"{c.shadow_price:+.4g}/{escape(c.unit) or 'unit'}")
        )
        t.add_row(escape(c.description), escape(c.name), per)
    t.caption = (
        f"the {summed(plan)} of the worst scenarios' mean gained per extra room on the rule: a rate at "
        "the margin; a risk-aware plan does not re-solve its rules one by one"
    )
    return t


def _ledger(plan) -> Table:
    """Return what each binding rule costs: measured by a re-solve, beside its shadow price."""
    if plan.objective == "cvar":
        return _cvar_ledger(plan)
    cur, rtype = escape(plan.currency), escape(plan.result_type)
    what = rtype if plan.objective == "results" else plan.objective
    if plan.objective == "results" and not plan.results_additive:
        what = summed(plan)  # the LP adds reach over periods; never people
    t = Table(title="What each rule costs", title_justify="left")
    rules = plan.ledger()
    t.add_column("rule")
    t.add_column("id", no_wrap=True, min_width=max(len(c.name) for c in rules[:MAX_LEDGER]))
    t.add_column(f"{what} if removed", justify="right")
    t.add_column(f"per 1,000 {cur}", justify="right")
    t.add_column("next result", justify="right")
    for c in rules[:MAX_LEDGER]:
        gain = fmt(c.gain_if_removed, 1)
        if c.gain_if_removed is not None and c.gain_proven is False:
            gain = f">= {gain}"
        per = fmt(c.per_1000, 1) if c.per_1000 is not None else f"{c.shadow_price:+.4g}/{c.unit}"
        nxt = "-" if c.next_result_cost is None else f"{c.next_result_cost:,.2f} {cur}"
        t.add_row(escape(c.description), escape(c.name), gain, per, nxt)
    more = (
        f" ... and {len(rules) - MAX_LEDGER} more in the plan's ledger."
        if len(rules) > MAX_LEDGER
        else ""
    )
    t.caption = (
        f"if removed: {what} gained, re-solved without the rule. Per 1,000 {cur}: the shadow "
        f"price, a rate at the margin, not the rule's cost.{more}"
    )
    return t


def _curve_ends(plan) -> None:
    """Say how many lines sit at the end of their curves (the forecast's caps)."""
    ends = [ln for ln in plan.lines if ln.limited_by and ln.limited_by.cause == "curve_end"]
    if not ends:
        return
    held = sum(ln.spend for ln in ends)
    share = held / plan.total_spend if plan.total_spend else 0.0
    out.print(
        f"{len(ends)} lines holding {share:.0%} of the spend are at the end of their curves "
        "(the forecast's caps): they cannot take more ('curve_end' in the plan's constraints).",
        highlight=False,
    )


def _unfunded(plan) -> None:
    """Say how many lines get no spend, by the cause that binds them."""
    if not plan.unfunded:
        return
    causes = Counter(u.get("rule") or u.get("cause") for u in plan.unfunded)
    parts = ", ".join(f"{n} {escape(str(c))}" for c, n in causes.most_common(4))
    more = ", ..." if len(causes) > 4 else ""
    out.print(
        f"{len(plan.unfunded)} lines get no spend ({parts}{more}; see 'unfunded' in the plan).",
        highlight=False,
    )
