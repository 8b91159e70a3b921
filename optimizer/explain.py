"""Why each line gets what it gets: the cause that binds it, in order of evidence.

For every planned line the next tier of its curve (the first not full; the last when the line
is at the end of its curve) is read against the LP's duals:

1. a user rule that holds the line: a binding row on the tier, directly or through its
   network's, segment's or period's spend column, that more spend here would break (the
   largest ``dual x coefficient`` first; a row at its limit counts even with a zero dual);
2. the end of its curve (the forecast's cap), with its own shadow value: the reduced cost of
   the last tier, what one more unit of currency there would bring if the curve went on;
3. the on/off minimum (``min_line_spend``) or the count of lines on (``max_active_lines``), for
   a line switched off whose first tier is worth more than the price of money elsewhere;
4. price: its next result costs more than a unit of currency brings elsewhere; the reason
   says how much cheaper its results would have to be. Under ``profit`` with money to spare,
   the next result costs more than it is worth.

Lines whose next tier has a reduced cost of 0 (to 1e-9 relative) are at the margin: one
alone takes the last of the money (its binding rule is the budget, or whichever rule sets the
price); several are a tie, and each gets the bounds, found by LP ranging (HiGHS, the plan's
objective held), within which any split between them is as good.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .model import Model
from .rules import CUT_FAMILIES, fmt
from .solvers import HighsSolver, Solution, reduced_costs, row_activity

#: reduced costs within this fraction of the tier's objective count as 0 (a tie)
TIE_RTOL = 1e-9
#: the most tied lines whose bounds are found by LP ranging (two solves each)
MAX_RANGED = 24
#: rule families a line's limit cannot be blamed on: they set the price of money, not a line
PRICE_FAMILIES = frozenset({"budget", "target", "max_cost_per_result"})


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one line gets no more than it gets. ``cause`` is one of :data:`CAUSES`."""

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


#: every cause a line's reason may give, in the order of evidence
CAUSES = ("rule", "curve_end", "on_off", "price", "not_worth", "tie", "margin", "no_results")


@dataclass(slots=True)
class _Dual:
    """What the reasons read off one solution: duals, reduced costs, binding rows, columns."""

    model: Model
    y: np.ndarray
    d: np.ndarray
    at_ub: np.ndarray
    at_lb: np.ndarray
    col_start: np.ndarray
    col_rows: np.ndarray
    col_vals: np.ndarray
    tier_groups: list[list[int]]
    skip: np.ndarray
    #: rows no price can move: a cap of 0, a marginal ceiling, a rule on one line alone
    absolute: np.ndarray

    def holders(self, k: int) -> list[tuple[float, int]]:
        """Return (score, row) of the binding user rules that hold tier ``k`` back.

        A rule holds it when more spend there breaks the rule and either no price can
        help (a cap of 0, a marginal-cost ceiling, a rule on this line alone) or the tier
        would be worth its spend but for the rule (its reduced cost without the rule's
        share is >= 0). A shared rule that costs nothing on a line too dear anyway does not
        hold it: price does, and the price named includes that rule's share. Rules that
        no price can move come first, then the largest ``dual x coefficient``.
        """
        m, out = self.model, []
        tol = TIE_RTOL * max(abs(float(m.c[k])), 1e-12)
        for r, e in self._entries(k):
            info = m.rows[r]
            if not info.report or self.skip[r] or info.family in PRICE_FAMILIES:
                continue
            if not ((e > 0 and self.at_ub[r]) or (e < 0 and self.at_lb[r])):
                continue
            share = float(self.y[r] * e)
            if self.absolute[r] or self.d[k] + share >= -tol:
                out.append((bool(self.absolute[r]), abs(share), r))
        return [(score, r) for _, score, r in sorted(out, reverse=True)]

    def _entries(self, k: int):
        """Yield (row, coefficient) of column ``k`` and of the group columns it adds to."""
        for j in (k, *self.tier_groups[k]):
            for p in range(self.col_start[j], self.col_start[j + 1]):
                yield int(self.col_rows[p]), float(self.col_vals[p])


