"""Why each line gets what it gets: the cause that binds it, in order of evidence.

For every planned line the next tier of its curve (the first not full; the last when the line
is at the end of its curve) is read against the LP's duals:

1. a user rule that holds the line: a binding row on the tier, directly or through its
   network's, segment's or period's spend column, that more spend here would break (the
   largest ``dual x coefficient`` first; a cap of 0 or a rule on that line alone counts even
   with a zero dual: no price could get the line spend while it holds);
2. the end of its curve (the forecast's cap), with its own shadow value: the reduced cost of
   the last tier, what one more unit of currency there would bring if the curve went on;
3. the on/off minimum (``min_line_spend``, or the platform's ``min_daily_spend`` x the days
   of the period) or the count of lines on (``max_active_lines``, when its row is at its
   limit), for a line switched off whose first tier is worth more than the price of money
   elsewhere; a re-plan's running line that stops at what it spent says "stopped at the
   50 EUR already spent" and what going on would cost (it counts as on either way);
4. price: its next result costs more than a unit of currency brings elsewhere; the reason
   says how much cheaper its results would have to be. Under ``profit`` with money to spare,
   the next result costs more than it is worth.

Lines whose next tier has a reduced cost of 0 (to 1e-7 relative) are at the margin: one
alone takes the last of the money (its binding rule is the budget, or whichever rule sets the
price); several are a tie, and each gets the bounds, found by LP ranging (HiGHS, the plan's
objective held), within which any split between them is as good.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from .model import Model
from .rules import CUT_FAMILIES, fmt
from .rules.onoff import LineMinimum
from .solvers import HighsSolver, Solution, at_limits, reduced_costs, row_activity

#: reduced costs within this fraction of the tier's objective count as 0 (a tie): CBC's
#: values carry about 8 digits, so a finer test would call its noise a price
TIE_RTOL = 1e-7
#: a tier filled to within this fraction of its width (or 1e-7 of currency) is full
FULL_RTOL = 1e-7
#: the most tied lines whose bounds are found by LP ranging (two solves each), and the
#: seconds the ranging may take in all (lines left over are told as ties without bounds)
MAX_RANGED = 12
RANGE_SECONDS = 2.0
#: rule families a line's limit cannot be blamed on: they set the price of money, not a line
PRICE_FAMILIES = frozenset({"budget", "target", "max_cost_per_result"})


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one line gets no more than it gets.

    ``cause``: ``rule``, ``curve_end``, ``on_off``, ``price``, ``not_worth``, ``tie``,
    ``margin`` or ``no_results`` (the module docstring says when each holds).
    """

    cause: str
    words: str
    rule: str | None = None
    rule_words: str | None = None
    shadow_value: float | None = None
    cheaper_by_pct: float | None = None
    needed_cost_per_result: float | None = None
    low: float | None = None
    high: float | None = None
    tied_with: int | None = None

    def to_dict(self) -> dict:
        """Return the reason as its JSON object; keys not set are left out."""
        d = {"cause": self.cause, "words": self.words}
        for k in (
            "rule",
            "rule_words",
            "shadow_value",
            "cheaper_by_pct",
            "needed_cost_per_result",
            "low",
            "high",
            "tied_with",
        ):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d


@dataclass(slots=True)
class _Dual:
    """What the reasons read off one solution, for every line's next tier at once.

    ``held[i]`` is the row of the rule that holds line ``i``'s next tier (-1: none) and
    ``holding[i]`` how many rules hold it; ``d_free`` the reduced costs without the on/off
    rows (None for a plain LP); ``push[i]`` the share of the floors that push line ``i`` up
    (a line at its floor is limited by its price, not at the margin). ``count_binds``: the
    ``max_active_lines`` row is at its limit (its own activity, so lines counted through a
    helper column, running ones, count too).
    """

    model: Model
    y: np.ndarray
    d: np.ndarray
    held: np.ndarray
    holding: np.ndarray
    d_free: np.ndarray | None
    #: per line, the reduced cost its floors add to its next tier (<= 0 to remove)
    push: np.ndarray
    count_binds: bool = False


