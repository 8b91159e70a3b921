"""Why a plan is infeasible, in words, and the smallest repairs that fix it (an elastic LP).

Every rule row gets a slack column (two for an equality) that lets it give way, and the LP
minimises the total give. Locked lines are facts (in a re-plan, spend already made), not rules:
their rows get no slack, unless the locks alone cannot hold (a lock above what its line's curve
absorbs). Rules whose rows carry a dual or a slack in that LP form the conflict, ordered by how
much they give way (then by dual).

The message names the conflicting rules by kind ("the Meta and TikTok network floors
(network_min__meta, network_min__tiktok)", "14 line minimums", "the budget"), then the
smallest repairs, each found exactly by the elastic LP with slack allowed on one set of rows
only (a warm re-solve, at most ``MAX_RESOLVES`` of them): the budget alone, each of the first
``MAX_ALONE_TRIES`` rules alone, each kind of rule in the conflict together (rows of one
unit), and all the conflicting rules together (the elastic LP's own answer).
:func:`explain_infeasible` returns the message, one diagnosis entry per conflicting rule and
the repairs, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .model import Model, RowInfo
from .names import display_network
from .rules import BY_FAMILY, NOUNS, fmt
from .solvers import HighsSolver, Solution

#: rules tried alone (the budget among them)
MAX_ALONE_TRIES = 8
#: re-solves of the elastic LP in all: rules alone, then kinds of rules together
MAX_RESOLVES = 16
#: repairs named in the message; :func:`explain_infeasible` returns them all
MAX_REPAIRS = 3
#: a kind of rule with more rows than this is counted ("14 line minimums"), not listed
MAX_TARGETS = 3
#: kinds of rule named in the message; the diagnosis lists every rule
MAX_KINDS = 6
#: rule families that are facts, never relaxed (unless they alone cannot hold)
FACT_FAMILIES = frozenset({"lock"})
#: slack below this is no give
_TOL = 1e-7


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why the rules cannot all hold.

    Attributes
    ----------
    message : str
        The rules in conflict, by kind, and the smallest repairs, in words.
    items : list of dict
        One entry per conflicting rule: ``rule``, ``description``, ``family``, ``words``,
        ``relax_by`` (its give in the elastic LP), ``relax_alone_by`` (None when it cannot
        restore feasibility alone, or was not tried), ``unit``, ``message``; the budget adds
        ``available`` and ``needed``.
    repairs : list of dict
        Every repair found, best first: ``kind`` (budget, rule, family or all), ``rules``
        (the ids allowed to give way), ``family`` (None when mixed), ``amount`` and ``unit``
        (None when the rules have different units), ``words`` and ``by_rule`` (the give of
        each rule in the repair found).
    """

    message: str
    items: list[dict]
    repairs: list[dict]


