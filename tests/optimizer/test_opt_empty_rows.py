"""A rule whose lines are all excluded leaves an empty row: the plan is still read right."""

from __future__ import annotations

import pytest

from optimizer import allocate


def test_results_floor_on_excluded_lines_only(ab, solver):
    leads = {
        "result_type": "leads",
        "lines": [
            {"network": "b", "segment": "all", "period": "2027-01", "points": [[0, 0], [100, 50]]}
        ],
    }
    spec = {
        "budget": 150,
        "exclude": {"networks": ["b"]},
        "results_floors": [{"result_type": "leads", "min": 0, "curves": leads}],
    }
    plan = allocate(ab, spec, solver=solver)
    # B is excluded: all 150 on A (100 at slope 2, 50 at slope 1), no lead comes from B
    assert plan.expected_results == pytest.approx(250.0, abs=1e-6)
    assert plan.other_results["leads"] == pytest.approx(0.0, abs=1e-9)
    floor = next(c for c in plan.constraints if c.name == "results_floor__leads")
    assert floor.slack == pytest.approx(0.0, abs=1e-9)
