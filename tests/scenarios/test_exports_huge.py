"""A line with almost no results has a cost per result of 1e27: every export still writes it.

``scenarios.money.round_half`` rounds a figure's decimal form, which Python's decimal module
holds to 28 digits: a figure of 1e26 or more made ``quantize`` raise InvalidOperation, and
the HTML report and the workbook with it. Figures from 1e15 on have no cents a float can
hold; they are kept as they are.
"""

from __future__ import annotations

import math

from openpyxl import load_workbook

from optimizer import Curves, PlanSpec, allocate
from scenarios.exports import write_plan
from scenarios.money import round_half


def test_round_half_keeps_huge_and_non_finite_figures():
    assert round_half(1e27) == 1e27 and round_half(-3e30, 2) == -3e30
    assert math.isinf(round_half(math.inf)) and math.isnan(round_half(math.nan))
    assert round_half(999_999_999_999.995) == 1_000_000_000_000.0  # below HUGE: still cents


def test_a_plan_with_a_cost_per_result_of_1e27_exports_everywhere(tmp_path):
    curves = Curves.from_dict(
        {
            "currency": "EUR",
            "result_type": "purchases",
            "lines": [
                {"network": "meta", "segment": "a", "period": "2027-01",
                 "points": [[0, 0], [1000, 1e-24]]},
                {"network": "tiktok", "segment": "a", "period": "2027-01",
                 "points": [[0, 0], [100, 50]]},
            ],
        }
    )  # fmt: skip
    plan = allocate(curves, PlanSpec.from_dict({"budget": 1100}))
    meta = next(ln for ln in plan.lines if ln.network == "meta")
    assert meta.spend > 0 and meta.cost_per_result > 1e26
    for suffix in (".json", ".csv", ".xlsx", ".html"):
        assert write_plan(plan, tmp_path / f"plan{suffix}").stat().st_size > 0
    lines = load_workbook(tmp_path / "plan.xlsx")["Lines"]
    texts = [c.value for row in lines.iter_rows() for c in row]
    assert any(isinstance(v, float) and v > 1e26 for v in texts)