@dataclass(slots=True)
class _Conflict:
    """The conflicting rows, what they give in the elastic LP and alone (signed: + lowered)."""

    model: Model
    budget: float
    rows: list[int]
    give: dict[int, float]
    locked: bool
    currency: str
    alone: dict[int, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Repair:
    """A set of rows allowed to give way, and the signed give of each in the repair found."""

    kind: str
    rules: tuple[int, ...]
    parts: dict[int, float]

    @property
    def amount(self) -> float:
        return sum(abs(v) for v in self.parts.values())


def explain_infeasible(model: Model, budget: float) -> Diagnosis:
    """Explain why the infeasible ``model`` has no plan, and how to repair it.

    Parameters
    ----------
    model : Model
        The plan's LP (or MILP), found infeasible.
    budget : float
        The plan's budget, used to say how much of it the rules need.

    Returns
    -------
    Diagnosis
        The message, one diagnosis entry per conflicting rule and the repairs, best first.
    """
    solver, sol, slacks = _elastic_solve(model)
    if not sol.optimal:  # pragma: no cover - the elastic LP is always feasible
        return Diagnosis("the rules cannot all hold, and the elastic LP failed too", [], [])
    c = _conflict(model, budget, sol, slacks)
    reps = _rank(c, _candidates(c, solver, slacks, sol))
    items = [_item(c, i) for i in c.rows]
    return Diagnosis(_message(c, reps), items, [_repair_dict(c, r) for r in reps])


def _elastic(model: Model, facts: bool = True) -> tuple[Model, list[tuple[int, int, float]]]:
    """Return the model with slack columns on every rule row (but facts, if ``facts``).

    Also returns (row, col, sign) for each slack; the objective maximises minus the total slack.
    """
    slacks: list[tuple[int, int, float]] = []
    col = model.n_col
    for i, info in enumerate(model.rows):
        if not info.report or (facts and info.family in FACT_FAMILIES):
            continue
        lb, ub = model.row_lb[i], model.row_ub[i]
        if info.sense in ("min", "eq") and np.isfinite(lb):
            slacks.append((i, col, 1.0))
            col += 1
        if info.sense in ("max", "eq") and np.isfinite(ub):
            slacks.append((i, col, -1.0))
            col += 1
    k = len(slacks)
    s_rows = np.array([s[0] for s in slacks], dtype=np.int64)
    s_cols = np.array([s[1] for s in slacks], dtype=np.int32)
    s_vals = np.array([s[2] for s in slacks], dtype=float)
    row_of_nz = np.repeat(np.arange(model.n_row), np.diff(model.indptr))
    rows = np.concatenate([row_of_nz, s_rows])
    order = np.argsort(rows, kind="stable")
    indices = np.concatenate([model.indices, s_cols])[order]
    data = np.concatenate([model.data, s_vals])[order]
    counts = np.bincount(rows, minlength=model.n_row)
    indptr = np.zeros(model.n_row + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    el = replace(
        model,
        c=np.concatenate([np.zeros(model.n_col), -np.ones(k)]),
        col_lb=np.concatenate([model.col_lb, np.zeros(k)]),
        col_ub=np.concatenate([model.col_ub, np.full(k, np.inf)]),
        indptr=indptr,
        indices=indices,
        data=data,
    )
    return el, slacks


def _elastic_solve(model: Model):
    """Solve the elastic LP: facts held, unless the facts alone cannot hold."""
    el, slacks = _elastic(model)
    solver = HighsSolver(el)
    sol = solver.solve()
    if not sol.optimal:  # the facts (locks) alone cannot hold: let them give way too
        el, slacks = _elastic(model, facts=False)
        solver = HighsSolver(el)
        sol = solver.solve()
    return solver, sol, slacks


def _parts(x: np.ndarray, slacks, rows: set[int] | None = None) -> dict[int, float]:
    """Return the signed give of each row (of ``rows``) with slack: + lowered, - raised."""
    parts: dict[int, float] = {}
    for r, col, sign in slacks:
        if (rows is None or r in rows) and x[col] > _TOL:
            parts[r] = parts.get(r, 0.0) + sign * float(x[col])
    return parts


def _try(solver: HighsSolver, slacks, rows: set[int]) -> dict[int, float] | None:
    """Re-solve with slack on ``rows`` only; return their give, or None if that cannot do."""
    cols = np.array([col for _, col, _ in slacks], dtype=np.int32)
    ub = np.array([np.inf if r in rows else 0.0 for r, _, _ in slacks])
    solver.h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), ub)
    s1 = solver.solve()
    return _parts(s1.x, slacks, rows) if s1.optimal else None


