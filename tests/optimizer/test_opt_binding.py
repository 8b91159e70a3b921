"""One binding test for every solver: a rule is at its limit relative to the row's scale.

Pinned by the case that found it (issue 18): under CBC the period-change rule
``change_max__2027-02`` of ``test_opt_independent``'s case ``max_period_change``/3 (limit 0)
sits 1.1e-4 off its limit, where an absolute test of 1e-6 called it not binding with a price
of 0. The plan's rules and the lines' reasons read the same test
(``optimizer.solvers.row_tolerance``), so they cannot disagree on what binds.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import allocate
from optimizer.model import build_model
from optimizer.solvers import at_limits, make_solver, row_activity, row_tolerance
from optimizer.spec import PlanSpec
from tests.optimizer.test_opt_independent import case, check_plan, check_price

RULE = "change_max__2027-02"


@pytest.fixture(scope="module")
def pinned():
    cs = case("max_period_change", 3)
    model = build_model(cs.curves, PlanSpec.from_dict(cs.spec))
    return cs, model, model.row_index(RULE)


def test_cbc_sits_off_the_limit_by_more_than_an_absolute_tolerance(pinned):
    """The case still reproduces: CBC's plan is 1.1e-4 (not 1e-6) off the rule's limit of 0."""
    _, model, row = pinned
    sol = make_solver(model, "cbc").solve()
    assert model.rows[row].limit == 0.0
    off = float(model.row_ub[row] - row_activity(model, sol.x)[row])
    assert 1e-6 < abs(off) < 1e-3
    assert abs(off) <= row_tolerance(model, sol.x)[row]  # within the row's scale
    assert at_limits(model, sol.x)[0][row]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_the_rule_binds_with_its_price_under_every_solver(pinned, solver):
    cs, _, _ = pinned
    plan = allocate(cs.curves, cs.spec, solver=solver, with_ranges=False)
    rule = next(c for c in plan.constraints if c.name == RULE)
    assert rule.binding and rule.slack == 0.0 and rule.shadow_price > 1e-6
    x = check_plan(cs, plan)
    check_price(cs, "max_period_change", 3, plan, x, ("change_max", "2027-02"))


def test_the_tolerance_scales_with_the_row():
    """1e-6 of the largest of 1, the row's finite bounds and the size of its terms."""
    cs = case("max_period_change", 3)
    model = build_model(cs.curves, PlanSpec.from_dict(cs.spec))
    x = make_solver(model, "highs").solve().x
    size = row_activity(model, x, absolute=True)
    bounds = np.maximum(
        np.where(np.isfinite(model.row_lb), np.abs(model.row_lb), 0.0),
        np.where(np.isfinite(model.row_ub), np.abs(model.row_ub), 0.0),
    )
    want = 1e-6 * np.maximum.reduce([np.ones(model.n_row), size, bounds])
    np.testing.assert_array_equal(row_tolerance(model, x), want)