def _dual(model: Model, sol: Solution) -> _Dual:
    """Read the duals, the reduced costs and the binding rows of ``sol`` once for all lines."""
    from .solvers import _csc

    start, rows, vals = _csc(model)
    act = row_activity(model, sol.x)
    size = row_activity(model, sol.x, absolute=True)
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(model.row_ub), size))
    tol = np.where(np.isfinite(tol), tol, 1e-6 * np.maximum(1.0, size))
    at_ub = np.isfinite(model.row_ub) & (model.row_ub - act <= tol)
    at_lb = np.isfinite(model.row_lb) & (act - model.row_lb <= tol)
    groups: list[list[int]] = [[] for _ in range(model.n_tier)]
    for col, r in model.group_defs:
        for p in range(model.indptr[r], model.indptr[r + 1]):
            j = int(model.indices[p])
            if j < model.n_tier:
                groups[j].append(int(col))
    skip = np.zeros(model.n_row, dtype=bool)
    skip[model.activation_rows] = True
    for _, r in model.group_defs:
        skip[r] = True
    skip[0] = True
    nonneg = (
        np.bincount(
            np.repeat(np.arange(model.n_row), np.diff(model.indptr)),
            weights=(model.data < 0).astype(float),
            minlength=model.n_row,
        )
        == 0
    )
    zero_cap = nonneg & (model.row_ub <= 0) & np.isfinite(model.row_ub)
    return _Dual(
        model, sol.row_dual, reduced_costs(model, sol.row_dual), at_ub, at_lb,
        start, rows, vals, groups, skip, zero_cap,
    )  # fmt: skip


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


def line_reasons(model: Model, sol: Solution, on, terms: Terms) -> list[Reason]:
    """Return why each planned line gets no more than it gets (see the module docstring)."""
    dual = _dual(model, sol)
    nt = model.n_tier
    width = model.col_ub[:nt]
    x = np.clip(sol.x[:nt], 0.0, width)
    out: list[Reason | None] = []
    margin: list[int] = []
    for i in range(len(model.lines)):
        a, b = int(model.tier_start[i]), int(model.tier_start[i + 1])
        room = np.flatnonzero(x[a:b] < width[a:b] * (1 - 1e-9) - 1e-9)
        k = a + int(room[0]) if len(room) else b - 1
        r = _reason(dual, i, k, not len(room), on, terms)
        if r is None:
            margin.append(i)
        out.append(r)
    tied = _tied(model, sol, margin, x, on, dual, terms)
    return [r if r is not None else tied[i] for i, r in enumerate(out)]


def _reason(dual: _Dual, i: int, k: int, at_end: bool, on, terms: Terms) -> Reason | None:
    """Return line ``i``'s reason from its next tier ``k`` (None: at the margin, decided later)."""
    m = dual.model
    held = dual.holders(k)
    if at_end and not (held and m.rows[held[0][1]].family in ("lock", "line_max")):
        if dual.d[k] <= TIE_RTOL * max(abs(float(m.c[k])), 1e-12):
            return None  # at its end, but no better than the margin: maybe a tie
        return _curve_end(m, i, float(dual.d[k]), terms)
    if held:
        return _held(m, [r for _, r in held])
    if on is not None and not on[i]:
        r = _switched_off(dual, k, on)
        if r is not None:
            return r
    c, d = float(m.c[k]), float(dual.d[k])
    if terms.objective == "results" and c <= 0:
        return Reason("no_results", "its curve brings no more results at this spend")
    if d < -TIE_RTOL * max(abs(c), abs(c - d), 1e-12):
        return _price(m, i, k, c - d, terms)
    return None


def _held(m: Model, rows: list[int]) -> Reason:
    info = m.rows[rows[0]]
    more = f" (and {len(rows) - 1} more rules)" if len(rows) > 1 else ""
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


def _switched_off(dual: _Dual, k: int, on) -> Reason | None:
    """Return the on/off reason of a line switched off whose first tier is worth funding."""
    m = dual.model
    skip = np.asarray(m.activation_rows, dtype=np.int64)
    d_free = float(reduced_costs(m, dual.y, skip)[k])
    if d_free <= TIE_RTOL * max(abs(float(m.c[k])), 1e-12):
        return None  # off for its price, not for the switch
    count = next((r for r in m.activation_rows if m.rows[r].family == "max_active_lines"), None)
    if count is not None and int(np.sum(on)) >= m.rows[count].limit - 0.5:
        info = m.rows[count]
        words = f"switched off: {info.description} and those on bring more ({info.name})"
        return Reason("on_off", words, rule=info.name, rule_words=info.description)
    info = next(
        (m.rows[r] for r in m.activation_rows if m.rows[r].family == "min_line_spend"), None
    )
    if info is None:  # only a count limit, with room to spare: off for its price
        return None
    words = (
        "switched off: on, it would have to spend its minimum, and that money brings more "
        f"elsewhere ({info.description.split(' spends ')[-1]}; min_line_spend)"
    )
    return Reason("on_off", words, rule="min_line_spend", rule_words=info.description)