def _conflict(model: Model, budget: float, sol: Solution, slacks) -> _Conflict:
    """Return the conflicting rows (the budget first, then by give and dual) of the solution."""
    give = _parts(sol.x, slacks)
    relaxable = {row for row, _, _ in slacks}
    dual = np.abs(sol.row_dual)
    rows = [
        i
        for i, info in enumerate(model.rows)
        if info.report and i in relaxable and (dual[i] > 1e-9 or i in give)
    ]
    rows.sort(key=lambda i: (i != model.budget_row, -abs(give.get(i, 0.0)), -dual[i], i))
    # locked lines (facts) that take part: rows without slack that carry a dual
    locked = any(
        info.report and info.family in FACT_FAMILIES and i not in relaxable and dual[i] > 1e-9
        for i, info in enumerate(model.rows)
    )
    currency = model.rows[model.budget_row].unit
    return _Conflict(model, budget, rows, give, locked, currency)


def _candidates(c: _Conflict, solver: HighsSolver, slacks, sol: Solution) -> list[_Repair]:
    """Try the rules alone, then each kind together; add all of them together (the LP's give)."""
    out = []
    singles = c.rows[:MAX_ALONE_TRIES]
    for i in singles:
        parts = _try(solver, slacks, {i})
        if parts is not None:
            c.alone[i] = parts.get(i, 0.0)
            out.append(_Repair("budget" if i == c.model.budget_row else "rule", (i,), parts))
    kinds = [g for g in _kinds(c.model, c.rows) if len(g) > 1]
    for g in kinds[: MAX_RESOLVES - len(singles)]:
        parts = _try(solver, slacks, set(g))
        if parts is not None:
            out.append(_Repair("family", tuple(g), parts))
    everything = _parts(sol.x, slacks)
    out.append(_Repair("all", tuple(i for i in c.rows if i in everything), everything))
    return out


def _rank(c: _Conflict, cands: list[_Repair]) -> list[_Repair]:
    """Return the repairs found, each set of rules once, smallest first within each unit.

    Equal amounts: fewer rules first. Units take turns (the currency first), so that a
    results floor's repair is named beside the budget's. All the conflicting rules together
    (the last candidate) is kept only when it does strictly better than every repair of its
    unit, or, across units, when nothing else restores feasibility.
    """
    seen: set[frozenset[int]] = set()
    unique = []
    for r in cands:  # in the order tried: a rule alone before the same rule as "all"
        if r.parts and frozenset(r.rules) not in seen:
            seen.add(frozenset(r.rules))
            unique.append(r)
    by_unit: dict[str | None, list[_Repair]] = {c.currency: []}
    for r in sorted(unique, key=lambda r: (float(f"{r.amount:.6g}"), len(r.rules))):
        by_unit.setdefault(_unit(c.model, r.rules), []).append(r)
    mixed = by_unit.pop(None, [])
    for queue in by_unit.values():
        best = next((r for r in queue if r.kind != "all"), None)
        if best is not None and best.amount <= queue[0].amount * (1 + 1e-6):
            queue[:] = [r for r in queue if r.kind != "all"]
    out: list[_Repair] = []
    queues = [q for q in by_unit.values() if q]
    while queues:
        out.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return out or mixed


# ----------------------------------------------------------------------------- words


def _word(info: RowInfo) -> str:
    """Return the kind of a rule row: its name's part before ``__`` (pacing_min, budget)."""
    return info.name.split("__", 1)[0]