def _slices(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (owner, position) of every position in the slices ``lo[i]:hi[i]``."""
    n = hi - lo
    owner = np.repeat(np.arange(len(lo)), n)
    pos = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    return owner, pos


def _group_pairs(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Return (tier, group column) for every tier that adds to a network/segment/period column."""
    if not model.group_defs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    defs = np.array(model.group_defs, dtype=np.int64)
    owner, pos = _slices(model.indptr[defs[:, 1]], model.indptr[defs[:, 1] + 1])
    tier = model.indices[pos].astype(np.int64)
    keep = tier < model.n_tier
    return tier[keep], defs[owner[keep], 0]


def _entries(model: Model, cols: np.ndarray):
    """Return (line, row, coefficient) of each line's column ``cols[i]`` and its group columns."""
    from .solvers import _csc

    g_tier, g_col = _group_pairs(model)
    order = np.argsort(g_tier, kind="stable")
    g_tier, g_col = g_tier[order], g_col[order]
    owner, pos = _slices(
        np.searchsorted(g_tier, cols, "left"), np.searchsorted(g_tier, cols, "right")
    )
    line_of = np.concatenate([np.arange(len(cols)), owner])
    col = np.concatenate([cols, g_col[pos]])
    start, rows, vals = _csc(model)
    owner, pos = _slices(start[col], start[col + 1])
    return line_of[owner], rows[pos].astype(np.int64), vals[pos]


def _rule_rows(model: Model) -> np.ndarray:
    """Return which rows are user rules a line's reason may name (not helpers, not the price)."""
    ok = np.array([r.report and r.family not in PRICE_FAMILIES for r in model.rows], dtype=bool)
    ok[model.activation_rows] = False
    return ok


def _absolute(model: Model) -> np.ndarray:
    """Return which rows no price can move: caps of 0, marginal ceilings, one-line rules."""
    row_of = np.repeat(np.arange(model.n_row), np.diff(model.indptr))
    n = model.n_row
    negative = np.bincount(row_of, weights=(model.data < 0).astype(float), minlength=n) > 0
    zero_cap = ~negative & (model.row_ub <= 0) & np.isfinite(model.row_ub)
    tier = model.indices < model.n_tier
    line = np.where(tier, model.tier_line[np.minimum(model.indices, model.n_tier - 1)], -1)
    helper = np.bincount(row_of, weights=(~tier).astype(float), minlength=n) > 0
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, -1)
    np.minimum.at(lo, row_of, line)
    np.maximum.at(hi, row_of, line)
    one_line = ~helper & (lo == hi)
    cut = np.array([r.family in CUT_FAMILIES for r in model.rows], dtype=bool)
    return (zero_cap | one_line) & ~cut


def _dual(model: Model, sol: Solution, nxt: np.ndarray) -> _Dual:
    """Find, for every line's next tier ``nxt[i]``, the binding user rule that holds it.

    A rule holds a tier when more spend there breaks the rule and either no price can help
    (a cap of 0, a rule on that line alone) or the tier would gain from its spend but for
    the rule (its reduced cost without the rule's share is > 0). A shared rule, or a
    marginal-cost ceiling, that costs nothing on a line too dear anyway does not hold it:
    price does, and the price named includes that rule's share. Rules no price can move
    come first, then the largest ``dual x coefficient``.
    """
    y = sol.row_dual
    d = reduced_costs(model, y)
    at_ub, at_lb, _ = at_limits(model, sol.x)
    line, row, coef = _entries(model, nxt)
    absolute = _absolute(model)
    share = y[row] * coef
    rules = _rule_rows(model)[row]
    # floors that push the tier up (a negative share): without them its price shows
    push = np.bincount(line[rules], weights=np.minimum(share[rules], 0.0), minlength=len(nxt))
    tol = TIE_RTOL * np.maximum(np.abs(model.c[nxt]), 1e-12)
    ok = (
        rules
        & (((coef > 0) & at_ub[row]) | ((coef < 0) & at_lb[row]))
        & (absolute[row] | (d[nxt][line] + share > tol[line]))
    )
    line, row, share = line[ok], row[ok], np.abs(share[ok])
    order = np.lexsort((row, -share, ~absolute[row], line))
    line, row = line[order], row[order]
    held = np.full(len(nxt), -1, dtype=np.int64)
    first = np.r_[True, line[1:] != line[:-1]] if len(line) else np.zeros(0, dtype=bool)
    held[line[first]] = row[first]
    d_free, count_binds = None, False
    if model.is_mip:
        d_free = reduced_costs(model, y, np.asarray(model.activation_rows, dtype=np.int64))
        count = _count_row(model)
        count_binds = count is not None and bool(at_ub[count])
    holding = np.bincount(line, minlength=len(nxt))
    return _Dual(model, y, d, held, holding, d_free, push, count_binds)