def _price(m: Model, i: int, k: int, price: float, terms: Terms) -> Reason:
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
        f"{cur}; it gets spend once its results cost {_pct(pct or 0.0)} less "
        f"({'-' if needed is None else fmt(needed)} {cur} or under)"
    )
    return Reason("price", words, cheaper_by_pct=pct, needed_cost_per_result=needed)


def _tied(model: Model, sol: Solution, margin: list[int], x, on, dual: _Dual, terms: Terms):
    """Return the reasons of the lines at the margin: a tie (with bounds) or the price rule."""
    ranges = _ranges(model, sol, margin[:MAX_RANGED], on)
    spend = {i: float(x[model.tier_start[i] : model.tier_start[i + 1]].sum()) for i in margin}
    free = [i for i in margin if i in ranges and _moves(ranges[i], spend[i])]
    slope_of = {i: float(model.tier_slope[_next_tier(model, x, i)]) for i in margin}
    out: dict[int, Reason] = {}
    for i in margin:
        if i in ranges:
            tie = i in free and len(free) > 1
        else:  # beyond the lines ranged: a tie when another line's next result costs the same
            tie = sum(bool(np.isclose(slope_of[j], slope_of[i], rtol=1e-9)) for j in margin) > 1
        if tie:
            out[i] = _tie(ranges.get(i), len(free) if i in ranges else None, terms)
        elif spend[i] >= model.lines[i].max_spend * (1 - 1e-9):
            out[i] = _curve_end(model, i, 0.0, terms)
        else:
            out[i] = _at_margin(dual, slope_of[i], terms)
    return out


def _moves(rng: tuple[float, float], spend: float) -> bool:
    lo, hi = rng
    return hi - lo > 1e-6 * max(1.0, abs(spend))


def _next_tier(model: Model, x, i: int) -> int:
    a, b = int(model.tier_start[i]), int(model.tier_start[i + 1])
    room = np.flatnonzero(x[a:b] < model.col_ub[a:b] * (1 - 1e-9) - 1e-9)
    return a + int(room[0]) if len(room) else b - 1


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
    """Return each line's least and most spend over every plan as good as ``sol`` (LP ranging)."""
    if len(lines) < 2:
        return {}
    held = _as_good(model, sol, on)
    h = HighsSolver(held, crash=False)
    out: dict[int, tuple[float, float]] = {}
    zero = np.zeros(held.n_col)
    for i in lines:
        cols = np.arange(model.tier_start[i], model.tier_start[i + 1], dtype=np.int32)
        ends: list[float] = []
        for sign in (-1.0, 1.0):
            h.h.changeColsCost(len(cols), cols, np.full(len(cols), sign))
            r = h.run_lp(60.0)
            if r.x is not None:
                ends.append(float(sign * r.objective))
        h.h.changeColsCost(len(cols), cols, zero[cols])
        if len(ends) == 2:
            out[i] = (max(0.0, -ends[0]), ends[1])
    return out


def _as_good(model: Model, sol: Solution, on) -> Model:
    """Return the model with a zero objective, the row "objective >= the plan's" and switches fixed."""
    c = model.c
    obj = float(c @ np.clip(sol.x, model.col_lb, model.col_ub))
    nz = np.flatnonzero(c)
    lb, ub = model.col_lb.copy(), model.col_ub.copy()
    if on is not None:
        lb[model.binary_cols] = ub[model.binary_cols] = np.asarray(on, dtype=float)
    return replace(
        model,
        c=np.zeros_like(c),
        col_lb=lb,
        col_ub=ub,
        binary_cols=np.zeros(0, dtype=np.int64),
        indptr=np.append(model.indptr, model.indptr[-1] + len(nz)),
        indices=np.concatenate([model.indices, nz.astype(np.int32)]),
        data=np.concatenate([model.data, c[nz]]),
        row_lb=np.append(model.row_lb, obj - 1e-7 * max(1.0, abs(obj))),
        row_ub=np.append(model.row_ub, np.inf),
        rows=[*model.rows, replace(model.rows[0], name="as_good", report=False)],
    )


def _pct(p: float) -> str:
    """Return a percentage a person reads: 33.3% (one decimal), or two digits below 0.1%."""
    return f"{p:.1f}%" if p >= 0.1 else f"{p:.2g}%"