def _kinds(model: Model, rows) -> list[list[int]]:
    """Group ``rows`` by kind and unit, each kind at the place of its first row."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i in rows:
        info = model.rows[i]
        groups.setdefault((_word(info), info.unit), []).append(i)
    return [sorted(g) for g in groups.values()]


def _unit(model: Model, rows) -> str | None:
    """Return the unit the rows share, or None when they have different units."""
    units = {model.rows[i].unit for i in rows}
    return units.pop() if len(units) == 1 else None


def _target(info: RowInfo) -> str:
    """Return what a row is about, as people write it ("TikTok", "Meta/all/2027-01", "leads")."""
    t = info.target
    if len(t) == 3:
        return "/".join((display_network(t[0]), t[1], t[2]))
    if info.family.startswith("network_"):
        return display_network(t[0])
    return "/".join(t)


def _phrase(model: Model, rows: list[int], article: bool = True) -> str:
    """Name rows of one kind: "the Meta and TikTok network floors", "14 line minimums"."""
    info = model.rows[rows[0]]
    noun = NOUNS.get(_word(info))
    if noun is None:  # a kind without words yet: its ids
        return _join([model.rows[i].name for i in rows])
    if not info.target:
        return f"the {noun}"
    if len(rows) > MAX_TARGETS:
        return f"{'the ' if article else ''}{len(rows)} {noun}s"
    labels = [_target(model.rows[i]) for i in rows]
    return f"the {_join(labels)} {noun}{'s' if len(rows) > 1 else ''}"


def _named(model: Model, rows: list[int]) -> str:
    """Name rows of one kind with their ids beside, when they are few and have words."""
    text = _phrase(model, rows, article=False)
    word = _word(model.rows[rows[0]])
    if word in NOUNS and word != "budget" and len(rows) <= MAX_TARGETS:
        text += f" ({', '.join(model.rows[i].name for i in rows)})"
    return text


def _loosened(info: RowInfo) -> bool:
    """Return True if the row compares spend with a share of spend (loosened by spend)."""
    family = BY_FAMILY.get(info.family)
    return "_share_" in info.family or bool(family and family.relax_spend)


def _verb1(info: RowInfo, signed: float) -> str:
    if _loosened(info):
        return "loosen"
    if info.sense == "eq":
        return "lower" if signed > 0 else "raise" if signed < 0 else "change"
    return {"max": "raise", "min": "lower"}.get(info.sense, "change")


def _verb(model: Model, rows: list[int], parts: dict[int, float]) -> str:
    """Say how rows of one kind give way: lower, raise, loosen (or change when they differ)."""
    verbs = {_verb1(model.rows[i], parts[i]) for i in rows if i in parts}
    verbs = verbs or {_verb1(model.rows[rows[0]], 0.0)}
    return verbs.pop() if len(verbs) == 1 else "change"


def _amount(info: RowInfo, amount: float, currency: str) -> str:
    """Write an amount in the row's unit: spend bare (or "of spend"), others with the unit."""
    a = fmt(amount)
    if info.unit in (currency, ""):
        return f"{a} of spend" if _loosened(info) else a
    unit = info.unit[:-1] if a == "1" and info.unit.endswith("s") else info.unit
    return f"{a} {unit}"


def _change(c: _Conflict, rows: list[int], parts: dict[int, float]) -> str:
    """Say how rows of one kind give way ("lower the TikTok network floor by 12,000")."""
    amount = sum(abs(parts.get(i, 0.0)) for i in rows)
    verb = _verb(c.model, rows, parts)
    text = (
        f"{verb} {_phrase(c.model, rows)} by {_amount(c.model.rows[rows[0]], amount, c.currency)}"
    )
    return text + " together" if len(rows) > 1 else text


def _words(c: _Conflict, r: _Repair) -> str:
    """Say a repair in words; all the rules together says each kind's part, then the sum."""
    kinds = _kinds(c.model, r.rules)
    if len(kinds) == 1:
        return _change(c, kinds[0], r.parts)
    text = _join([_change(c, g, r.parts) for g in kinds])
    unit = _unit(c.model, r.rules)
    if unit is not None:
        text += f" ({fmt(r.amount)}{'' if unit in (c.currency, '') else ' ' + unit} in all)"
    return text


def _repair_dict(c: _Conflict, r: _Repair) -> dict:
    """Return a repair as data: its rules, family, amount, unit, words and give per rule."""
    rows = c.model.rows
    families = {rows[i].family for i in r.rules}
    unit = _unit(c.model, r.rules)
    return {
        "kind": r.kind,
        "rules": [rows[i].name for i in r.rules],
        "family": families.pop() if len(families) == 1 else None,
        "amount": r.amount if unit is not None else None,
        "unit": unit,
        "words": _words(c, r),
        "by_rule": {rows[i].name: abs(v) for i, v in r.parts.items()},
    }