def _count_row(model: Model) -> int | None:
    """Return the ``max_active_lines`` row (None: the plan has no count limit)."""
    rows = model.activation_rows
    return next((int(r) for r in rows if model.rows[r].family == "max_active_lines"), None)


@dataclass(frozen=True, slots=True)
class Terms:
    """What the words need: the result type, the currency and the objective per tier.

    A tier's objective per unit of currency is ``value x slope - cost`` (``value`` is 1 for
    results, ``cost`` is 1 under profit), so prices convert back into costs per result.
    """

    result_type: str
    currency: str
    objective: str
    values: np.ndarray  # per planned line: what one result is worth (1 under results)
    #: per planned line: its least spend when switched on and the rule that sets it
    #: (``optimizer.rules.onoff.line_minimums``; None: no minimum); () when no line has one
    minimums: tuple[LineMinimum | None, ...] = ()


def line_reasons(model: Model, sol: Solution, on, terms: Terms) -> list[Reason]:
    """Return why each planned line gets no more than it gets (see the module docstring)."""
    nt = model.n_tier
    width = model.col_ub[:nt]
    x = np.clip(sol.x[:nt], 0.0, width)
    nxt, at_end = _next_tiers(model, x)
    dual = _dual(model, sol, nxt)
    out: list[Reason | None] = []
    margin: list[int] = []
    for i in range(len(model.lines)):
        r = _reason(dual, i, int(nxt[i]), bool(at_end[i]), on, terms)
        if r is None:
            margin.append(i)
        out.append(r)
    tied = _tied(model, sol, margin, x, on, dual, terms)
    return [r if r is not None else tied[i] for i, r in enumerate(out)]


