"""A risk-aware plan through the scenario layer: a re-plan keeps its alpha and its risk."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from optimizer import Curves, PlanSpec, allocate, load_curves
from optimizer.curves import Spread
from scenarios.replan import replan

from .test_scn_replan import ACTUALS


def _unsure(examples_dir) -> Curves:
    curves = load_curves(examples_dir / "curves.json")
    sp = Spread(0.02, 7.0, 0.1, 0.01)
    return Curves(
        tuple(replace(ln, spread=sp) for ln in curves.lines),
        curves.currency,
        curves.result_type,
    )


def test_a_replan_of_a_risk_aware_plan_keeps_its_alpha_and_risk(examples_dir):
    curves = _unsure(examples_dir)
    spec = PlanSpec.from_dict({"budget": 60000, "objective": "cvar", "alpha": 0.3})
    res = replan(curves, spec, ACTUALS, dt.date(2027, 2, 15))
    assert res.plan.objective == "cvar"
    assert res.plan.risk["alpha"] == 0.3
    assert res.plan.risk["mean_results_given_up"] >= 0
    assert "alpha 0.3" in res.plan.risk["words"]


def test_a_risk_aware_plan_lists_the_lines_it_leaves_out(examples_dir):
    curves = _unsure(examples_dir)
    plan = allocate(curves, {"budget": 20000, "objective": "cvar"})
    zero = {(p.network, p.segment, p.period) for p in plan.lines if p.spend == 0}
    assert zero, "the budget funds every line: the check means nothing"
    listed = {(u["network"], u["segment"], u["period"]) for u in plan.unfunded}
    assert listed == zero
    assert all(u["cause"] is None and "risk-aware" in u["reason"] for u in plan.unfunded)


def test_exports_of_a_risk_aware_plan_say_what_its_prices_are_and_add_up(examples_dir):
    import re

    from scenarios.exports.html import ledger_section, range_table
    from scenarios.exports.plan import CVAR_SHADOW_NOTE, objective_labels

    plan = allocate(_unsure(examples_dir), {"budget": 20000, "objective": "cvar"})
    assert CVAR_SHADOW_NOTE in ledger_section(plan).replace("&#x27;", "'")
    assert "not re-solved" in objective_labels(plan)["gain"]
    assert any(c.per_1000 for c in plan.constraints if c.binding)
    cells = re.findall(r'<td class="n">([0-9,.]+)</td>', range_table(plan, "network"))
    spend = [float(x.replace(",", "")) for x in cells[0::2]]
    assert round(sum(spend), 2) == round(plan.total_spend, 2)  # shown lines add up