def _message(c: _Conflict, reps: list[_Repair]) -> str:
    """Say which rules conflict and the smallest repairs."""
    head, more = _head(c)
    tail = f" ({more} more rules take part: see the diagnosis)" if more else ""
    shown = reps[:MAX_REPAIRS]
    if not shown:  # pragma: no cover - all the rules together always restore feasibility
        return head + tail
    words = ", or ".join(_words(c, r) for r in shown)
    if all(r.kind == "all" for r in shown) and len(c.rows) > 1:
        return f"{head}, and none of them can give way alone: {words}{tail}"
    return f"{head}: {words}{tail}"


def _head(c: _Conflict) -> tuple[str, int]:
    """Say what conflicts, by kind; return it and the number of rules left unnamed."""
    model, bi = c.model, c.model.budget_row
    kinds = sorted(_kinds(model, c.rows), key=lambda g: (bi in g, g[0]))  # spec order
    more = sum(len(g) for g in kinds[MAX_KINDS:])
    rest = [f"{more} more rules"] if more else []
    others = [i for i in c.rows if i != bi]
    if bi in c.alone and all(model.rows[i].sense == "min" for i in others):
        what = [_named(model, g) for g in kinds[:MAX_KINDS] if bi not in g] + rest
        what += ["the locked lines"] if c.locked else []
        verb = "needs" if len(others) == 1 and not c.locked else "need"
        need = fmt(c.budget + abs(c.alone[bi]))
        return f"{_join(what)} {verb} {need} of a {fmt(c.budget)} budget", more
    named = [_named(model, g) for g in kinds[:MAX_KINDS]] + rest
    head = f"{_join(named)} cannot {'all ' if len(c.rows) > 1 else ''}hold"
    if c.locked:
        head += " beside the locked lines"
    if bi in c.alone:
        head += f" (they need {fmt(c.budget + abs(c.alone[bi]))} of a {fmt(c.budget)} budget)"
    return head, more


def _item(c: _Conflict, i: int) -> dict:
    """Return the diagnosis entry of conflicting row ``i``."""
    info = c.model.rows[i]
    alone = c.alone.get(i)
    give = abs(c.give.get(i, 0.0))
    item = {
        "rule": info.name,
        "description": info.description,
        "family": info.family,
        "words": _phrase(c.model, [i]),
        "relax_by": give,
        "relax_alone_by": None if alone is None else abs(alone),
        "unit": info.unit,
        "message": _item_message(c, i),
    }
    if i == c.model.budget_row:
        item["available"] = c.budget
        item["needed"] = c.budget + abs(alone if alone is not None else give)
    return item


def _item_message(c: _Conflict, i: int) -> str:
    """Say how far rule ``i`` must give way: alone, together with the others, or that it helps."""
    what = _named(c.model, [i])
    if i in c.alone:
        return _one(c, i, what, c.alone[i])
    if abs(c.give.get(i, 0.0)) > _TOL:
        return _one(c, i, what, c.give[i]) + " (together with the others)"
    return (
        f"{what} is part of the conflict: loosening it helps, "
        "but it cannot restore feasibility alone"
    )


def _one(c: _Conflict, i: int, what: str, signed: float) -> str:
    """Say "lower the Meta network floor (network_min__meta) by 12,000"."""
    info = c.model.rows[i]
    return f"{_verb1(info, signed)} {what} by {_amount(info, abs(signed), c.currency)}"


def _join(names: list[str]) -> str:
    """Join names as in a sentence: "a", "a and b", "a, b and c"."""
    if len(names) <= 1:
        return "".join(names) or "the rules"
    return ", ".join(names[:-1]) + " and " + names[-1]
