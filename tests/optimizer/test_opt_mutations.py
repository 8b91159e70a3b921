"""Tests written for the mutations a mutation study of the optimizer found unnoticed.

Each test names the mutation it catches; together with the rest of tests/optimizer every
mutation of that study (42, listed in the closing note of the rule-family redesign) fails.
"""

from __future__ import annotations

import pytest

from optimizer import PlanSpec, SpecError, allocate
from optimizer.model import build_model
from optimizer.plan import read_plan
from optimizer.rules import OpenPart
from optimizer.solvers import make_solver

from .conftest import make_curves

A = {"network": "a", "segment": "all", "period": "2027-01"}
B = {"network": "b", "segment": "all", "period": "2027-01"}


def test_marginal_cost_is_read_from_the_tier_the_spend_is_in(ab, solver):
    """Mutation: the per-line marginal cost read from the first tier."""
    plan = allocate(ab, {"budget": 250}, solver=solver)
    a = next(ln for ln in plan.lines if ln.network == "a")
    assert a.spend == pytest.approx(150)
    assert a.marginal_cost_per_result == pytest.approx(1.0)  # second tier, slope 1


def test_a_line_min_above_its_max_is_refused(ab):
    """Mutation: line min > max accepted (it would read as infeasible rules instead)."""
    with pytest.raises(SpecError, match="min 50 is above max 10"):
        allocate(ab, {"budget": 100, "lines": [{**A, "min": 50, "max": 10}]})


def test_a_results_floor_on_the_plans_own_type_is_refused(ab):
    """Mutation: a floor on the result type the plan maximises accepted."""
    spec = {
        "budget": 100,
        "results_floors": [{"result_type": "purchases", "min": 1, "curves": ab.to_dict()}],
    }
    with pytest.raises(SpecError, match="a floor must be on another result type"):
        allocate(ab, spec)


def test_a_line_given_twice_is_refused(ab):
    """Mutation: the same line given twice accepted."""
    with pytest.raises(SpecError, match="appears twice"):
        allocate(ab, {"budget": 100, "lines": [{**A, "min": 1}, {**A, "max": 50}]})


def test_a_line_capped_at_zero_is_held_by_that_rule(ab, solver):
    """Mutation: a line_max of 0 not counted as holding the line at 0."""
    plan = allocate(ab, {"budget": 150, "lines": [{**B, "max": 0}]}, solver=solver)
    (u,) = plan.unfunded
    assert (u["cause"], u["rule"]) == ("rule", "line_max__b/all/2027-01")
    assert u["reason"].startswith("held by a rule: line b/all/2027-01 at most 0 EUR")


def test_a_floor_on_a_group_whose_lines_are_all_excluded_is_refused(ab):
    """Mutation: such a floor silently dropped."""
    spec = {"budget": 100, "exclude": {"lines": [B]}, "networks": {"b": {"min": 10}}}
    with pytest.raises(SpecError, match="whose every line 'exclude' removes"):
        allocate(ab, spec)


def test_the_unspent_budget_note_names_the_lock_that_holds_a_line(ab, solver):
    """Mutation: the lock holding B at 50 (of the 100 its curve absorbs) not named.

    A is at the end of its curve (200); B could take 50 more but its lock holds it: the lock
    is what stops more spend, and the note and ``unspent.stopped_by`` say so.
    """
    plan = allocate(ab, {"budget": 1000, "lines": [{**B, "lock": 50}]}, solver=solver)
    (note,) = plan.notes
    assert "lock__b/all/2027-01, 1 line" in note
    (held, end) = plan.unspent["stopped_by"]
    assert (held["rule"], held["lines"], held["room"]) == ("lock__b/all/2027-01", 1, 50.0)
    assert (end["cause"], end["lines"]) == ("curve_end", 1)
    assert plan.unspent["amount"] == pytest.approx(750.0)


def test_a_rule_with_room_to_spare_has_no_price(ab):
    """Mutation: a stray dual kept on a rule with slack (complementary slackness)."""
    spec = PlanSpec.from_dict({"budget": 1000})
    model = build_model(ab, spec)
    sol = make_solver(model).solve()
    sol.row_dual[model.budget_row] = 0.7  # a solver's stray dual on a row with room to spare
    plan = read_plan(model, sol, curves=ab, spec=spec)
    budget = next(c for c in plan.constraints if c.name == "budget")
    assert not budget.binding and budget.shadow_price == 0.0


# ---- re-plan rewrites (RuleFamily.rewrite through PlanSpec.for_open_part)
TWO = {
    ("a", "all", "2027-01"): [[0, 0], [100, 50]],
    ("a", "all", "2027-02"): [[0, 0], [100, 50]],
    ("b", "all", "2027-02"): [[0, 0], [100, 50]],
}


def _part(**kw) -> OpenPart:
    open_curves = make_curves({k: v for k, v in TWO.items() if k[2] == "2027-02"})
    d: dict = {
        "curves": open_curves,
        "status": {"2027-01": "elapsed", "2027-02": "open"},
        "current": {},
        "locked": {},
        "done": {"networks": {}, "segments": {}},
        "now": {},
        "budget": 1000.0,
        "left": 1000.0,
        "convert": False,
    }
    d.update(kw)
    return OpenPart(**d)


def test_replan_floor_counts_what_the_locked_lines_brought():
    leads = make_curves(TWO, "leads").to_dict()
    floors = [{"result_type": "leads", "min": 80, "curves": leads}]
    spec = PlanSpec.from_dict({"budget": 1000, "results_floors": floors})
    new = spec.for_open_part(_part(locked={("a", "all", "2027-01"): 100.0}))
    assert new.results_floors[0].min == pytest.approx(30)  # 80 - 50 from the locked line


def test_replan_share_cap_counts_the_spend_already_made():
    spec = PlanSpec.from_dict({"budget": 1000, "networks": {"a": {"max_share": 0.5}}})
    done = {"networks": {"a": 200.0}, "segments": {}}
    new = spec.for_open_part(_part(convert=True, done=done, left=800.0))
    assert new.networks["a"].max == pytest.approx(300)  # 0.5 x 1000 - 200 spent


def test_replan_keeps_the_current_periods_spend_as_a_floor():
    rule = {"network": "a", "segment": "all", "period": "2027-02", "min": 10}
    spec = PlanSpec.from_dict({"budget": 1000, "lines": [rule]})
    status = {"2027-01": "elapsed", "2027-02": "current"}
    new = spec.for_open_part(_part(status=status, current={("a", "all", "2027-02"): 40.0}))
    assert new.lines[0].min == pytest.approx(40)


def test_replan_counts_the_lines_already_on_against_the_active_line_limit():
    spec = PlanSpec.from_dict({"budget": 1000, "max_active_lines": 3})
    locked = {("a", "all", "2027-01"): 100.0, ("b", "all", "2027-01"): 0.0}
    new = spec.for_open_part(_part(locked=locked))
    assert new.max_active_lines == 2