def _next_tiers(model: Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each line's next tier (the first not full; its last when all are) and at-end."""
    width = model.col_ub[: model.n_tier]
    room = x < width - FULL_RTOL * np.maximum(1.0, width)
    start = model.tier_start[:-1].astype(np.intp)
    big = np.iinfo(np.int64).max
    first = np.minimum.reduceat(np.where(room, np.arange(len(x)), big), start)
    at_end = first == big
    return np.where(at_end, model.tier_start[1:] - 1, first).astype(np.int64), at_end


def _reason(dual: _Dual, i: int, k: int, at_end: bool, on, terms: Terms) -> Reason | None:
    """Return line ``i``'s reason from its next tier ``k`` (None: at the margin, decided later)."""
    m = dual.model
    r = int(dual.held[i])
    if at_end and not (r >= 0 and m.rows[r].family in ("lock", "line_max")):
        if dual.d[k] <= TIE_RTOL * max(abs(float(m.c[k])), 1e-12):
            return None  # at its end, but no better than the margin: maybe a tie
        return _curve_end(m, i, float(dual.d[k]), terms)
    if r >= 0:
        return _held(m, r, int(dual.holding[i]))
    if on is not None and not on[i]:
        off = _switched_off(dual, i, k, terms)
        if off is not None:
            return off
    c, d = float(m.c[k]), float(dual.d[k] + dual.push[i])
    if m.tier_slope[k] <= 0:  # a flat tier, whatever the objective
        return Reason("no_results", "its curve brings no more results at this spend")
    if d < -TIE_RTOL * max(abs(c), abs(c - d), 1e-12):
        floored = " beyond what its floors ask" if dual.push[i] < 0 else ""
        return _price(m, i, k, c - d, terms, floored)
    return None


def _held(m: Model, row: int, n: int) -> Reason:
    info = m.rows[row]
    more = f" (and {n - 1} more rules)" if n > 1 else ""
    words = f"held by a rule: {info.description} ({info.name}){more}"
    if info.family in CUT_FAMILIES:
        words = f"held by a rule: {info.description}, and its next result costs more ({info.name})"
    return Reason("rule", words, rule=info.name, rule_words=info.description)


def _curve_end(m: Model, i: int, sv: float, terms: Terms) -> Reason:
    ln = m.lines[i]
    words = f"at the end of its curve: the forecast's cap of {fmt(ln.max_spend)} {terms.currency}"
    if sv > 0 and terms.objective == "results":
        words += f"; each extra 1,000 {terms.currency} there would bring {fmt(1000 * sv)} more"
        words += f" {terms.result_type} if the curve went on"
    return Reason("curve_end", words, shadow_value=max(sv, 0.0))


def _switched_off(dual: _Dual, i: int, k: int, terms: Terms) -> Reason | None:
    """Return the on/off reason of a line switched off whose first tier is worth funding."""
    m = dual.model
    d_free = float(dual.d_free[k]) if dual.d_free is not None else 0.0
    if d_free <= TIE_RTOL * max(abs(float(m.c[k])), 1e-12):
        return None  # off for its price, not for the switch
    least = terms.minimums[i] if terms.minimums else None
    if least is not None and least.spent > 0:  # running: counted whatever its switch says
        return _stopped(least, m.lines[i].max_spend, terms.currency)
    count = _count_row(m)
    if count is not None and dual.count_binds:
        info = m.rows[count]
        words = f"switched off: {info.description} and those on bring more ({info.name})"
        return Reason("on_off", words, rule=info.name, rule_words=info.description)
    if least is None:  # only a count limit, with room to spare: off for its price
        return None
    return _below_minimum(least, m.lines[i].max_spend, terms.currency)


def _stopped(least: LineMinimum, top: float, cur: str) -> Reason:
    """Return the reason of a running line that stops at what it spent by the re-plan's day."""
    amount, why = least.shown(cur), least.why or least.rule
    spent = f"stopped at the {least.shown_spent(cur)} already spent"
    if top < least.amount:
        words = (
            f"{spent}: its curve absorbs at most {fmt(top)} {cur}, less than the {amount} "
            f"in all it would have to spend to go on ({why})"
        )
    else:
        words = (
            f"{spent}: to go on it would have to spend at least {amount} in all ({why}), and "
            "that money brings more elsewhere"
        )
    return Reason("on_off", words, rule=least.rule, rule_words=least.words(cur))


def _below_minimum(least: LineMinimum, top: float, cur: str) -> Reason:
    """Return the reason of a line off because, on, it would have to spend ``least``."""
    amount = least.shown(cur)
    why = least.why or least.rule
    if top < least.amount:
        words = (
            f"switched off: its curve absorbs at most {fmt(top)} {cur}, less than the "
            f"{amount} a line switched on must spend ({why})"
        )
    else:
        words = (
            f"switched off: on, it would have to spend at least {amount} ({why}), and that "
            "money brings more elsewhere"
        )
    if least.rule == "min_line_spend":
        rule_words = f"a line switched on spends at least {amount}"
    else:
        rule_words = least.words(cur)
    return Reason("on_off", words, rule=least.rule, rule_words=rule_words)


def _price(m: Model, i: int, k: int, price: float, terms: Terms, floored: str = "") -> Reason:
    """Say how much cheaper line ``i``'s next result must be to get spend (or that it is dear)."""
    slope = float(m.tier_slope[k])
    cost = 1.0 / slope if slope > 0 else None
    v, fixed = float(terms.values[i]), 1.0 if terms.objective == "profit" else 0.0
    needed = v / (price + fixed) if price + fixed > 0 else None
    pct = None if cost is None or needed is None else 100.0 * max(0.0, 1.0 - needed / cost)
    cur, shown = terms.currency, "-" if cost is None else fmt(cost)
    if terms.objective == "profit" and price <= TIE_RTOL:
        words = (
            f"not worth it: its next result costs {shown} {cur}, more than the {fmt(v)} {cur} "
            "it is worth"
        )
        return Reason("not_worth", words, cheaper_by_pct=pct, needed_cost_per_result=needed)
    words = (
        f"other lines bring {terms.result_type} more cheaply: its next result costs {shown} "
        f"{cur}; it gets spend{floored} once its results cost {_pct(pct or 0.0)} less "
        f"({'-' if needed is None else fmt(needed)} {cur} or under)"
    )
    return Reason("price", words, cheaper_by_pct=pct, needed_cost_per_result=needed)


def _tied(
    model: Model, sol: Solution, margin: list[int], x, on, dual: _Dual, terms: Terms
) -> dict[int, Reason]:
    """Return the reasons of the lines at the margin: a tie (with bounds) or the price rule."""
    ranges = _ranges(model, sol, margin[:MAX_RANGED], on)
    spend = {i: float(x[model.tier_start[i] : model.tier_start[i + 1]].sum()) for i in margin}
    free = [i for i in margin if i in ranges and _moves(ranges[i], spend[i])]
    nxt = _next_tiers(model, x)[0]
    slope_of = {i: float(model.tier_slope[nxt[i]]) for i in margin}
    out: dict[int, Reason] = {}
    same = Counter(f"{slope_of[i]:.7g}" for i in margin)
    for i in margin:
        if i in ranges:
            tie = i in free and len(free) > 1
        else:  # beyond the lines ranged: a tie when another line's next result costs the same
            tie = same[f"{slope_of[i]:.7g}"] > 1
        if tie:
            out[i] = _tie(ranges.get(i), len(free) if i in ranges else None, terms)
        elif spend[i] >= model.lines[i].max_spend - FULL_RTOL * max(1.0, model.lines[i].max_spend):
            out[i] = _curve_end(model, i, 0.0, terms)
        else:
            out[i] = _at_margin(dual, slope_of[i], terms)
    return out


def _moves(rng: tuple[float, float], spend: float) -> bool:
    lo, hi = rng
    return hi - lo > 1e-6 * max(1.0, abs(spend))


def _tie(rng: tuple[float, float] | None, n: int | None, terms: Terms) -> Reason:
    cur = terms.currency
    if rng is None:
        words = "equal cost: its next result costs the same as on other lines at the margin"
        return Reason("tie", words + "; the split between them is arbitrary")
    lo, hi = rng
    words = (
        f"equal cost: the split between these {n} lines is arbitrary; any split within these "
        f"bounds is as good (here {fmt(lo)} to {fmt(hi)} {cur})"
    )
    return Reason("tie", words, low=lo, high=hi, tied_with=(n or 1) - 1)


def _at_margin(dual: _Dual, slope: float, terms: Terms) -> Reason:
    """Name the rule that sets the price of money for the line that takes the last of it."""
    m = dual.model
    setters = [
        r
        for r, info in enumerate(m.rows)
        if info.family in PRICE_FAMILIES and info.report and abs(dual.y[r]) > 1e-12
    ]
    cost = f"{fmt(1.0 / slope)} {terms.currency}" if slope > 0 else "nothing more"
    if setters:
        info = m.rows[max(setters, key=lambda r: abs(dual.y[r]))]
        words = (
            f"at the margin: it takes the last of what {info.description} allows "
            f"({info.name}); its next result costs {cost}, as much as anywhere else"
        )
        return Reason("rule", words, rule=info.name, rule_words=info.description)
    if terms.objective == "profit":
        return Reason("margin", f"break-even: its next result costs {cost}, what it is worth")
    return Reason("margin", f"at the margin: its next result costs {cost}")


def _ranges(model: Model, sol: Solution, lines: list[int], on) -> dict[int, tuple[float, float]]:
    """Return each line's least and most spend over every plan as good as ``sol`` (LP ranging).

    The other lines stay where they are: the bounds say how money can move between
    ``lines`` at no loss (every split within them is as good). The LP holds only the tiers
    of ``lines`` and the helper columns (the rest is fixed, moved into the row bounds), so
    each of its solves takes milliseconds whatever the plan's size.
    """
    if len(lines) < 2:
        return {}
    sub, tiers = _as_good(model, sol, on, lines)
    h = HighsSolver(sub, crash=False)
    out: dict[int, tuple[float, float]] = {}
    deadline = time.perf_counter() + RANGE_SECONDS
    for i in lines:
        if time.perf_counter() > deadline:
            break
        cols = np.flatnonzero(model.tier_line[tiers] == i).astype(np.int32)
        ends: list[float] = []
        for sign in (-1.0, 1.0):
            h.h.changeColsCost(len(cols), cols, np.full(len(cols), sign))
            r = h.run_lp(60.0)
            if r.x is not None:
                ends.append(float(sign * r.objective))
        h.h.changeColsCost(len(cols), cols, np.zeros(len(cols)))
        if len(ends) == 2:
            out[i] = (max(0.0, ends[0]), ends[1])
    return out


def _as_good(model: Model, sol: Solution, on, lines: list[int]) -> tuple[Model, np.ndarray]:
    """Return the LP for ranging ``lines``, and the tier columns it keeps (its first columns).

    Columns: the tiers of ``lines``, then the helper columns; every other tier is fixed at
    its spend and moved into the row bounds; switches fixed. A zero objective and one more
    row: the objective of ``lines`` >= theirs in the plan (to 1e-7 of the plan's objective).
    """
    nt = model.n_tier
    x = np.clip(sol.x, model.col_lb, model.col_ub)
    if on is not None:
        x[model.binary_cols] = np.asarray(on, dtype=float)
    tiers = np.flatnonzero(np.isin(model.tier_line, np.asarray(lines, dtype=np.int64)))
    keep = np.zeros(model.n_col, dtype=bool)
    keep[tiers] = True
    keep[nt:] = True
    keep[model.binary_cols] = False
    fixed = np.where(keep, 0.0, x)
    moved = row_activity(model, fixed)
    new = np.cumsum(keep) - 1
    entry = keep[model.indices]
    row_of = np.repeat(np.arange(model.n_row), np.diff(model.indptr))[entry]
    indptr = np.zeros(model.n_row + 2, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=model.n_row), out=indptr[1 : model.n_row + 1])
    c = model.c[tiers]
    held = float(c @ x[tiers]) - 1e-7 * max(1.0, abs(float(model.c @ x)))
    indptr[-1] = indptr[-2] + len(tiers)
    sub = replace(
        model,
        c=np.zeros(int(keep.sum())),
        col_lb=model.col_lb[keep],
        col_ub=model.col_ub[keep],
        binary_cols=np.zeros(0, dtype=np.int64),
        indptr=indptr,
        indices=np.concatenate([new[model.indices[entry]], np.arange(len(tiers))]).astype(np.int32),
        data=np.concatenate([model.data[entry], c]),
        row_lb=np.append(model.row_lb - moved, held),
        row_ub=np.append(model.row_ub - moved, np.inf),
        rows=[*model.rows, replace(model.rows[0], name="as_good", report=False)],
    )
    return sub, tiers


def _pct(p: float) -> str:
    """Return a percentage a person reads: 33.3% (one decimal), or two digits below 0.1%."""
    return f"{p:.1f}%" if p >= 0.1 else f"{p:.2g}%"
