"""Why a plan is infeasible, and the smallest change that fixes it (an elastic LP).

Every rule row gets a slack column (two for an equality) that lets it give way, and the LP
minimises the total give. Locked lines are facts (in a re-plan, spend already made), not rules:
their rows get no slack, unless the locks alone cannot hold (a lock above what its line's curve
absorbs). Rules whose rows carry a dual or a slack in that LP form the conflict, ordered by how
much they give way (then by dual); each of the first few is tried alone (only its slack allowed)
to say whether relaxing it alone is enough. The message names at most ``MAX_NAMED`` rules
("and N more"); the full list is the diagnosis.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .model import Model, RowInfo
from .rules import BY_FAMILY, RuleFamily, fmt
from .solvers import HighsSolver

MAX_ALONE_TRIES = 8
#: rules named in the message; the diagnosis lists them all
MAX_NAMED = 8
#: rule families that are facts, never relaxed (unless they alone cannot hold)
FACT_FAMILIES = frozenset({"lock"})
_FLOOR_WORDS = {"network_min": "network", "segment_min": "segment", "period_min": "period"}


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


def _action(info: RowInfo, amount: float) -> str:
    """Say how to relax the row ``info`` by ``amount``, in its family's words."""
    family = BY_FAMILY.get(info.family)
    return (family or RuleFamily()).action(info, amount)


def diagnose(model: Model, budget: float) -> tuple[str, list[dict]]:
    """Return the message and the diagnosis list for an infeasible ``model``.

    ``budget`` is the plan's budget, used to say how much of it the rules need.
    """
    solver, sol, slacks = _elastic_solve(model)
    if not sol.optimal:  # pragma: no cover - the elastic LP is always feasible
        return "the rules cannot all hold, and the elastic LP failed too", []
    give: dict[int, float] = {}
    for row, col, _ in slacks:
        if sol.x[col] > 1e-7:
            give[row] = give.get(row, 0.0) + float(sol.x[col])
    relaxable = {row for row, _, _ in slacks}
    conflict = [
        i
        for i, info in enumerate(model.rows)
        if info.report and i in relaxable and (abs(sol.row_dual[i]) > 1e-9 or i in give)
    ]
    # what matters most first: the budget, then the rules that give way most, then by dual
    conflict.sort(
        key=lambda i: (i != model.budget_row, -give.get(i, 0.0), -abs(sol.row_dual[i]), i)
    )
    alone = _alone(solver, slacks, conflict[:MAX_ALONE_TRIES])
    # locked lines (facts) that take part: rows without slack that carry a dual
    locked = any(
        info.report
        and info.family in FACT_FAMILIES
        and i not in relaxable
        and abs(sol.row_dual[i]) > 1e-9
        for i, info in enumerate(model.rows)
    )
    msg = _message(model, budget, conflict, give, alone, locked)
    return msg, [_item(model, i, budget, give, alone) for i in conflict]


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


def _alone(solver: HighsSolver, slacks, rows: list[int]) -> dict[int, float]:
    """Return, for each of ``rows`` that can restore feasibility alone, how far it must give."""
    slack_cols = np.array([c for _, c, _ in slacks], dtype=np.int32)
    alone: dict[int, float] = {}
    for i in rows:
        ub = np.zeros(len(slacks))
        ub[[k for k, s in enumerate(slacks) if s[0] == i]] = np.inf
        solver.h.changeColsBounds(len(slack_cols), slack_cols, np.zeros(len(slacks)), ub)
        s1 = solver.solve()
        if s1.optimal:
            alone[i] = float(sum(s1.x[c] for r, c, _ in slacks if r == i))
    return alone


def _message(model: Model, budget: float, conflict, give, alone, locked: bool) -> str:
    """Say which rules conflict and the smallest changes that make them hold."""
    shown = sorted(conflict[:MAX_NAMED], key=lambda i: (i != model.budget_row, i))  # spec order
    more = len(conflict) - len(shown)
    names = [model.rows[i].name for i in shown]
    head = _head(model, budget, conflict, shown, more, alone, locked)
    options = [_action(model.rows[i], alone[i]) for i in shown if i in alone]
    together = [_action(model.rows[i], give[i]) for i in shown if i in give]
    tail = f" ({more} more rules take part: see the diagnosis)" if more else ""
    if not options:
        return (
            f"the rules cannot all hold ({_join(names, more)}), and none of them can give way "
            f"alone: {', '.join(together)}{tail}"
        )
    msg = f"{head}: {' or '.join(options)}"
    if len(together) > 1 or (together and together[0] not in options):
        msg += f" (or, together: {', '.join(together)})"
    return msg + tail


def _head(model: Model, budget: float, conflict, shown, more: int, alone, locked: bool) -> str:
    """Say what conflicts: floors that need more than the budget, or the rules by name."""
    bi = model.budget_row
    others = [i for i in shown if i != bi]
    if bi in alone and all(model.rows[i].sense == "min" for i in conflict if i != bi):
        what = [_floors(model, others, more)] if others else []
        if locked:
            what.append("the locked lines")
        what_text = " and ".join(what) if what else "the rules"
        if not others and locked:
            what_text = "the locked lines"
        elif others:
            what_text = "the " + what_text
        return f"{what_text} need {fmt(budget + alone[bi])} of a {fmt(budget)} budget"
    head = f"the rules cannot all hold: {_join([model.rows[i].name for i in shown], more)} conflict"
    if bi in alone:
        head += f"; they need {fmt(budget + alone[bi])} of a {fmt(budget)} budget"
    return head


def _item(model: Model, i: int, budget: float, give, alone) -> dict:
    """Return the diagnosis entry of conflicting row ``i``."""
    info = model.rows[i]
    item = {
        "rule": info.name,
        "description": info.description,
        "relax_by": give.get(i, 0.0),
        "relax_alone_by": alone.get(i),
        "unit": info.unit,
        "message": _item_message(info, alone.get(i), give.get(i, 0.0)),
    }
    if i == model.budget_row:
        item["available"] = budget
        item["needed"] = budget + alone.get(i, give.get(i, 0.0))
    return item


def _floors(model: Model, rows: list[int], more: int) -> str:
    """'meta and tiktok network floors', or the rule names when the floors are of mixed kinds."""
    fams = {model.rows[i].family for i in rows}
    word = "floor" if len(rows) == 1 and not more else "floors"
    if len(fams) == 1 and (fam := fams.pop()) in _FLOOR_WORDS:
        labels = [model.rows[i].target[0] for i in rows]
        return f"{_join(labels, more)} {_FLOOR_WORDS[fam]} {word}"
    return f"{_join([model.rows[i].name for i in rows], more)} {word}"


def _item_message(info: RowInfo, alone: float | None, give: float) -> str:
    if alone is not None:
        return _action(info, alone)
    if give > 1e-7:
        return _action(info, give) + " (together with the others)"
    return (
        f"{info.name} ({info.description}) is part of the conflict: loosening it helps, "
        "but it cannot restore feasibility alone"
    )


def _join(names: list[str], more: int = 0) -> str:
    if more:
        return ", ".join(names) + f" and {more} more"
    if len(names) <= 1:
        return "".join(names) or "the rules"
    return ", ".join(names[:-1]) + " and " + names[-1]
